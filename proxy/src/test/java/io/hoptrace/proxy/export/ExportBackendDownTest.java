package io.hoptrace.proxy.export;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.proxy.testing.Service;
import io.hoptrace.proxy.testing.Service.Forwarding;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backend that is down must cost spans, never requests: the export queue stays at its bound, what
 * does not fit is dropped and counted, batches that time out are retried then counted as failed,
 * and shutdown waits no longer than the close timeout.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ExportBackendDownTest {
  static final int REQUESTS = 200;
  static final int QUEUE = 8;

  @TempDir Path dir;

  @Test
  void backendNeverAnswers_requestsKeepFlowing_queueBounded_droppedAndFailedCounted()
      throws Exception {
    // Accepts connections (the kernel completes the handshake) and never reads or answers: the
    // worst backend, one that hangs every request until the exporter's timeout.
    try (ServerSocket blackHole = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Map<String, String> settings =
          Map.of(
              "export.zipkin.url", "http://127.0.0.1:" + blackHole.getLocalPort(),
              "export.queue-size", Integer.toString(QUEUE),
              "export.batch-size", "4",
              "export.flush-interval", "20ms",
              "export.timeout", "300ms",
              "export.max-attempts", "2",
              "export.close-timeout", "500ms",
              "admin.port", "0");
      Service solo = Service.start("solo", Forwarding.NONE, (ex, out) -> "ok", dir, settings);
      try {
        HttpClient caller = HttpClient.newHttpClient();
        long slowestNanos = 0;
        long start = System.nanoTime();
        for (int i = 0; i < REQUESTS; i++) {
          long t0 = System.nanoTime();
          HttpResponse<String> response =
              caller.send(
                  HttpRequest.newBuilder(URI.create(solo.url("/r/" + i)))
                      .timeout(Duration.ofSeconds(5))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          slowestNanos = Math.max(slowestNanos, System.nanoTime() - t0);
          assertThat(response.statusCode()).isEqualTo(200);
          Map<String, Double> m = ZipkinThreeServiceExportTest.metrics(solo);
          if (i % 20 == 0) {
            // Memory stays bounded however long the backend is gone.
            assertThat(m.get("hoptrace_export_zipkin_queued")).isLessThanOrEqualTo(QUEUE);
          }
        }
        long totalNanos = System.nanoTime() - start;
        // Each batch hangs 2 x 300ms; had a request waited for it, 200 requests would take minutes.
        assertThat(TimeUnit.NANOSECONDS.toMillis(slowestNanos)).isLessThan(1_000);
        assertThat(TimeUnit.NANOSECONDS.toSeconds(totalNanos)).isLessThan(20);

        // Every span still reaches the span log.
        assertThat(solo.spans(REQUESTS)).hasSize(REQUESTS);

        Map<String, Double> m = ZipkinThreeServiceExportTest.metrics(solo);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (m.get("hoptrace_export_zipkin_failed") == 0 && System.nanoTime() < deadline) {
          Thread.sleep(50);
          m = ZipkinThreeServiceExportTest.metrics(solo);
        }
        assertThat(m.get("hoptrace_export_zipkin_sent")).isZero();
        assertThat(m.get("hoptrace_export_zipkin_dropped")).isPositive();
        assertThat(m.get("hoptrace_export_zipkin_failed")).isPositive();
        assertThat(m.get("hoptrace_export_zipkin_retries")).isPositive();
        assertThat(m.get("hoptrace_export_zipkin_queued")).isLessThanOrEqualTo(QUEUE);
        // Sent, failed, dropped and still queued or in flight account for every line.
        assertThat(
                m.get("hoptrace_export_zipkin_failed")
                    + m.get("hoptrace_export_zipkin_dropped")
                    + m.get("hoptrace_export_zipkin_queued"))
            .isLessThanOrEqualTo(REQUESTS);
      } finally {
        long t0 = System.nanoTime();
        solo.close();
        // Drain 1s (the test service's drain-time) + close-timeout 500ms + a batch in flight.
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0)).isLessThan(8);
      }
    }
  }
}
