package io.hoptrace.proxy.outbound;

import static java.util.Objects.requireNonNull;

import io.hoptrace.proxy.CallerAddress;
import io.hoptrace.proxy.guard.Refusals;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.function.Predicate;

/**
 * Stage 1: only allowed sources (by default loopback) may use the outbound listeners. An open
 * forward proxy on a pod's network would let anyone reach whatever the pod can reach.
 */
final class SourceAccessHandler implements HttpHandler {
  private final Predicate<InetAddress> allowedSources;
  private final Refusals refusals;
  private final HttpHandler next;

  SourceAccessHandler(Predicate<InetAddress> allowedSources, Refusals refusals, HttpHandler next) {
    this.allowedSources = requireNonNull(allowedSources, "allowedSources");
    this.refusals = requireNonNull(refusals, "refusals");
    this.next = next;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    // The connection's peer, kept on it (CallerAddress): a connection's peer never changes.
    InetSocketAddress source = CallerAddress.of(exchange).address;
    InetAddress address = source == null ? null : source.getAddress();
    if (address == null || !allowedSources.test(address)) {
      refusals.refuse(
          exchange, Refusal.SOURCE, address == null ? "unknown" : address.getHostAddress());
      return;
    }
    next.handleRequest(exchange);
  }
}
