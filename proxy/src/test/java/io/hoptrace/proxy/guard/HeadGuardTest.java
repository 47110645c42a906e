package io.hoptrace.proxy.guard;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.proxy.RawUpstream;
import io.hoptrace.testing.ChildProcesses;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The head guard ({@link HeadGuardConduit}) on the wire: what it passes on a kept-alive connection
 * (pipelined requests, bodies framed by Content-Length and chunked, byte for byte), and how it
 * answers a bad head that follows good requests, arrives a byte at a time, or reaches the outbound
 * listeners.
 */
@SuppressWarnings("StringConcatToTextBlock") // raw CRLF requests read better as lines
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HeadGuardTest extends GuardHarness {
  static final String GET = "GET /one HTTP/1.1\r\nHost: app\r\n\r\n";

  /**
   * The head guard is in place from the listener's first accepted connection: clients connect in a
   * loop while hoptrace starts (refused until the port is bound), and every one that gets in sends
   * an obs-fold head, which only the head guard answers as a refusal (400 with Proxy-Status);
   * Undertow's parser alone would take it. Bounded: 8 clients, 30 s, 30,000 tries each.
   */
  @Test
  void connectionsRacingTheStart_everyOneMeetsTheHeadGuard() throws Exception {
    int port = ChildProcesses.freePort();
    String folded = "GET /folded HTTP/1.1\r\nHost: app\r\nX-A: b\r\n c\r\n\r\n";
    InetSocketAddress to = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    AtomicBoolean started = new AtomicBoolean();
    ExecutorService clients = Executors.newFixedThreadPool(8);
    List<Future<List<Raw>>> results = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    try {
      for (int c = 0; c < 8; c++) {
        results.add(
            clients.submit(
                () -> {
                  List<Raw> answers = new ArrayList<>();
                  int afterStart = 0;
                  for (int tries = 0; tries < 30_000 && afterStart < 5; tries++) {
                    if (System.nanoTime() > deadline) break;
                    if (started.get()) afterStart++;
                    try (Socket socket = new Socket()) {
                      socket.connect(to, TIMEOUT);
                      socket.setSoTimeout(TIMEOUT);
                      long start = System.nanoTime();
                      socket.getOutputStream().write(bytes(folded));
                      socket.getOutputStream().flush();
                      answers.add(Raw.read(socket, start));
                    } catch (ConnectException e) {
                      Thread.sleep(1); // not bound yet
                    }
                  }
                  return answers;
                }));
      }
      Thread.sleep(50); // the clients are knocking
      start("inbound.port", String.valueOf(port));
      started.set(true);
      List<Raw> answers = new ArrayList<>();
      for (Future<List<Raw>> f : results) answers.addAll(f.get(40, TimeUnit.SECONDS));
      assertThat(answers).as("connections that got in").hasSizeGreaterThanOrEqualTo(8 * 4);
      for (Raw answer : answers) {
        assertThat(answer.status()).as(answer.toString()).isEqualTo(400);
        assertThat(answer.header("Proxy-Status")).as(answer.toString()).contains("bad_header");
        assertThat(answer.closed()).as(answer.toString()).isTrue();
      }
      assertThat(app.heads).as("nothing forwarded").isEmpty();
      assertThat(refusals(RefusalReason.BAD_HEADER)).isEqualTo(answers.size());
    } finally {
      clients.shutdownNow();
    }
  }

  @Test
  void pipelinedRequests_withBodies_allServed_bodiesByteExact() throws Exception {
    start();
    String cl = "POST /cl HTTP/1.1\r\nHost: app\r\nContent-Length: 10\r\n\r\n0123456789";
    String chunked =
        "POST /chunked HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "3;x=1\r\nabc\r\n0\r\nT: v\r\n\r\n";
    String last = "GET /last HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n";
    Raw answer = send(GET + cl + chunked + last);

    assertThat(answer.text().split("HTTP/1.1 200", -1)).as(answer.toString()).hasSize(5);
    assertThat(answer.closed()).isTrue();
    List<String> seen = app.requests;
    assertThat(seen).hasSize(4);
    assertThat(seen.get(0)).startsWith("GET /one ");
    assertThat(seen.get(1)).startsWith("POST /cl ").endsWith("\r\n\r\n0123456789");
    assertThat(seen.get(2)).startsWith("POST /chunked ").contains("abc");
    assertThat(seen.get(3)).startsWith("GET /last ");
    assertThat(refusalsTotal()).isZero();
  }

  @Test
  void keptAliveConnection_secondRequestInALaterWrite_served() throws Exception {
    start();
    try (Socket socket = connect()) {
      OutputStream out = socket.getOutputStream();
      out.write(bytes(GET));
      out.flush();
      assertThat(readResponse(socket.getInputStream())).startsWith("HTTP/1.1 200");
      out.write(bytes("POST /two HTTP/1.1\r\nHost: app\r\nContent-Length: 3\r\n\r\nxyz"));
      out.flush();
      assertThat(readResponse(socket.getInputStream())).startsWith("HTTP/1.1 200");
    }
    assertThat(app.requests).hasSize(2);
    assertThat(app.requests.get(1)).endsWith("\r\n\r\nxyz");
  }

  @Test
  void goodThenBadPipelined_goodServedFirst_badAnsweredAfter_neverForwarded() throws Exception {
    start();
    String body = "POST /cl HTTP/1.1\r\nHost: app\r\nContent-Length: 4\r\n\r\nabcd";
    Raw answer = send(GET + body + "GET /bad HTTP/1.1\r\nHost: app\r\nX-A : b\r\n\r\n");

    String text = answer.text();
    assertThat(text).startsWith("HTTP/1.1 200");
    int refusal = text.indexOf("HTTP/1.1 400");
    assertThat(refusal).as(answer.toString()).isGreaterThan(text.lastIndexOf("HTTP/1.1 200"));
    assertThat(text.substring(refusal)).contains("Connection: close").contains("Proxy-Status");
    assertThat(answer.closed()).isTrue();
    assertThat(app.requests).hasSize(2);
    assertThat(app.heads).noneMatch(h -> h.contains("/bad"));
    assertThat(refusals(RefusalReason.BAD_HEADER)).isEqualTo(1);
    List<String> spans = awaitSpans(3);
    assertThat(spans).hasSize(3);
    assertThat(spans)
        .filteredOn(l -> l.contains("\"error\":\"refused: bad_header"))
        .singleElement()
        .asString()
        .contains("\"http.path\":\"/bad\"")
        .contains("\"http.method\":\"GET\"");
  }

  @Test
  void badHeadSentAByteAtATime_refusedWithSpan() throws Exception {
    start();
    byte[] request = bytes("GET /slow HTTP/1.1\r\nHost: app\r\nX-A: b\u0000c\r\n\r\n");
    String text;
    try (Socket socket = connect()) {
      OutputStream out = socket.getOutputStream();
      try {
        for (byte b : request) {
          out.write(b);
          out.flush();
          Thread.sleep(2);
        }
      } catch (IOException e) {
        // closed after the answer: what was answered is still readable
      }
      text = Raw.read(socket, System.nanoTime()).text();
    }
    assertThat(text).startsWith("HTTP/1.1 400").contains("Connection: close");
    assertThat(app.heads).isEmpty();
    assertThat(refusals(RefusalReason.BAD_HEADER)).isEqualTo(1);
    assertThat(awaitSpans(1)).singleElement().asString().contains("refused: bad_header");
  }

  @Test
  void chunkedBody_thenBadHeadInTheSameWrite_bodyForwarded_badRefused() throws Exception {
    start();
    String chunked =
        "POST /c HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwxyz\r\n0\r\n\r\n";
    Raw answer = send(chunked + "GET /x HTTP/9.9\r\nHost: app\r\n\r\n");
    assertThat(answer.text()).startsWith("HTTP/1.1 200").contains("HTTP/1.1 505");
    assertThat(app.requests).singleElement().asString().contains("wxyz");
    assertThat(refusals(RefusalReason.BAD_VERSION)).isEqualTo(1);
  }

  @Test
  void forwardProxyListener_badHead_refusedWithClientSpan() throws Exception {
    start("outbound.port", "0");
    InetSocketAddress proxy = hoptrace.outbound().forwardProxyAddress();
    Raw answer =
        Raw.send(
            proxy,
            "GET http://127.0.0.1:" + app.port() + "/x HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n",
            TIMEOUT);
    assertThat(answer.status()).as(answer.toString()).isEqualTo(400);
    assertThat(answer.header("Proxy-Status")).contains("bad_header");
    assertThat(answer.closed()).isTrue();
    assertThat(app.heads).isEmpty();
    assertThat(awaitSpans(1))
        .singleElement()
        .asString()
        .contains("\"kind\":\"CLIENT\"")
        .contains("refused: bad_header");
  }

  @Test
  void routeListener_badVersion_505() throws Exception {
    start("routes.r1.listen", "0", "routes.r1.upstream", "127.0.0.1:" + app.port());
    InetSocketAddress route = hoptrace.outbound().routeAddresses().get("r1");
    Raw answer = Raw.send(route, "GET / HTTP/2.0\r\nHost: a\r\n\r\n", TIMEOUT);
    assertThat(answer.status()).as(answer.toString()).isEqualTo(505);
    assertThat(app.heads).isEmpty();
    assertThat(refusals(RefusalReason.BAD_VERSION)).isEqualTo(1);
  }

  private long refusalsTotal() {
    long total = 0;
    for (RefusalReason r : RefusalReason.values()) total += refusals(r);
    return total;
  }

  private Socket connect() throws IOException {
    Socket socket = new Socket();
    socket.connect(inbound(), TIMEOUT);
    socket.setSoTimeout(TIMEOUT);
    return socket;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  /** One response with a Content-Length body. */
  private static String readResponse(InputStream in) throws IOException {
    String head = RawUpstream.readHead(in);
    int cl = head.toLowerCase(java.util.Locale.ROOT).indexOf("content-length:");
    int length = 0;
    if (cl >= 0) {
      int end = head.indexOf("\r\n", cl);
      length = Integer.parseInt(head.substring(cl + 15, end).strip());
    }
    return head + new String(in.readNBytes(length), StandardCharsets.ISO_8859_1);
  }
}
