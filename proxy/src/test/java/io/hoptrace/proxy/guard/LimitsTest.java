package io.hoptrace.proxy.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Timeouts and limits, with short settings so that each test ends in seconds. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
@SuppressWarnings("StringConcatToTextBlock") // raw CRLF requests read better as lines
class LimitsTest extends GuardHarness {
  @Test
  void incompleteHead_isClosedAfterTheHeaderTimeout() throws Exception {
    start("limits.header-timeout", "500ms");
    try (Socket socket = new Socket()) {
      socket.connect(inbound(), 2000);
      socket.setSoTimeout(5000);
      long start = System.nanoTime();
      socket
          .getOutputStream()
          .write("GET / HTTP/1.1\r\nHost: app\r\n".getBytes(StandardCharsets.US_ASCII));
      Raw answer = Raw.read(socket, start);
      assertThat(answer.closed()).as(answer.toString()).isTrue();
      assertThat(answer.millis()).isBetween(400L, 3000L);
    }
    assertThat(app.heads).isEmpty();
    assertStillServes();
  }

  @Test
  void slowlorisHead_aByteAtATime_isClosedAfterTheHeaderTimeout() throws Exception {
    start("limits.header-timeout", "1s");
    byte[] head =
        "GET / HTTP/1.1\r\nHost: app\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);
    long start = System.nanoTime();
    boolean cut = false;
    try (Socket socket = new Socket()) {
      socket.connect(inbound(), 2000);
      OutputStream out = socket.getOutputStream();
      for (int i = 0; i < head.length - 2; i++) {
        try {
          out.write(head[i]);
          out.flush();
        } catch (IOException e) {
          cut = true;
          break;
        }
        Thread.sleep(100);
      }
      if (!cut) {
        socket.setSoTimeout(3000);
        cut = socket.getInputStream().read() < 0;
      }
    } catch (IOException e) {
      cut = true;
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertThat(cut).isTrue();
    assertThat(millis).isLessThan(6000L);
    assertThat(app.heads).isEmpty();
  }

  @Test
  void idleKeepAlive_isClosedAfterTheIdleTimeout() throws Exception {
    start("limits.idle-timeout", "500ms");
    try (Socket socket = new Socket()) {
      socket.connect(inbound(), 2000);
      socket.setSoTimeout(5000);
      socket
          .getOutputStream()
          .write("GET / HTTP/1.1\r\nHost: app\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      long start = System.nanoTime();
      Raw answer = Raw.read(socket, start);
      assertThat(answer.status()).isEqualTo(200);
      assertThat(answer.closed()).as("closed while idle").isTrue();
      assertThat(answer.millis()).isBetween(300L, 4000L);
    }
  }

  @Test
  void slowBody_isCutAndCounted() throws Exception {
    start("limits.body-min-rate", "1000", "limits.body-rate-grace", "1s");
    long start = System.nanoTime();
    boolean cut = false;
    try (Socket socket = new Socket()) {
      socket.connect(inbound(), 2000);
      OutputStream out = socket.getOutputStream();
      out.write(
          "POST /upload HTTP/1.1\r\nHost: app\r\nContent-Length: 100000\r\n\r\n"
              .getBytes(StandardCharsets.US_ASCII));
      for (int i = 0;
          i < 60 && !cut;
          i++) { // 10 bytes every 100 ms: 100 B/s, a tenth of the minimum
        try {
          out.write("0123456789".getBytes(StandardCharsets.US_ASCII));
          out.flush();
        } catch (IOException e) {
          cut = true;
        }
        Thread.sleep(100);
      }
    }
    assertThat(cut).as("cut before 6 s").isTrue();
    assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(6000L);
    assertThat(refusals(RefusalReason.BODY_TOO_SLOW)).isEqualTo(1);
    assertThat(app.requests).isEmpty();
    assertStillServes();
  }

  @Test
  void fastEnoughBody_isForwarded() throws Exception {
    start("limits.body-min-rate", "1000", "limits.body-rate-grace", "1s");
    Raw answer =
        send(
            "POST /upload HTTP/1.1\r\nHost: app\r\nContent-Length: 4\r\nConnection: close\r\n\r\nabcd");
    assertThat(answer.status()).isEqualTo(200);
    assertThat(refusals(RefusalReason.BODY_TOO_SLOW)).isZero();
  }

  @Test
  void overTheConnectionLimit_503Fast_andRecoversWhenConnectionsClose() throws Exception {
    start("limits.max-connections", "4");
    List<Socket> idle = new ArrayList<>();
    try {
      for (int i = 0; i < 5; i++) {
        Socket s = new Socket();
        s.connect(inbound(), 2000);
        idle.add(s);
      }
      Thread.sleep(200);
      Raw refused = send("GET / HTTP/1.1\r\nHost: app\r\n\r\n");
      assertThat(refused.status()).as(refused.toString()).isEqualTo(503);
      assertThat(refused.millis()).isLessThan(1000L);
      assertThat(refused.header("Proxy-Status")).contains("error=connection_limit_reached");
      assertThat(refused.header("Retry-After")).isEqualTo("1");
      assertThat(refusals(RefusalReason.CONNECTION_LIMIT)).isEqualTo(1);
      assertThat(app.heads).isEmpty();
    } finally {
      for (Socket s : idle) s.close();
    }
    long deadline = System.nanoTime() + 3_000_000_000L;
    int status;
    do {
      Thread.sleep(50);
      status = send("GET / HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n").status();
    } while (status != 200 && System.nanoTime() < deadline);
    assertThat(status).as("served again once connections closed").isEqualTo(200);
  }

  @Test
  void heapOverTheShedRatio_503Fast_withASpan() throws Exception {
    start("limits.shed-heap-ratio", "0.000001");
    Raw refused = send("GET /orders HTTP/1.1\r\nHost: app\r\n\r\n");
    assertThat(refused.status()).isEqualTo(503);
    assertThat(refused.millis()).isLessThan(1000L);
    assertThat(refused.header("Retry-After")).isEqualTo("1");
    assertThat(refusals(RefusalReason.OVERLOADED)).isEqualTo(1);
    assertThat(awaitSpans(1).get(0)).contains("refused: overloaded").contains("\"get /orders\"");
    assertThat(app.heads).isEmpty();
  }
}
