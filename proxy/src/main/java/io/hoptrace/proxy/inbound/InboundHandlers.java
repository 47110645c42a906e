package io.hoptrace.proxy.inbound;

import io.hoptrace.config.Settings;
import io.hoptrace.correlation.InboundRegistry;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.proxy.spanlog.SpanLogWriter;
import io.hoptrace.proxy.upstream.UpstreamForwarder;
import io.undertow.server.HttpHandler;
import io.undertow.server.handlers.HttpContinueReadHandler;

/** The inbound hop, composed in one visible place: each stage hands on to the next. */
public final class InboundHandlers {
  /**
   * caller → span recording → trace context → registration (for the outbound correlator) →
   * forwarded headers → app. {@code Expect: 100-continue} is answered when the body is first read,
   * which is when the app asked for it.
   */
  public static HttpHandler create(
      Settings settings,
      UpstreamForwarder forwarder,
      SpanLogWriter spanLog,
      ProxyMetrics metrics,
      InboundRegistry registry) {
    HttpHandler app = new AppForwardHandler(settings, forwarder);
    HttpHandler forwarded = new ForwardedHeadersHandler(app);
    HttpHandler registered = new InboundRegistrationHandler(registry, forwarded);
    HttpHandler trace = new TraceContextHandler(settings, registered);
    HttpHandler record = new SpanRecordingHandler(settings.service(), spanLog, metrics, trace);
    return new HttpContinueReadHandler(record);
  }

  private InboundHandlers() {}
}
