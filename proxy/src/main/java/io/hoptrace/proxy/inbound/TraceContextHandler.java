package io.hoptrace.proxy.inbound;

import io.hoptrace.config.Settings;
import io.hoptrace.context.TraceContext;
import io.hoptrace.propagation.CompositeExtractor;
import io.hoptrace.propagation.Extraction;
import io.hoptrace.propagation.requestid.RequestIdCodec;
import io.hoptrace.proxy.upstream.Carriers;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.net.InetSocketAddress;

/**
 * Stage 2: decides this hop's SERVER span: continue the caller's context when it is valid and comes
 * from a trusted source, otherwise start (or restart) a trace; keeps or makes the request id.
 */
final class TraceContextHandler implements HttpHandler {
  private final HttpHandler next;
  private final Settings settings;
  private final CompositeExtractor extractor;

  TraceContextHandler(Settings settings, HttpHandler next) {
    this.settings = settings;
    Settings.Propagation p = settings.propagation();
    CompositeExtractor.Builder b =
        CompositeExtractor.newBuilder()
            .b3(true) // incoming B3 is read whatever propagation.b3 writes
            .requestIdHeader(p.requestIdHeader())
            .tracestateMaxLength(p.tracestateMaxLength());
    if (p.legacyTraceId() != null && p.legacySpanId() != null) {
      b.legacyPair(p.legacyTraceId(), p.legacySpanId());
    }
    this.extractor = b.build();
    this.next = next;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    InboundExchange state = exchange.getAttachment(InboundExchange.KEY);
    InetSocketAddress peer = exchange.getSourceAddress();
    boolean trusted =
        peer != null && peer.getAddress() != null && settings.trusted(peer.getAddress());
    Extraction extraction =
        extractor.extract(exchange.getRequestHeaders(), Carriers.UNDERTOW_GETTER, trusted);
    TraceContext server = extraction.newServerContext();
    String requestId = extraction.requestId();
    if (requestId == null) {
      requestId = RequestIdCodec.newRequestId();
      server = server.toBuilder().requestId(requestId).build();
    }
    state.requestId = requestId;
    state.server = server;
    state.contextTag = extraction.outcome().tagValue();
    state.rejected = extraction.rejected();
    next.handleRequest(exchange);
  }
}
