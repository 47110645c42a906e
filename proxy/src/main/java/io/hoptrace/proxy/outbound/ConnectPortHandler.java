package io.hoptrace.proxy.outbound;

import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.Set;

/**
 * Stage 3 for CONNECT: a tunnel carries bytes hoptrace cannot see, so it opens only to the allowed
 * ports (by default 443). Otherwise any app could use the sidecar to reach any TCP service.
 */
final class ConnectPortHandler implements HttpHandler {
  private final Set<Integer> allowedPorts;
  private final ProxyMetrics metrics;
  private final HttpHandler next;

  ConnectPortHandler(Set<Integer> allowedPorts, ProxyMetrics metrics, HttpHandler next) {
    this.allowedPorts = Set.copyOf(allowedPorts);
    this.metrics = metrics;
    this.next = next;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    OutboundTarget target = exchange.getAttachment(OutboundAttachments.TARGET);
    if (target == null || !allowedPorts.contains(target.port())) {
      Refusal.CONNECT_PORT.answer(
          exchange,
          metrics,
          (target == null ? "?" : String.valueOf(target.port()))
              + " (allowed: "
              + allowedPorts
              + ")");
      return;
    }
    next.handleRequest(exchange);
  }
}
