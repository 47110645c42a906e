package io.hoptrace.proxy.inbound;

import io.hoptrace.config.Settings;
import io.hoptrace.context.TraceContext;
import io.hoptrace.correlation.InboundRegistry;
import io.hoptrace.propagation.CompositeExtractor;
import io.hoptrace.propagation.Extraction;
import io.hoptrace.propagation.requestid.RequestIdCodec;
import io.hoptrace.proxy.upstream.Carriers;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.ServerConnection;
import io.undertow.util.AttachmentKey;
import java.net.InetSocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * Stage 2: decides this hop's SERVER span. The caller's context is continued when it is valid and
 * the caller is in a trusted range, otherwise the trace starts (none came) or restarts (the
 * original is kept for {@code hoptrace.rejected}). The request id is kept or generated. The request
 * is registered so that the outbound hop can link the app's calls to it.
 */
final class TraceContextHandler implements HttpHandler {
  private final HttpHandler next;
  private final Settings settings;
  private final CompositeExtractor extractor;
  private final InboundRegistry registry;
  private final RouteKeys routeKeys = new RouteKeys();
  // Per handler, so a handler built with other settings decides again.
  private final AttachmentKey<Boolean> trustedKey = AttachmentKey.create(Boolean.class);

  TraceContextHandler(
      Settings settings, CompositeExtractor extractor, InboundRegistry registry, HttpHandler next) {
    this.settings = settings;
    this.extractor = extractor;
    this.registry = registry;
    this.next = next;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    InboundExchange state = exchange.getAttachment(InboundExchange.KEY);
    boolean trusted = trusted(exchange.getConnection(), state.caller.address);
    Extraction extraction =
        extractor.extract(exchange.getRequestHeaders(), Carriers.UNDERTOW_GETTER, trusted);

    TraceContext server = extraction.newServerContext(RequestIdCodec::newRequestId);
    state.server = server;
    state.requestId = server.requestId();
    state.contextTag = extraction.outcome().tagValue();
    state.rejected = extraction.rejected();
    RouteKeys.Route route =
        routeKeys.of(exchange.getRequestMethod().toString(), exchange.getRequestPath());
    state.route = route;
    state.registered =
        registry.begin(
            server,
            route.key(),
            server.requestId(),
            null,
            // The request's start, when it is a reading of the registry's clock: one read less.
            registry.ticker().readAt(state.startNanos),
            exchange.getQueryString());
    next.handleRequest(exchange);
  }

  /**
   * Whether the connection's peer is in {@code trust.sources}: decided on its first request and
   * kept on the connection (its peer and this handler's ranges never change). Each range's test
   * copied and masked the address bytes (two arrays per range) on every request.
   */
  private boolean trusted(ServerConnection connection, @Nullable InetSocketAddress peer) {
    Boolean kept = connection.getAttachment(trustedKey);
    if (kept != null) return kept;
    boolean trusted =
        peer != null && peer.getAddress() != null && settings.trusted(peer.getAddress());
    connection.putAttachment(trustedKey, trusted);
    return trusted;
  }
}
