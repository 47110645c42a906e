package io.hoptrace.proxy.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A draining hoptrace (close(), as on SIGTERM) refuses what arrives on a kept-alive connection
 * while the request in flight finishes: 503 with {@code Retry-After}, {@code Proxy-Status} and
 * {@code Connection: close}, one span line ({@code refused: draining}), the counter, and nothing
 * forwarded. ({@code MainProcessTest} does the same through a real SIGTERM.)
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DrainRefusalTest extends GuardHarness {

  @Test
  void requestOnKeptAliveConnectionWhileDraining_is503Refusal_withSpanAndCounter()
      throws Exception {
    start("drain-time", "5s");
    app.answer =
        request -> {
          if (request.startsWith("GET /slow")) {
            try {
              Thread.sleep(1500);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          return RecordingApp.OK;
        };
    assertThat(refusals(RefusalReason.DRAINING)).isZero();
    try (Socket keptAlive = new Socket()) {
      keptAlive.connect(inbound(), TIMEOUT);
      keptAlive.setSoTimeout(TIMEOUT);
      write(keptAlive, "GET /first HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(DrainProbe.readOne(keptAlive.getInputStream())).startsWith("HTTP/1.1 200");

      CompletableFuture<Raw> slow =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return send("GET /slow HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
                } catch (IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              });
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (app.heads.stream().noneMatch(h -> h.startsWith("GET /slow"))
          && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      CompletableFuture<Void> closing = CompletableFuture.runAsync(hoptrace::close);
      DrainProbe.awaitNotAccepting(inbound());

      write(keptAlive, "GET /late HTTP/1.1\r\nHost: a\r\n\r\n");
      Raw late = Raw.read(keptAlive, System.nanoTime());
      assertThat(late.status()).as(late.toString()).isEqualTo(503);
      assertThat(late.closed()).as("closed after the answer").isTrue();
      assertThat(late.header("Retry-After")).isEqualTo("1");
      assertThat(late.header("Proxy-Status")).startsWith("hoptrace; error=proxy_internal_error");
      assertThat(slow.get(10, TimeUnit.SECONDS).status()).as("in flight: finished").isEqualTo(200);
      closing.get(10, TimeUnit.SECONDS);
    }
    assertThat(refusals(RefusalReason.DRAINING)).isEqualTo(1);
    assertThat(app.heads).noneMatch(h -> h.startsWith("GET /late"));
    List<String> spans = spanLines(); // close() returned: every line is flushed
    assertThat(spans).hasSize(3);
    String refused =
        spans.stream().filter(s -> s.contains("\"get /late\"")).findFirst().orElseThrow();
    assertThat(refused)
        .contains("\"kind\":\"SERVER\"")
        .contains("\"http.status_code\":\"503\"")
        .contains("\"error\":\"refused: draining\"")
        .contains("\"hoptrace.context\":\"started\"");
    assertThat(spans).anyMatch(s -> s.contains("\"get /slow\"") && s.contains("\"200\""));
  }

  static void write(Socket socket, String text) throws IOException {
    socket.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
    socket.getOutputStream().flush();
  }
}
