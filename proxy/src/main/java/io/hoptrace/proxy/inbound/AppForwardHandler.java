package io.hoptrace.proxy.inbound;

import io.hoptrace.config.HostPort;
import io.hoptrace.config.Settings;
import io.hoptrace.context.TraceContext;
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
  private final String requestIdHeader;
  private final boolean traceresponse;
  private final boolean respondRequestId;

  AppForwardHandler(Settings settings, UpstreamForwarder forwarder) {
    this.forwarder = forwarder;
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
    Carriers.JETTY_SETTER.set(headers, "traceparent", traceparent(server));
    if (state.requestId != null) {
      Carriers.JETTY_SETTER.set(headers, requestIdHeader, state.requestId);
    }
  }

  @Override
  public void proxyToClientHeaders(HttpServerExchange exchange, HeaderMap headers) {
    headers.add(Headers.VIA, ForwardedHeadersHandler.via(exchange));
    InboundExchange state = exchange.getAttachment(InboundExchange.KEY);
    if (state == null || state.server == null) return;
    if (traceresponse) {
      Carriers.UNDERTOW_SETTER.set(headers, "traceresponse", traceparent(state.server));
    }
    if (respondRequestId && state.requestId != null) {
      Carriers.UNDERTOW_SETTER.set(headers, requestIdHeader, state.requestId);
    }
  }

  // Interim until the codecs land: the W3C version-00 form of a context.
  private static String traceparent(TraceContext context) {
    return "00-"
        + context.traceIdString()
        + "-"
        + context.spanIdString()
        + "-"
        + (context.sampled() ? "01" : "00");
  }
}
