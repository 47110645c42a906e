package io.hoptrace.proxy.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.codahale.metrics.MetricRegistry;
import io.hoptrace.proxy.upstream.UpstreamError;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.dropwizard.DropwizardExports;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ProxyMetricsTest {
  private static final long DURATION_NANOS = 1_500_000;

  @Test
  void requestMetrics_exposeAsDropwizardsDefaultMeterAndTimerWould_quantilesWithin1in64()
      throws IOException {
    ProxyMetrics metrics = new ProxyMetrics();
    for (int i = 0; i < 5; i++) metrics.requestDone(ProxyMetrics.Hop.INBOUND, DURATION_NANOS);
    for (int i = 0; i < 2; i++) metrics.requestDone(ProxyMetrics.Hop.OUTBOUND, DURATION_NANOS);
    metrics.inboundContext("extracted");
    metrics.inboundContext("started");
    metrics.inboundContext("started");
    metrics.inboundContext("restarted");
    metrics.upstreamError(UpstreamError.CONNECT);
    ByteArrayOutputStream ours = new ByteArrayOutputStream();
    metrics.writePrometheusText(ours);

    // The same updates on Dropwizard's default meters and timers, exported by the same bridge.
    MetricRegistry dropwizard = new MetricRegistry();
    for (int i = 0; i < 5; i++) {
      dropwizard.meter("hoptrace.inbound.requests").mark();
      dropwizard.timer("hoptrace.inbound.latency").update(DURATION_NANOS, TimeUnit.NANOSECONDS);
    }
    for (int i = 0; i < 2; i++) {
      dropwizard.meter("hoptrace.outbound.requests").mark();
      dropwizard.timer("hoptrace.outbound.latency").update(DURATION_NANOS, TimeUnit.NANOSECONDS);
    }
    dropwizard.meter("hoptrace.inbound.context.extracted").mark();
    dropwizard.meter("hoptrace.inbound.context.started").mark(2);
    dropwizard.meter("hoptrace.inbound.context.restarted").mark();
    for (UpstreamError kind : UpstreamError.values()) {
      if (kind == UpstreamError.REFUSED) continue;
      dropwizard.meter("hoptrace.upstream.errors." + kind.tagValue().replace(' ', '_'));
    }
    dropwizard.meter("hoptrace.upstream.errors.connect").mark();
    PrometheusRegistry prometheus = new PrometheusRegistry();
    DropwizardExports.builder().dropwizardRegistry(dropwizard).register(prometheus);
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(expected, prometheus.scrape());

    // Line for line the same but the quantiles' values: ours are read from buckets
    // (WindowedBucketReservoir), within 1/64 of the durations recorded.
    List<String> lines = requestLines(ours);
    List<String> wantLines = requestLines(expected);
    assertThat(lines).hasSameSizeAs(wantLines);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      String want = wantLines.get(i);
      if (!want.contains("{quantile=")) {
        assertThat(line).isEqualTo(want);
        continue;
      }
      int cut = want.lastIndexOf(' ');
      assertThat(line).startsWith(want.substring(0, cut + 1));
      double wanted = Double.parseDouble(want.substring(cut + 1));
      assertThat(Double.parseDouble(line.substring(cut + 1)))
          .as(line)
          .isCloseTo(wanted, within(wanted / 64));
    }
    assertThat(lines)
        .contains(
            "hoptrace_inbound_requests_total 5.0",
            "hoptrace_inbound_latency_count 5",
            "hoptrace_inbound_context_started_total 2.0",
            "hoptrace_upstream_errors_connect_total 1.0")
        .anyMatch(l -> l.startsWith("# HELP hoptrace_inbound_requests_total"))
        // 1.5 ms falls in the bucket [1.474560, 1.507328) ms, read as its middle
        .anyMatch(l -> l.startsWith("hoptrace_inbound_latency{quantile=\"0.99\"} 0.00149094"));
  }

  /** The lines of the request, latency, context and upstream-error metrics (not the gauges). */
  private static List<String> requestLines(ByteArrayOutputStream text) {
    return text.toString(StandardCharsets.UTF_8)
        .lines()
        .filter(
            l ->
                l.contains("_requests")
                    || l.contains("_latency")
                    || l.contains("_context_")
                    || l.contains("upstream_errors"))
        .collect(Collectors.toList());
  }
}
