package io.hoptrace.proxy.outbound;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

/**
 * Moves the exchange off the I/O thread: the stages after it resolve names and consult the
 * correlator, which must not stall the other connections of an I/O thread.
 */
final class WorkerDispatchHandler implements HttpHandler {
  private final HttpHandler next;

  WorkerDispatchHandler(HttpHandler next) {
    this.next = next;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    if (exchange.isInIoThread()) {
      exchange.dispatch(this);
      return;
    }
    next.handleRequest(exchange);
  }
}
