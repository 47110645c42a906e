package io.hoptrace.proxy.inbound;

import io.hoptrace.config.Settings;
import io.hoptrace.context.TraceContext;
import io.hoptrace.proxy.upstream.Carriers;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.UUID;

/**
 * Stage 2: decides this hop's SERVER span: continue the caller's context when it is valid and comes
 * from a trusted source, otherwise start (or restart) a trace; keeps or makes the request id.
 */
final class TraceContextHandler implements HttpHandler {
  private final HttpHandler next;
  private final String requestIdHeader;

  TraceContextHandler(Settings settings, HttpHandler next) {
    this.requestIdHeader = settings.propagation().requestIdHeader();
    this.next = next;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    InboundExchange state = exchange.getAttachment(InboundExchange.KEY);
    String requestId = Carriers.UNDERTOW_GETTER.get(exchange.getRequestHeaders(), requestIdHeader);
    if (requestId == null || requestId.isEmpty()) requestId = UUID.randomUUID().toString();
    state.requestId = requestId;
    state.server = TraceContext.newRoot(requestId);
    state.contextTag = "started";
    next.handleRequest(exchange);
  }
}
