package io.hoptrace.proxy;

import static io.hoptrace.proxy.SpanLines.field;
import static io.hoptrace.proxy.SpanLines.tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.proxy.testing.Clients;
import io.hoptrace.proxy.testing.RefusedPort;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The inbound hop over real sockets: a real app, hoptrace in-process, real clients. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class InboundProxyTest extends InboundHarness {

  @Test
  void noTraceHeaders_startsTrace_andAppGetsTraceparentNamingTheServerSpan() throws Exception {
    start();
    HttpResponse<String> response = get("/orders/42?expand=items");
    assertThat(response.statusCode()).isEqualTo(200);

    TestUpstream.Received received = app.take();
    var traceparent = TRACEPARENT.matcher(received.header("traceparent"));
    assertThat(traceparent.matches()).as(received.header("traceparent")).isTrue();
    assertThat(received.uri()).isEqualTo("/orders/42?expand=items");

    String span = SpanLines.line(spanLog, 1);
    assertThat(field(span, "kind")).isEqualTo("SERVER");
    assertThat(field(span, "traceId")).isEqualTo(traceparent.group(1));
    assertThat(field(span, "id")).isEqualTo(traceparent.group(2));
    assertThat(span).doesNotContain("parentId");
    assertThat(field(span, "name")).isEqualTo("get /orders/42");
    assertThat(span).contains("\"serviceName\":\"orders\"");
    assertThat(tag(span, "http.method")).isEqualTo("GET");
    assertThat(tag(span, "http.path")).isEqualTo("/orders/42");
    assertThat(tag(span, "http.status_code")).isEqualTo("200");
    assertThat(tag(span, "hoptrace.context")).isEqualTo("started");
    assertThat(tag(span, "error")).isNull();

    // The request id is generated, handed to the app, written on the span, answered to the caller.
    String requestId = received.header("X-Request-Id");
    assertThat(requestId).isNotEmpty();
    assertThat(tag(span, "http.request_id")).isEqualTo(requestId);
    assertThat(response.headers().firstValue("X-Request-Id")).hasValue(requestId);
    assertThat(response.headers().firstValue("traceresponse"))
        .hasValue(received.header("traceparent"));
  }

  @Test
  void incomingRequestId_isKept() throws Exception {
    start();
    get("/", "X-Request-Id", "req-123");
    assertThat(app.take().header("X-Request-Id")).isEqualTo("req-123");
    assertThat(tag(SpanLines.line(spanLog, 1), "http.request_id")).isEqualTo("req-123");
  }

  @Test
  void traceresponse_off_isNotAnswered() throws Exception {
    start("response.traceresponse", "false", "response.request-id", "false");
    HttpResponse<String> response = get("/");
    assertThat(response.headers().firstValue("traceresponse")).isEmpty();
    assertThat(response.headers().firstValue("X-Request-Id")).isEmpty();
  }

  @Test
  void hopByHopHeaders_areRemoved_includingThoseNamedInConnection() throws Exception {
    start();
    String response =
        raw(
            String.join(
                "\r\n",
                "GET /hop HTTP/1.1",
                "Host: orders.local",
                "Connection: close, X-Hop-Secret",
                "X-Hop-Secret: s3cret",
                "Keep-Alive: timeout=5",
                "TE: trailers",
                "Proxy-Authorization: Basic Zm9vOmJhcg==",
                "Upgrade: websocket",
                "X-End-To-End: kept",
                "",
                ""));
    assertThat(response).startsWith("HTTP/1.1 200");
    TestUpstream.Received received = app.take();
    for (String hop :
        List.of("X-Hop-Secret", "Keep-Alive", "TE", "Proxy-Authorization", "Upgrade")) {
      assertThat(received.header(hop)).as(hop).isNull();
    }
    assertThat(received.header("Connection")).isNotEqualToIgnoringCase("close, X-Hop-Secret");
    assertThat(received.header("X-End-To-End")).isEqualTo("kept");
    assertThat(received.header("Host")).isEqualTo("orders.local");
  }

  @Test
  void forwardedHeaders_andVia_areAppended() throws Exception {
    start();
    get("/", "X-Forwarded-For", "203.0.113.9", "Via", "1.1 edge");
    TestUpstream.Received received = app.take();
    assertThat(received.header("X-Forwarded-For")).isEqualTo("203.0.113.9, 127.0.0.1");
    assertThat(received.header("X-Forwarded-Proto")).isEqualTo("http");
    assertThat(received.header("X-Forwarded-Host"))
        .isEqualTo("127.0.0.1:" + hoptrace.inboundAddress().getPort());
    assertThat(received.header("Via")).isEqualTo("1.1 edge, 1.1 hoptrace");
  }

  /** One keep-alive connection to the inbound listener from each local address, in order. */
  private void connectFrom(String[] binds, List<Socket> sockets) throws IOException {
    for (String bind : binds) {
      Socket socket = new Socket();
      sockets.add(socket);
      socket.bind(new InetSocketAddress(bind, 0));
      socket.connect(hoptrace.inboundAddress(), 2000);
      socket.setSoTimeout(10_000);
    }
  }

  /**
   * The caller's address is kept per connection (CallerAddress): three keep-alive connections from
   * two addresses, on hoptrace's I/O threads (at least two share one), take turns; each request's
   * span line and X-Forwarded-For name its own connection's peer, never another's.
   */
  @Test
  void callerAddress_isEachConnectionsOwn_acrossInterleavedKeepAliveRequests() throws Exception {
    start();
    String[] binds = {"127.0.0.1", "127.0.0.2", "127.0.0.1"};
    List<Socket> sockets = new java.util.ArrayList<>();
    try {
      connectFrom(binds, sockets);
      int requests = 0;
      for (int round = 0; round < 2; round++) {
        for (int c = 0; c < sockets.size(); c++) {
          Socket socket = sockets.get(c);
          socket
              .getOutputStream()
              .write(
                  ("POST /c"
                          + c
                          + "-r"
                          + round
                          + " HTTP/1.1\r\nHost: orders.local\r\n"
                          + "Content-Length: 1\r\n\r\nx")
                      .getBytes(StandardCharsets.ISO_8859_1));
          assertThat(readResponseHead(socket)).startsWith("HTTP/1.1 200");
          requests++;
          TestUpstream.Received received = app.take();
          assertThat(received.uri()).isEqualTo("/c" + c + "-r" + round);
          assertThat(received.header("X-Forwarded-For")).isEqualTo(binds[c]);
        }
      }
      List<String> lines = SpanLines.await(spanLog, requests);
      assertThat(lines).hasSize(requests);
      for (String line : lines) {
        int c = Character.digit(tag(line, "http.path").charAt(2), 10);
        assertThat(line)
            .contains(
                "\"remoteEndpoint\":{\"ipv4\":\""
                    + binds[c]
                    + "\",\"port\":"
                    + sockets.get(c).getLocalPort()
                    + "}");
      }
    } finally {
      for (Socket socket : sockets) socket.close();
    }
  }

  @Test
  void trust_isEachConnectionsOwn_acrossInterleavedKeepAliveRequests() throws Exception {
    start("trust.sources", "127.0.0.1/32");
    String[] binds = {"127.0.0.1", "127.0.0.2", "127.0.0.1", "127.0.0.2"};
    String traceId = "0af7651916cd43dd8448eb211c80319c";
    List<Socket> sockets = new java.util.ArrayList<>();
    try {
      connectFrom(binds, sockets);
      for (int round = 0; round < 3; round++) {
        for (int c = 0; c < sockets.size(); c++) {
          sockets
              .get(c)
              .getOutputStream()
              .write(
                  ("POST /t HTTP/1.1\r\nHost: orders.local\r\n"
                          + "traceparent: 00-"
                          + traceId
                          + "-b7ad6b7169203331-01\r\n"
                          + "Content-Length: 1\r\n\r\nx")
                      .getBytes(StandardCharsets.ISO_8859_1));
          assertThat(readResponseHead(sockets.get(c))).startsWith("HTTP/1.1 200");
          String sent = app.take().header("traceparent");
          if (binds[c].equals("127.0.0.1")) {
            assertThat(sent).as("round %d, %s", round, binds[c]).contains(traceId);
          } else {
            assertThat(sent).as("round %d, %s", round, binds[c]).doesNotContain(traceId);
          }
        }
      }
    } finally {
      for (Socket socket : sockets) socket.close();
    }
  }

  /** Reads one response with a 1-byte body (the app echoes "x"), returning its head. */
  private static String readResponseHead(Socket socket) throws IOException {
    java.io.InputStream in = socket.getInputStream();
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) throw new IOException("connection closed after: " + head);
      head.append((char) b);
    }
    assertThat(head.toString().toLowerCase(java.util.Locale.ROOT))
        .contains("content-length: 1\r\n");
    assertThat(in.read()).isEqualTo('x');
    return head.toString();
  }

  @Test
  void noAcceptEncodingFromCaller_appGetsNone() throws Exception {
    start();
    assertThat(get("/").statusCode()).isEqualTo(200);
    assertThat(app.take().header("Accept-Encoding")).isNull();
  }

  @Test
  void gzipResponse_isRelayedEncoded_notDecodedByTheProxy() throws Exception {
    start();
    HttpResponse<byte[]> response =
        client.send(
            HttpRequest.newBuilder(uri("/gzip")).header("Accept-Encoding", "gzip").build(),
            HttpResponse.BodyHandlers.ofByteArray());

    assertThat(response.headers().firstValue("Content-Encoding")).contains("gzip");
    assertThat(response.body()).isEqualTo(TestUpstream.gzip(TestUpstream.GZIP_TEXT));
    assertThat(app.take().header("Accept-Encoding")).isEqualTo("gzip");
  }

  @Test
  void largeHeaders_passThrough() throws Exception {
    start();
    String big = "v".repeat(20_000);
    assertThat(get("/", "X-Big", big).statusCode()).isEqualTo(200);
    assertThat(app.take().header("X-Big")).isEqualTo(big);
  }

  @Test
  void largeResponseHeaders_passThrough() throws Exception {
    start();
    // Four times the upstream client's response buffer: the head spans several reads.
    HttpResponse<String> response = get("/bighead?bytes=60000");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("X-Big")).hasValue("h".repeat(60_000));
    assertThat(response.body()).isEqualTo("big head");
  }

  /**
   * A response head over {@code upstream.max-response-head-bytes} is refused: 502 with Proxy-Status
   * naming it, the span's error and the counter say why, and the next request is served (the
   * refused head's connection is closed, not reused with the rest of that head in it).
   */
  @Test
  void responseHeadOverTheLimit_502_explained_counted_nextRequestServed() throws Exception {
    start(
        "upstream.max-response-head-bytes", "16KiB", "admin.host", "127.0.0.1", "admin.port", "0");
    HttpResponse<String> refused = get("/bighead?bytes=17000");
    assertThat(refused.statusCode()).isEqualTo(502);
    assertThat(refused.headers().firstValue("X-Big")).isEmpty();
    assertThat(refused.headers().firstValue("Proxy-Status"))
        .hasValueSatisfying(
            v -> assertThat(v).startsWith("hoptrace; error=http_response_header_section_size"));
    String span = SpanLines.line(spanLog, 1);
    assertThat(tag(span, "http.status_code")).isEqualTo("502");
    assertThat(tag(span, "error"))
        .isEqualTo("response head too large: over 16384 bytes (upstream.max-response-head-bytes)");

    for (int i = 0; i < 3; i++) { // under the limit: served, on the same path
      HttpResponse<String> served = get("/bighead?bytes=15000");
      assertThat(served.statusCode()).isEqualTo(200);
      assertThat(served.headers().firstValue("X-Big")).hasValue("h".repeat(15_000));
      assertThat(served.body()).isEqualTo("big head");
    }
    assertThat(get("/bighead?bytes=40000").statusCode()).isEqualTo(502);

    HttpResponse<String> metrics =
        adminGet("http://127.0.0.1:" + hoptrace.adminAddress().getPort() + "/metrics");
    assertThat(metrics.body())
        .contains("hoptrace_upstream_errors_response_head_too_large_total 2.0")
        .contains("hoptrace_upstream_errors_reset_total 0.0");
  }

  @Test
  void responseHeadOverTheDefault64KiB_isRefused() throws Exception {
    start();
    assertThat(get("/bighead?bytes=66000").statusCode()).isEqualTo(502);
    assertThat(get("/bighead?bytes=65000").statusCode()).isEqualTo(200);
  }

  /**
   * A head larger than the socket's buffers (here: 6 MB against at most 4 MB of send buffer and a 4
   * kB receive window) stops mid-field while the caller does not read. Undertow 2.4.4 released the
   * buffer holding its unsent part there and closed the connection: the caller got a head cut off.
   */
  @Test
  void largeResponseHead_toASlowReader_arrivesWhole() throws Exception {
    start("upstream.max-response-head-bytes", "8MiB");
    try (Socket socket = slowReader("/bighead?bytes=6000000")) {
      Thread.sleep(1000); // hoptrace's writes stall mid-head meanwhile
      String response =
          new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(response).startsWith("HTTP/1.1 200");
      assertThat(response.length()).isGreaterThan(6_000_000);
      assertThat(response).contains("h".repeat(6_000_000)).endsWith("\r\n\r\nbig head");
    }
  }

  @Test
  void largeResponseHead_callerLeavesMidHead_nextRequestsAreServed() throws Exception {
    start("upstream.max-response-head-bytes", "8MiB");
    for (int i = 0; i < 3; i++) {
      Socket socket = slowReader("/bighead?bytes=6000000");
      Thread.sleep(300); // stalled mid-head, then the caller closes without reading
      socket.close();
    }
    HttpResponse<String> response = get("/bighead?bytes=60000");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("big head");
  }

  /** A connection with a 4 kB receive window that sent {@code GET path} and reads nothing yet. */
  private Socket slowReader(String path) throws IOException {
    Socket socket = new Socket();
    socket.setReceiveBufferSize(4096); // before connect: the window it announces
    socket.connect(hoptrace.inboundAddress(), 2000);
    socket.setSoTimeout(10_000);
    socket
        .getOutputStream()
        .write(
            ("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
    return socket;
  }

  @Test
  void keepAlive_reusesPooledConnectionToTheApp() throws Exception {
    start();
    get("/a");
    get("/b");
    assertThat(app.take().remotePort()).isEqualTo(app.take().remotePort());
  }

  @Test
  void manySequentialRequests_shareOneUpstreamConnection() throws Exception {
    start();
    for (int i = 0; i < 200; i++) assertThat(get("/r" + i).statusCode()).isEqualTo(200);
    Set<Integer> ports = new HashSet<>();
    for (int i = 0; i < 200; i++) ports.add(app.take().remotePort());
    assertThat(ports).hasSize(1);
  }

  @Test
  void callersForwardedProto_isKept_theUpstreamClientAddsNoneOfItsOwn() throws Exception {
    start();
    HttpResponse<String> response = get("/", "X-Forwarded-Proto", "https");
    assertThat(response.statusCode()).isEqualTo(200);
    // hoptrace's forwarded-headers stage appends; Undertow's client alone would replace it.
    assertThat(app.take().header("X-Forwarded-Proto")).startsWith("https");
  }

  @Test
  void postBody_isForwarded_andResponseBodyReturned() throws Exception {
    start();
    HttpResponse<String> response =
        client.send(
            HttpRequest.newBuilder(uri("/echo"))
                .POST(HttpRequest.BodyPublishers.ofString("hello app"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("hello app");
    assertThat(response.headers().firstValue("X-App")).hasValue("echo");
    assertThat(response.headers().allValues("Via")).contains("1.1 hoptrace");
  }

  @Test
  void chunkedRequest_andChunkedResponse_streamThrough() throws Exception {
    start();
    long size = 3 * 1024 * 1024 + 17;
    HttpResponse<String> upload =
        client.send(
            HttpRequest.newBuilder(uri("/sink"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> Patterns.stream(size)))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(upload.body()).isEqualTo(size + " " + Patterns.crc(size));
    assertThat(app.take().header("Transfer-Encoding")).isEqualToIgnoringCase("chunked");

    HttpResponse<byte[]> download =
        client.send(
            HttpRequest.newBuilder(uri("/source?bytes=" + size)).build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(download.body()).hasSize((int) size);
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(download.body());
    assertThat(crc.getValue()).isEqualTo(Patterns.crc(size));
  }

  @Test
  void closeDelimitedResponse_isRelayedWhole() throws Exception {
    try (RawUpstream raw = new RawUpstream(RawUpstream.Mode.CLOSE_DELIMITED)) {
      start("app", "127.0.0.1:" + raw.port());
      HttpResponse<String> response = get("/");
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo(RawUpstream.CLOSE_DELIMITED_BODY);
    }
  }

  @Test
  void idleAppConnection_closedByTheApp_isNotReused() throws Exception {
    try (RawUpstream raw = new RawUpstream(RawUpstream.Mode.ANSWER_THEN_CLOSE_IDLE)) {
      start("app", "127.0.0.1:" + raw.port());
      assertThat(get("/one").body()).isEqualTo("ok");
      // The app closes the pooled connection while it is idle; the proxy must notice the close
      // (not skip it) before the next request picks a connection.
      while (raw.closedIdle.get() == 0) Thread.sleep(10);
      Thread.sleep(200);
      HttpResponse<String> second = get("/two");
      assertThat(second.statusCode()).isEqualTo(200);
      assertThat(second.body()).isEqualTo("ok");
      assertThat(raw.accepted.get()).isEqualTo(2);
    }
  }

  @Test
  void requestSentWhileTheFirstIsAtTheApp_isAnsweredAfterIt() throws Exception {
    start();
    try (Socket socket = new Socket()) {
      socket.connect(hoptrace.inboundAddress(), 2000);
      socket.setSoTimeout(10_000);
      var out = socket.getOutputStream();
      out.write(
          "GET /sleep?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      assertThat(app.take().uri()).startsWith("/sleep"); // the first is at the app now
      out.write("GET /second HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      var in = socket.getInputStream();
      String first = RawUpstream.readHead(in);
      assertThat(first).startsWith("HTTP/1.1 200");
      in.readNBytes(contentLength(first));
      String second = RawUpstream.readHead(in);
      assertThat(second).startsWith("HTTP/1.1 200");
      in.readNBytes(contentLength(second));
      assertThat(app.take().uri()).isEqualTo("/second");
    }
    assertThat(SpanLines.await(spanLog, 2)).hasSize(2);
  }

  @Test
  void clientHalfClosesWhileWaiting_stillGetsTheAnswer() throws Exception {
    start();
    try (Socket socket = new Socket()) {
      socket.connect(hoptrace.inboundAddress(), 2000);
      socket.setSoTimeout(10_000);
      socket
          .getOutputStream()
          .write(
              "GET /sleep?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(app.take().uri()).startsWith("/sleep");
      socket.shutdownOutput(); // FIN while the request is at the app
      String head = RawUpstream.readHead(socket.getInputStream());
      assertThat(head).startsWith("HTTP/1.1 200");
    }
  }

  private static int contentLength(String head) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("(?im)^Content-Length:\\s*(\\d+)").matcher(head);
    if (!m.find()) throw new AssertionError("no Content-Length in " + head);
    return Integer.parseInt(m.group(1));
  }

  @Test
  void head_204_304_haveNoBody() throws Exception {
    start();
    HttpResponse<String> head =
        client.send(
            HttpRequest.newBuilder(uri("/echo"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
    for (int code : new int[] {204, 304}) {
      String response =
          raw("GET /status?code=" + code + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assertThat(response).startsWith("HTTP/1.1 " + code);
      assertThat(response).endsWith("\r\n\r\n"); // nothing after the head
    }
    assertThat(tag(SpanLines.line(spanLog, 3), "http.status_code")).isEqualTo("304");
  }

  @Test
  void expect100Continue_isHonouredEndToEnd() throws Exception {
    start();
    Path body = dir.resolve("body.bin");
    java.nio.file.Files.write(body, "x".repeat(200_000).getBytes(StandardCharsets.US_ASCII));
    Process curl =
        new ProcessBuilder(
                "curl",
                "-sv",
                "--max-time",
                "10",
                "-H",
                "Expect: 100-continue",
                "--data-binary",
                "@" + body,
                uri("/sink").toString())
            .redirectErrorStream(true)
            .start();
    String output = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(curl.waitFor()).isZero();
    assertThat(output).contains("HTTP/1.1 100 Continue");
    assertThat(output).contains("200000 ");
  }

  @Test
  void jettyClient_startsOnlyWhenARequestNeedsIt() throws Exception {
    start("admin.host", "127.0.0.1", "admin.port", "0");
    String metrics = "http://127.0.0.1:" + hoptrace.adminAddress().getPort() + "/metrics";
    boolean jetty = "jetty".equals(upstreamClient);
    assertThat(get("/plain").statusCode()).isEqualTo(200);
    // Same-loop (the default) forwarded it itself: no Jetty client yet. Jetty: started up front.
    assertThat(adminGet(metrics).body())
        .contains("hoptrace_upstream_jetty_started " + (jetty ? "1.0" : "0.0"));
    // Expect: 100-continue is one of the requests same-loop hands to Jetty.
    Clients.Result curl =
        Clients.curl(
            uri("/sink").toString(),
            "-H",
            "Expect: 100-continue",
            "--data-binary",
            "x".repeat(2_000),
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}");
    assertThat(curl.exit()).as(curl.out()).isZero();
    assertThat(curl.out()).isEqualTo("200");
    assertThat(adminGet(metrics).body())
        .contains("hoptrace_upstream_jetty_started 1.0")
        .contains("hoptrace_upstream_jetty_start_failures 0.0");
    assertThat(get("/after").statusCode()).isEqualTo(200);
  }

  @Test
  void expect100Continue_refusedByTheApp_reachesTheCaller_withoutTheBody() throws Exception {
    try (RawUpstream raw = new RawUpstream(RawUpstream.Mode.REJECT)) {
      start("app", "127.0.0.1:" + raw.port());
      Path body = dir.resolve("body.bin");
      java.nio.file.Files.write(body, new byte[5_000_000]);
      Process curl =
          new ProcessBuilder(
                  "curl",
                  "-sv",
                  "--max-time",
                  "10",
                  "--expect100-timeout",
                  "5",
                  "-H",
                  "Expect: 100-continue",
                  "--data-binary",
                  "@" + body,
                  uri("/upload").toString())
              .redirectErrorStream(true)
              .start();
      String output = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      curl.waitFor();
      assertThat(output).contains("HTTP/1.1 417").doesNotContain("100 Continue");
      assertThat(tag(SpanLines.line(spanLog, 1), "http.status_code")).isEqualTo("417");
    }
  }

  @Test
  void appDown_answers502_withErrorSpan() throws Exception {
    try (RefusedPort refused = new RefusedPort()) {
      start("app", "127.0.0.1:" + refused.port());
      HttpResponse<String> response = get("/x");
      assertThat(response.statusCode()).isEqualTo(502);
      String span = SpanLines.line(spanLog, 1);
      assertThat(tag(span, "http.status_code")).isEqualTo("502");
      assertThat(tag(span, "error")).startsWith("connect: ");
      assertThat(response.headers().firstValue("traceresponse")).isPresent();
    }
  }

  @Test
  void appResets_answers502_withErrorSpan() throws Exception {
    try (RawUpstream raw = new RawUpstream(RawUpstream.Mode.RESET)) {
      start("app", "127.0.0.1:" + raw.port());
      HttpResponse<String> response = get("/x");
      assertThat(response.statusCode()).isEqualTo(502);
      String span = SpanLines.line(spanLog, 1);
      assertThat(tag(span, "error")).startsWith("reset: ");
    }
  }

  @Test
  void slowApp_answers504_withErrorSpan() throws Exception {
    start("upstream.response-timeout", "300ms");
    long t0 = System.nanoTime();
    HttpResponse<String> response = get("/sleep?ms=3000");
    assertThat(response.statusCode()).isEqualTo(504);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
    String span = SpanLines.line(spanLog, 1);
    assertThat(tag(span, "http.status_code")).isEqualTo("504");
    assertThat(tag(span, "error")).startsWith("timeout: ");
    assertThat(hoptrace.metrics().inFlight(io.hoptrace.proxy.metrics.ProxyMetrics.Hop.INBOUND))
        .isZero();
  }

  @Test
  void close_drainsInFlightRequest_andWritesItsSpan() throws Exception {
    start();
    CompletableFuture<HttpResponse<String>> slow =
        client.sendAsync(
            HttpRequest.newBuilder(uri("/sleep?ms=1500")).build(),
            HttpResponse.BodyHandlers.ofString());
    app.take(); // the request is at the app
    long t0 = System.nanoTime();
    hoptrace.close();
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThan(Duration.ofMillis(500));
    HttpResponse<String> response = slow.get(5, TimeUnit.SECONDS);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("slept");
    // close() returned only after the span line was flushed: no waiting here.
    assertThat(java.nio.file.Files.readAllLines(spanLog)).hasSize(1);
    // Not accepting any more.
    try (Socket socket = new Socket()) {
      socket.connect(hoptrace.inboundAddress(), 500);
      socket.setSoTimeout(1000);
      socket
          .getOutputStream()
          .write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(socket.getInputStream().read()).isEqualTo(-1);
    } catch (IOException expected) {
      // refused or reset: not accepting
    }
  }

  @Test
  void concurrentRequests_allAnswered_eachWithOneSpan() throws Exception {
    start();
    int total = 400;
    java.util.concurrent.Semaphore window = new java.util.concurrent.Semaphore(16);
    List<CompletableFuture<HttpResponse<String>>> responses = new java.util.ArrayList<>();
    for (int i = 0; i < total; i++) {
      window.acquire();
      HttpRequest request =
          i % 2 == 0
              ? HttpRequest.newBuilder(uri("/echo?i=" + i)).build()
              : HttpRequest.newBuilder(uri("/echo?i=" + i))
                  .POST(HttpRequest.BodyPublishers.ofString("body " + i))
                  .build();
      responses.add(
          client
              .sendAsync(request, HttpResponse.BodyHandlers.ofString())
              .whenComplete((r, e) -> window.release()));
    }
    for (int i = 0; i < total; i++) {
      HttpResponse<String> response = responses.get(i).get(10, TimeUnit.SECONDS);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo(i % 2 == 0 ? "" : "body " + i);
    }
    assertThat(SpanLines.await(spanLog, total)).hasSize(total);
    assertThat(hoptrace.metrics().inFlight(io.hoptrace.proxy.metrics.ProxyMetrics.Hop.INBOUND))
        .isZero();
  }

  @Test
  void clientGoneMidDownload_doesNotWedgeTheProxy() throws Exception {
    start();
    try (Socket socket = new Socket()) {
      socket.connect(hoptrace.inboundAddress(), 2000);
      socket
          .getOutputStream()
          .write(
              "GET /source?bytes=100000000 HTTP/1.1\r\nHost: x\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
      socket.getInputStream().readNBytes(100_000); // some of it, then hang up
    }
    String span = SpanLines.line(spanLog, 1);
    assertThat(tag(span, "error")).startsWith("client abort");
    assertThat(get("/echo").statusCode()).isEqualTo(200); // still serving
  }

  @Test
  void adminListener_isOffUnlessConfigured() throws Exception {
    start();
    assertThat(hoptrace.adminAddress()).isNull();
  }

  @Test
  void admin_healthReadyMetrics() throws Exception {
    start("admin.host", "127.0.0.1", "admin.port", "0");
    InetSocketAddress admin = hoptrace.adminAddress();
    assertThat(admin).isNotNull();
    String base = "http://127.0.0.1:" + admin.getPort();
    get("/");
    assertThat(adminGet(base + "/healthz").statusCode()).isEqualTo(200);
    assertThat(adminGet(base + "/readyz").statusCode()).isEqualTo(200);

    HttpResponse<String> metrics = adminGet(base + "/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
    PrometheusText.assertParses(metrics.body());
    assertThat(metrics.body())
        .contains("hoptrace_inbound_requests_total 1.0")
        .contains("hoptrace_inbound_latency_count 1")
        .contains("hoptrace_spanlog_written")
        .contains("hoptrace_spanlog_dropped 0.0")
        .contains("hoptrace_upstream_errors_timeout_total 0.0")
        .contains("hoptrace_inbound_inflight 0.0")
        .contains("hoptrace_inbound_context_started_total 1.0")
        .contains("hoptrace_ring_size 1.0")
        .contains("hoptrace_ring_refused 0.0");

    app.close();
    assertThat(adminGet(base + "/readyz").statusCode()).isEqualTo(503);
  }

  HttpResponse<String> adminGet(String url) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
