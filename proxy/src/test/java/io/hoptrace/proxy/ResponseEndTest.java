package io.hoptrace.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.correlation.InboundRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * When the inbound request ends in the correlator: at the app's response head, before the head is
 * written to the caller (bench/README.md, "Critical path latency (s20)"). An app that has answered
 * is not in flight, even while its body is still to come.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ResponseEndTest extends InboundHarness {

  @Test
  void request_endsAtTheAppsResponseHead_beforeItsBodyCame() throws Exception {
    CountDownLatch headMaySend = new CountDownLatch(1);
    CountDownLatch bodyMaySend = new CountDownLatch(1);
    try (ServerSocket slowBody = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Thread appThread =
          new Thread(() -> answerHeadThenBody(slowBody, headMaySend, bodyMaySend), "slow-body");
      appThread.setDaemon(true);
      appThread.start();
      start("app", "127.0.0.1:" + slowBody.getLocalPort());

      CompletableFuture<HttpResponse<String>> response =
          client.sendAsync(
              HttpRequest.newBuilder(uri("/slow")).build(), HttpResponse.BodyHandlers.ofString());
      var registry = hoptrace.registry();
      // The app holds its head until the test has seen the request in flight at it.
      InboundRequest request = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (request == null && System.nanoTime() < deadline) {
        request = registry.soleInFlight();
        if (request == null) Thread.sleep(2);
      }
      assertThat(request).as("the request was seen in flight at the app").isNotNull();
      assertThat(request.isEnded()).as("in flight before the app answered").isFalse();
      headMaySend.countDown();
      while (!request.isEnded() && System.nanoTime() < deadline) Thread.sleep(2);
      // The head came, the body has not (the app waits for the latch): ended, not in flight.
      assertThat(request.isEnded()).as("ended at the response head").isTrue();
      assertThat(registry.inFlightCount()).isZero();
      assertThat(response).isNotDone();

      bodyMaySend.countDown();
      HttpResponse<String> done = response.get(5, TimeUnit.SECONDS);
      assertThat(done.statusCode()).isEqualTo(200);
      assertThat(done.body()).isEqualTo("hello");
      assertThat(SpanLines.line(spanLog, 1)).contains("\"http.status_code\":\"200\"");
    }
  }

  /** One request: the head, then the body, each once the test lets it. */
  private static void answerHeadThenBody(
      ServerSocket server, CountDownLatch headMaySend, CountDownLatch bodyMaySend) {
    try (Socket s = server.accept()) {
      InputStream in = s.getInputStream();
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
        int b = in.read();
        if (b < 0) return;
        head.write(b);
      }
      if (!headMaySend.await(10, TimeUnit.SECONDS)) return;
      OutputStream out = s.getOutputStream();
      out.write(
          "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      if (!bodyMaySend.await(10, TimeUnit.SECONDS)) return;
      out.write("hello".getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      s.shutdownOutput();
      while (in.read() >= 0) {} // until hoptrace closes (or the test ends)
    } catch (IOException | InterruptedException e) {
      // the test's assertions report what went wrong
    }
  }
}
