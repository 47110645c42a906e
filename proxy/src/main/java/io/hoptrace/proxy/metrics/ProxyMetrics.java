package io.hoptrace.proxy.metrics;

import com.codahale.metrics.Clock;
import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Histogram;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.MovingAverages;
import com.codahale.metrics.Timer;
import io.hoptrace.proxy.upstream.UpstreamError;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.dropwizard.DropwizardExports;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Every metric hoptrace keeps, in one Dropwizard registry, exposed through the Prometheus bridge
 * (dots become underscores):
 *
 * <ul>
 *   <li>{@code hoptrace_inbound_requests_total}, {@code hoptrace_inbound_latency} (the bridge makes
 *       a Dropwizard timer a summary with quantiles, in seconds: over the last 60-120 s, within
 *       1/64, {@link WindowedBucketReservoir}), {@code hoptrace_inbound_inflight}; the same with
 *       {@code outbound}
 *   <li>{@code hoptrace_upstream_errors_connect_total}, {@code _reset_total}, {@code
 *       _timeout_total}, {@code _client_abort_total}, {@code _response_head_too_large_total}
 *   <li>{@code hoptrace_upstream_connection_waits} (requests that found {@code
 *       upstream.max-connections} open and waited), {@code hoptrace_upstream_connection_waiting}
 *       (waiting now): same-loop transport only
 *   <li>{@code hoptrace_inbound_context_extracted_total}, {@code _started_total}, {@code
 *       _restarted_total}: what became of callers' trace context
 *   <li>{@code hoptrace_spanlog_written}, {@code _dropped}, {@code _failed}, {@code _queued}
 *   <li>{@code hoptrace_ring_size}, {@code hoptrace_ring_refused} once the ring is registered
 *   <li>{@code hoptrace_heap_idle_gc_total}: full collections run to give the heap back after a
 *       burst ({@code heap.idle-gc})
 *   <li>{@code hoptrace_upstream_jetty_started}: 1 once the Jetty upstream client has started (at
 *       start with {@code upstream.client = jetty}; with same-loop, on its first fallback request)
 *   <li>{@code hoptrace_upstream_jetty_start_failures}: starts of the Jetty client that failed (the
 *       requests waiting for one are answered 502, {@code connect: the upstream client did not
 *       start: ...}; the next request that needs Jetty starts it again)
 *   <li>{@code hoptrace_upstream_jetty_start_wait_timeouts}: requests that waited {@code
 *       upstream.connect-timeout} for a start of the Jetty client that had not ended (answered 502,
 *       {@code connect: the upstream client did not start in ...ms}; the start goes on)
 * </ul>
 */
public final class ProxyMetrics {
  /** Which hop a request metric is about. */
  public enum Hop {
    INBOUND,
    OUTBOUND;

    final String label = name().toLowerCase(java.util.Locale.ROOT);
  }

  private final MetricRegistry registry = new MetricRegistry();
  private final PrometheusRegistry prometheus = new PrometheusRegistry();
  private final Map<Hop, Meter> requests = new EnumMap<>(Hop.class);
  private final Map<Hop, Timer> latency = new EnumMap<>(Hop.class);
  // A gauge, not a Dropwizard Counter: the bridge would export a counter as *_total.
  private final Map<Hop, AtomicLong> inFlight = new EnumMap<>(Hop.class);
  private final Map<UpstreamError, Meter> upstreamErrors = new EnumMap<>(UpstreamError.class);
  private final Meter extracted;
  private final Meter started;
  private final Meter restarted;

  public ProxyMetrics() {
    for (Hop hop : Hop.values()) {
      requests.put(hop, registry.register("hoptrace." + hop.label + ".requests", countingMeter()));
      latency.put(
          hop,
          registry.register(
              "hoptrace." + hop.label + ".latency",
              new Timer(
                  countingMeter(),
                  new Histogram(new WindowedBucketReservoir()),
                  Clock.defaultClock())));
      AtomicLong gauge = new AtomicLong();
      inFlight.put(hop, gauge);
      registry.register("hoptrace." + hop.label + ".inflight", (Gauge<Long>) gauge::get);
    }
    for (UpstreamError kind : UpstreamError.values()) {
      if (kind == UpstreamError.REFUSED) continue; // a refusal: hoptrace.refusals.<reason>
      upstreamErrors.put(
          kind,
          registry.register(
              "hoptrace.upstream.errors." + kind.tagValue().replace(' ', '_'), countingMeter()));
    }
    extracted = registry.register("hoptrace.inbound.context.extracted", countingMeter());
    started = registry.register("hoptrace.inbound.context.started", countingMeter());
    restarted = registry.register("hoptrace.inbound.context.restarted", countingMeter());
    // One name per series: the Dropwizard bridge cannot fold several metrics into one labelled
    // family (it rejects the duplicate names a label mapper would produce).
    DropwizardExports.builder().dropwizardRegistry(registry).register(prometheus);
  }

  /**
   * A Dropwizard {@link Meter} that keeps its count only. The Prometheus bridge exports a meter's
   * count and nothing else (and a timer's count and quantiles), and nothing of ours reads a rate; a
   * default meter read the clock ({@code System.nanoTime}) and updated three moving averages on
   * every mark — with the timer's own meter, four marks and four clock reads per inbound request,
   * all on the I/O thread (bench/README.md, "Inbound path (s18)"). Still a {@code Meter}, so the
   * exposition (the HELP text names the Dropwizard class) is unchanged. Its rates read zero.
   */
  static Meter countingMeter() {
    return new Meter(NO_AVERAGES, Clock.defaultClock());
  }

  private static final MovingAverages NO_AVERAGES =
      new MovingAverages() {
        @Override
        public void tickIfNecessary() {}

        @Override
        public void update(long n) {}

        @Override
        public double getM1Rate() {
          return 0;
        }

        @Override
        public double getM5Rate() {
          return 0;
        }

        @Override
        public double getM15Rate() {
          return 0;
        }
      };

  /** Counts a request that finished, with its duration. */
  public void requestDone(Hop hop, long durationNanos) {
    requests.get(hop).mark();
    latency.get(hop).update(durationNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  public void requestStarted(Hop hop) {
    inFlight.get(hop).incrementAndGet();
  }

  public void requestEnded(Hop hop) {
    inFlight.get(hop).decrementAndGet();
  }

  /** Requests finished so far, inbound and outbound together. */
  public long requestsFinished() {
    long n = 0;
    for (Meter m : requests.values()) n += m.getCount();
    return n;
  }

  public long inFlight(Hop hop) {
    return inFlight.get(hop).get();
  }

  /** Counts what became of a caller's trace context, by its {@code hoptrace.context} value. */
  public void inboundContext(String outcome) {
    switch (outcome) {
      case "extracted" -> extracted.mark();
      case "restarted" -> restarted.mark();
      default -> started.mark();
    }
  }

  public void upstreamError(UpstreamError kind) {
    Meter meter = upstreamErrors.get(kind);
    if (meter != null) meter.mark();
  }

  /** The counter {@code dottedName}, created on first use (e.g. refusals by reason). */
  public Counter counter(String dottedName) {
    return registry.counter(dottedName);
  }

  /** Registers a gauge read at scrape time (span-log counters, ring size, ...). */
  public void gauge(String dottedName, LongSupplier value) {
    registry.register(dottedName, (Gauge<Long>) value::getAsLong);
  }

  /** Writes every metric in Prometheus text format 0.0.4. */
  public void writePrometheusText(OutputStream out) throws IOException {
    PrometheusTextFormatWriter.create().write(out, prometheus.scrape());
  }

  /** The content type of {@link #writePrometheusText}. */
  public static String prometheusContentType() {
    return PrometheusTextFormatWriter.CONTENT_TYPE;
  }
}
