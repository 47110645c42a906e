package io.hoptrace.proxy.outbound;

import static java.util.Objects.requireNonNull;

import io.hoptrace.proxy.guard.Refusals;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.Set;

/**
 * Stage 3 for CONNECT: a tunnel carries bytes hoptrace cannot see, so it opens only to the allowed
 * ports (by default 443). Otherwise any app could use the sidecar to reach any TCP service.
 */
final class ConnectPortHandler implements HttpHandler {
  private final Set<Integer> allowedPorts;
  private final Refusals refusals;
  private final HttpHandler next;

  ConnectPortHandler(Set<Integer> allowedPorts, Refusals refusals, HttpHandler next) {
    this.allowedPorts = Set.copyOf(allowedPorts);
    this.refusals = requireNonNull(refusals, "refusals");
    this.next = next;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    OutboundTarget target = exchange.getAttachment(OutboundAttachments.TARGET);
    if (target == null || !allowedPorts.contains(target.port())) {
      refusals.refuse(
          exchange,
          Refusal.CONNECT_PORT,
          (target == null ? "?" : String.valueOf(target.port()))
              + " (allowed: "
              + allowedPorts
              + ")");
      return;
    }
    next.handleRequest(exchange);
  }
}
