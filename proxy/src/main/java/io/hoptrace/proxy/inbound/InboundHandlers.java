package io.hoptrace.proxy.inbound;

import io.hoptrace.config.Settings;
import io.hoptrace.correlation.InboundRegistry;
import io.hoptrace.propagation.CompositeExtractor;
import io.hoptrace.propagation.Injector;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.proxy.spanlog.SpanLogWriter;
import io.hoptrace.proxy.upstream.Forwarder;
import io.undertow.server.HttpHandler;
import io.undertow.server.handlers.HttpContinueReadHandler;

/** The inbound hop, composed in one visible place: each stage hands on to the next. */
public final class InboundHandlers {
  /**
   * caller → span recording → trace context (extract, register) → forwarded headers → [WebSocket
   * handshake relay, when {@code inbound.websocket}] → app (inject). {@code Expect: 100-continue}
   * is answered when the body is first read, which is when the app asked for it.
   */
  public static HttpHandler create(
      Settings settings,
      CompositeExtractor extractor,
      Injector injector,
      InboundRegistry registry,
      Forwarder forwarder,
      SpanLogWriter spanLog,
      ProxyMetrics metrics) {
    AppForwardHandler forward = new AppForwardHandler(settings, forwarder, injector, registry);
    HttpHandler app =
        settings.inboundWebSocket()
            ? new WebSocketHandler(settings, injector, registry, forward, forward)
            : forward;
    HttpHandler forwarded = new ForwardedHeadersHandler(app);
    HttpHandler trace = new TraceContextHandler(settings, extractor, registry, forwarded);
    HttpHandler record =
        new SpanRecordingHandler(settings.service(), registry, spanLog, metrics, trace);
    return new HttpContinueReadHandler(record);
  }

  private InboundHandlers() {}
}
