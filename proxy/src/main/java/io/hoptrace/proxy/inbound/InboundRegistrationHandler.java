package io.hoptrace.proxy.inbound;

import static java.util.Objects.requireNonNull;

import io.hoptrace.context.TraceContext;
import io.hoptrace.correlation.InboundRegistry;
import io.hoptrace.correlation.InboundRequest;
import io.hoptrace.store.Ticker;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

/**
 * Stage 2b: tells the outbound hop's correlator about this request: registered and in flight at the
 * app from the moment it is forwarded, ended when the app's response headers arrive (or, failing
 * that, when the exchange completes). The registry's rings bound what this holds, whatever the
 * callers do.
 *
 * <p>"Delivered" is taken as the moment forwarding starts, a little before the app has the headers:
 * the app cannot call out on this request's behalf before then, so nothing is misread.
 */
final class InboundRegistrationHandler implements HttpHandler {
  private final InboundRegistry registry;
  private final Ticker ticker;
  private final HttpHandler next;

  InboundRegistrationHandler(InboundRegistry registry, HttpHandler next) {
    this.registry = requireNonNull(registry, "registry");
    this.ticker = registry.ticker();
    this.next = next;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    InboundExchange state = exchange.getAttachment(InboundExchange.KEY);
    TraceContext server = state == null ? null : state.server;
    if (server == null) {
      next.handleRequest(exchange);
      return;
    }
    InboundRequest request =
        registry.begin(
            server,
            exchange.getRequestMethod() + " " + exchange.getRequestPath(),
            state.requestId,
            null,
            ticker.read());
    state.appResponded = () -> registry.end(request, ticker.read());
    exchange.addExchangeCompleteListener(
        (ex, nextListener) -> {
          try {
            registry.end(request, ticker.read());
          } finally {
            nextListener.proceed();
          }
        });
    registry.delivered(request, ticker.read());
    next.handleRequest(exchange);
  }
}
