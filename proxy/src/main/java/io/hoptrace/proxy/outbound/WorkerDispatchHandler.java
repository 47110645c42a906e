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
    return target != null && isAddressLiteral(target.host());
  }

  /**
   * True for a host that {@link java.net.InetAddress#getAllByName} parses without a name lookup: a
   * dotted-quad IPv4 address (each part 0-255) or an IPv6 literal (a colon; brackets are already
   * stripped). Anything else counts as a name.
   */
  static boolean isAddressLiteral(String host) {
    if (host.indexOf(':') >= 0) return true;
    int parts = 0;
    int value = -1;
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      if (c == '.') {
        if (value < 0) return false;
        parts++;
        value = -1;
      } else if (c >= '0' && c <= '9') {
        value = (value < 0 ? 0 : value * 10) + (c - '0');
        if (value > 255) return false;
      } else {
        return false;
      }
    }
    return value >= 0 && parts == 3;
  }
}
