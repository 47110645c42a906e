package io.hoptrace.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * hardening: SIGTERM while 8 clients keep requests in flight. Every request hoptrace answered 200
 * has its span line (matched by request id) once the process has exited 0: zero lost.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SigtermUnderLoadTest {
  @TempDir Path dir;

  @Test
  void sigtermUnderLoad_everyServedRequestHasItsSpan() throws Exception {
    Path spanLog = dir.resolve("spans.log");
    ConcurrentLinkedQueue<String> servedIds = new ConcurrentLinkedQueue<>();
    AtomicBoolean stop = new AtomicBoolean();
    java.util.concurrent.atomic.AtomicReference<String> firstProblem =
        new java.util.concurrent.atomic.AtomicReference<>();
    ExecutorService clients = Executors.newFixedThreadPool(8);
    try (TestUpstream app = new TestUpstream();
        ChildHoptrace child =
            ChildHoptrace.run(
                "run",
                "--service",
                "drain",
                "--inbound",
                "127.0.0.1:0",
                "--app",
                "127.0.0.1:" + app.port(),
                "--span-log",
                spanLog.toString(),
                "--set",
                "drain-time=10s")) {
      int port = child.awaitInboundPort();
      URI uri = URI.create("http://127.0.0.1:" + port + "/sleep?ms=30");
      for (int c = 0; c < 8; c++) {
        clients.execute(
            () -> {
              HttpClient client =
                  HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
              long deadline = System.nanoTime() + 40_000_000_000L;
              while (!stop.get() && System.nanoTime() < deadline) {
                try {
                  HttpResponse<String> r =
                      client.send(
                          HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                          HttpResponse.BodyHandlers.ofString());
                  if (r.statusCode() != 200)
                    firstProblem.compareAndSet(null, r.statusCode() + " " + r.body());
                  if (r.statusCode() == 200) {
                    servedIds.add(r.headers().firstValue("X-Request-Id").orElse("?"));
                  }
                } catch (Exception e) {
                  firstProblem.compareAndSet(null, e.toString());
                  if (stop.get()) return;
                  try {
                    Thread.sleep(20); // refused once the listener closed
                  } catch (InterruptedException ie) {
                    return;
                  }
                }
              }
            });
      }
      // Under load until at least 50 requests were served (a cold child JVM may take seconds).
      long warm = System.nanoTime() + 20_000_000_000L;
      while (servedIds.size() < 50 && System.nanoTime() < warm) Thread.sleep(50);
      int beforeSigterm = servedIds.size();
      child.sigterm();
      assertThat(child.awaitExit()).isZero();
      stop.set(true);
      clients.shutdown();
      assertThat(clients.awaitTermination(10, TimeUnit.SECONDS)).isTrue();

      assertThat(beforeSigterm)
          .as("load was running; first problem: " + firstProblem)
          .isGreaterThan(20);
      List<String> lines = Files.readAllLines(spanLog);
      Set<String> spanIds = new HashSet<>();
      for (String line : lines) spanIds.add(SpanLines.tag(line, "http.request_id"));
      assertThat(servedIds).doesNotContain("?");
      assertThat(spanIds).as("a span for every 200 served").containsAll(servedIds);
      assertThat(lines.size()).isGreaterThanOrEqualTo(servedIds.size());
      System.out.printf(
          "sigterm under load: %d served 200, %d span lines%n", servedIds.size(), lines.size());
    } finally {
      stop.set(true);
      clients.shutdownNow();
    }
  }
}
