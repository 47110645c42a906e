package io.hoptrace.proxy.appspans;

import static java.util.Objects.requireNonNull;

import com.codahale.metrics.Counter;
import io.hoptrace.config.Settings;
import io.hoptrace.correlation.Correlator;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.span.EpochMicros;
import io.hoptrace.span.Span;
import io.hoptrace.store.Ticker;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.Methods;
import java.util.List;
import java.util.function.Predicate;

/**
 * {@code POST /spans} on the admin listener; every other path goes to {@code next}. The body is a
 * Zipkin v2 JSON array, read as a stream on a worker thread and bounded ({@code admin.spans}).
 * Answers {@code 202 {"accepted":N,"attached":K,"dropped":D}} (attached: linked by the correlator;
 * dropped: the span-log queue was full), or refuses the whole request: 400 with the reason for bad
 * JSON or a bad field, 413 over {@code max-body} or {@code max-spans-per-request}, 429 (with
 * Retry-After) over {@code rate}, 405 for another method. Each refusal is counted by reason ({@code
 * hoptrace_appspans_refused_<reason>_total}).
 */
public final class AppSpansHandler implements HttpHandler {
  public static final String PATH = "/spans";

  private final Settings.AppSpans settings;
  private final Ticker ticker;
  private final AppSpanReader reader;
  private final AppSpanLinker linker;
  private final TokenBucket bucket;
  private final Predicate<Span> spanLog;
  private final ProxyMetrics metrics;
  private final Counter accepted;
  private final Counter attached;
  private final Counter dropped;
  private final HttpHandler next;

  /**
   * @param spanLog offers a span to the span-log writer without blocking; false when it was dropped
   */
  public AppSpansHandler(
      Settings.AppSpans settings,
      Correlator correlator,
      String serviceName,
      Predicate<Span> spanLog,
      ProxyMetrics metrics,
      HttpHandler next) {
    this.settings = requireNonNull(settings, "settings");
    this.ticker = correlator.registry().ticker();
    this.reader = new AppSpanReader(settings.maxSpansPerRequest(), settings.maxBody());
    this.linker = new AppSpanLinker(correlator, serviceName, metrics);
    this.bucket = new TokenBucket(settings.rate(), settings.burst(), ticker.read());
    this.spanLog = requireNonNull(spanLog, "spanLog");
    this.metrics = requireNonNull(metrics, "metrics");
    this.accepted = metrics.counter("hoptrace.appspans.accepted");
    this.attached = metrics.counter("hoptrace.appspans.attached");
    this.dropped = metrics.counter("hoptrace.appspans.dropped");
    this.next = requireNonNull(next, "next");
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    if (!exchange.getRelativePath().equals(PATH)) {
      next.handleRequest(exchange);
      return;
    }
    if (!settings.enabled()) {
      exchange.setStatusCode(404);
      exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
      exchange.getResponseSender().send("not found: admin.spans.enabled is false\n");
      return;
    }
    if (!exchange.getRequestMethod().equals(Methods.POST)) {
      exchange.getResponseHeaders().put(Headers.ALLOW, "POST");
      refuse(exchange, new AppSpanRejection(405, "method", "method: use POST " + PATH));
      return;
    }
    if (exchange.getRequestContentLength() > settings.maxBody()) {
      refuse(
          exchange,
          new AppSpanRejection(
              413,
              AppSpanRejection.TOO_LARGE,
              "body: "
                  + exchange.getRequestContentLength()
                  + " bytes (expected: at most admin.spans.max-body = "
                  + settings.maxBody()
                  + ")"));
      return;
    }
    if (exchange.isInIoThread()) {
      exchange.dispatch(this); // reading and parsing block: a worker thread, not the IO thread
      return;
    }
    exchange.startBlocking();
    List<AppSpan> spans;
    try {
      spans = reader.read(exchange.getInputStream());
    } catch (AppSpanRejection r) {
      refuse(exchange, r);
      return;
    }
    long nowNanos = ticker.read();
    if (!bucket.tryTake(spans.size(), nowNanos)) {
      long retry = bucket.secondsUntil(spans.size(), nowNanos);
      exchange.getResponseHeaders().put(Headers.RETRY_AFTER, Long.toString(retry));
      refuse(
          exchange,
          new AppSpanRejection(
              429,
              AppSpanRejection.RATE,
              "spans: "
                  + spans.size()
                  + " over the limit of "
                  + settings.rate()
                  + " per second (admin.spans.rate); retry after "
                  + retry
                  + " s"));
      return;
    }
    long nowMicros = EpochMicros.now();
    int linked = 0;
    int lost = 0;
    for (AppSpan s : spans) {
      if (!s.hasTraceId()) linked++;
      if (!spanLog.test(linker.toSpan(s, nowNanos, nowMicros))) lost++;
    }
    accepted.inc(spans.size() - lost);
    attached.inc(linked);
    dropped.inc(lost);
    exchange.setStatusCode(202);
    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
    exchange
        .getResponseSender()
        .send(
            "{\"accepted\":"
                + (spans.size() - lost)
                + ",\"attached\":"
                + linked
                + ",\"dropped\":"
                + lost
                + "}\n");
  }

  private void refuse(HttpServerExchange exchange, AppSpanRejection r) {
    metrics.counter("hoptrace.appspans.refused." + r.reason).inc();
    // Whatever is left of a refused body is not worth reading: close after the answer.
    if (r.status == 413) exchange.setPersistent(false);
    exchange.setStatusCode(r.status);
    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
    exchange.getResponseSender().send(r.getMessage() + "\n");
  }
}
