package io.hoptrace.proxy.inbound;

import io.hoptrace.config.HostPort;
import io.hoptrace.config.Settings;
import io.hoptrace.context.TraceContext;
import io.hoptrace.propagation.Injector;
import io.hoptrace.propagation.w3c.TraceresponseCodec;
import io.hoptrace.proxy.upstream.Carriers;
import io.hoptrace.proxy.upstream.ForwardHooks;
import io.hoptrace.proxy.upstream.UpstreamForwarder;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import org.eclipse.jetty.http.HttpFields;

/**
 * Stage 4: forwards to the app, handing it a {@code traceparent} that names this hop's SERVER span
 * (and the request id), and answers the caller with {@code traceresponse} when enabled.
 */
final class AppForwardHandler implements HttpHandler, ForwardHooks {
  private final UpstreamForwarder forwarder;
  private final HostPort app;
  private final Injector injector;
  private final String requestIdHeader;
  private final boolean traceresponse;
  private final boolean respondRequestId;

  AppForwardHandler(Settings settings, UpstreamForwarder forwarder) {
    this.forwarder = forwarder;
    Settings.Propagation p = settings.propagation();
    Injector.Builder b =
        Injector.newBuilder()
            .b3(
                switch (p.b3()) {
                  case NONE -> Injector.B3Style.NONE;
                  case SINGLE -> Injector.B3Style.SINGLE;
                  case MULTI -> Injector.B3Style.MULTI;
                })
            .requestIdHeader(p.requestIdHeader());
    if (p.legacyTraceId() != null && p.legacySpanId() != null) {
      b.legacyPair(p.legacyTraceId(), p.legacySpanId());
    }
    this.injector = b.build();
    this.app = settings.app();
    this.requestIdHeader = settings.propagation().requestIdHeader();
    this.traceresponse = settings.response().traceresponse();
    this.respondRequestId = settings.response().requestId();
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) {
    forwarder.forward(exchange, app, this);
  }

  @Override
  public void proxyToServerHeaders(HttpServerExchange exchange, HttpFields.Mutable headers) {
    InboundExchange state = exchange.getAttachment(InboundExchange.KEY);
    TraceContext server = state.server;
    if (server == null) return;
    // Replaces every trace header the caller sent (stale B3 included) with this hop's.
    injector.inject(server, headers, Carriers.JETTY_SETTER);
  }

  @Override
  public void proxyToClientHeaders(HttpServerExchange exchange, HeaderMap headers) {
    headers.add(Headers.VIA, ForwardedHeadersHandler.via(exchange));
    InboundExchange state = exchange.getAttachment(InboundExchange.KEY);
    if (state == null || state.server == null) return;
    // The app has answered: from now on this request is not in flight at the app.
    Runnable appResponded = state.appResponded;
    if (appResponded != null) appResponded.run();
    if (traceresponse) {
      Carriers.UNDERTOW_SETTER.set(
          headers, TraceresponseCodec.NAME, TraceresponseCodec.toString(state.server));
    }
    if (respondRequestId && state.requestId != null) {
      Carriers.UNDERTOW_SETTER.set(headers, requestIdHeader, state.requestId);
    }
  }
}
