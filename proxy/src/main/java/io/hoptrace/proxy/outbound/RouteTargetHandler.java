package io.hoptrace.proxy.outbound;

import static java.util.Objects.requireNonNull;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;

/**
 * Stage 2 on a named route's port: the target is the route's upstream, whatever the request says.
 * The app calls {@code 127.0.0.1:PORT} as if it were the callee, so the Host it sends names us; the
 * callee gets its own authority instead.
 */
final class RouteTargetHandler implements HttpHandler {
  private final OutboundTarget target;
  private final HttpHandler next;

  RouteTargetHandler(OutboundTarget target, HttpHandler next) {
    this.target = requireNonNull(target, "target");
    if (target.route() == null) throw new IllegalArgumentException("target.route: null");
    this.next = next;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    exchange.putAttachment(OutboundAttachments.TARGET, target);
    exchange.getRequestHeaders().put(Headers.HOST, target.authority());
    next.handleRequest(exchange);
  }
}
