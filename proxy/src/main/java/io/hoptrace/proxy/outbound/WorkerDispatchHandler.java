package io.hoptrace.proxy.outbound;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

/**
 * Moves the exchange off the I/O thread when a later stage may block: the loop guard resolves the
 * target's name. With {@code onlyForNames} an address-literal target (nothing to resolve) stays on
 * the I/O thread, saving two thread hand-offs per request (to a worker and back; bench/README.md,
 * "Profile findings"); the correlate stage then moves to a worker itself if its decision needs the
 * blocking process evidence.
 */
final class WorkerDispatchHandler implements HttpHandler {
  private final HttpHandler next;
  private final boolean onlyForNames;

  WorkerDispatchHandler(HttpHandler next, boolean onlyForNames) {
    this.next = next;
    this.onlyForNames = onlyForNames;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    if (exchange.isInIoThread() && !(onlyForNames && hasLiteralTarget(exchange))) {
      exchange.dispatch(this);
      return;
    }
    next.handleRequest(exchange);
  }

  private static boolean hasLiteralTarget(HttpServerExchange exchange) {
    OutboundTarget target = exchange.getAttachment(OutboundAttachments.TARGET);
    return target != null && target.addressLiteral();
  }

  /** See {@link OutboundTarget#isAddressLiteral}. */
  static boolean isAddressLiteral(String host) {
    return OutboundTarget.isAddressLiteral(host);
  }
}
