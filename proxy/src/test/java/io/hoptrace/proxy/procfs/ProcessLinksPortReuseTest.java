package io.hoptrace.proxy.procfs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.hoptrace.config.Settings;
import io.hoptrace.proxy.Hoptrace;
import io.hoptrace.proxy.testing.Json;
import io.hoptrace.testing.ChildProcesses;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An app port reused by another process after a close maps to the new owner, through the close
 * listener hoptrace's outbound listener puts on each app connection (it forgets the cached owner).
 *
 * <p>The app is three prefork processes sharing one listener (plain Python, no packages). One holds
 * request C. Another serves request A: it calls out through hoptrace's forward proxy from an
 * ephemeral port P (two requests in flight: hoptrace looks P's owner up and caches it), the call
 * ends (hoptrace closes: {@code Connection: close}), and it holds A open. The third — the only one
 * accepting now — serves request B and calls out from the same port P. The outbound lookup for B's
 * call must read the third worker as P's owner, not A's from the cache of the first call, or B's
 * call would be linked to A's trace.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ProcessLinksPortReuseTest {
  static final String APP =
      """
      import os, socket, sys, time
      from http.server import HTTPServer, BaseHTTPRequestHandler

      PROXY = int(os.environ["PROXY_PORT"])
      CALLEE = os.environ["CALLEE"]
      DIR = os.environ["MARKS"]
      WORKERS = 3

      def call(port, rid):
          # No header forwarded; the call's source port is chosen (0: the kernel's).
          deadline = time.time() + 10
          while True:
              s = socket.socket()
              s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
              try:
                  s.bind(("127.0.0.1", port))
                  s.connect(("127.0.0.1", PROXY))
                  break
              except OSError:
                  s.close()
                  if time.time() > deadline:
                      raise
                  time.sleep(0.01)
          local = s.getsockname()[1]
          s.sendall(("GET http://%s/c/%s HTTP/1.1\\r\\nHost: %s\\r\\nConnection: close\\r\\n\\r\\n"
                     % (CALLEE, rid, CALLEE)).encode())
          data = b""
          while True:
              chunk = s.recv(4096)
              if not chunk:
                  break
              data += chunk
          s.close()
          return local, data.split(b" ", 2)[1].decode()

      class Handler(BaseHTTPRequestHandler):
          def do_GET(self):
              # /call/<rid>/<source port>[/hold] or /hold/<rid>
              parts = self.path.split("/")
              local, status = (0, "-") if parts[1] == "hold" else call(int(parts[3]), parts[2])
              if parts[1] == "hold" or len(parts) > 4:
                  mark = os.path.join(DIR, parts[2] + ".held")
                  with open(mark + ".tmp", "w") as f:
                      f.write("%d %d\\n" % (local, os.getpid()))
                  os.rename(mark + ".tmp", mark)  # whole when seen
                  release = os.path.join(DIR, "release")
                  deadline = time.time() + 60
                  while not os.path.exists(release) and time.time() < deadline:
                      time.sleep(0.01)
              body = ("%d %d %s\\n" % (os.getpid(), local, status)).encode()
              self.send_response(200)
              self.send_header("Content-Length", str(len(body)))
              self.end_headers()
              self.wfile.write(body)

          def log_message(self, *args):
              pass

      server = HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
      children = []
      for _ in range(WORKERS - 1):
          pid = os.fork()
          if pid == 0:
              children = []
              break
          children.append(pid)
      os.write(1, b"worker %d\\n" % os.getpid())
      try:
          server.serve_forever(poll_interval=0.05)
      finally:
          for pid in children:
              os.kill(pid, 15)
      """;

  @TempDir Path dir;
  HttpServer callee;

  /** {@code outbound.engine}: the relay (the default); a subclass runs the test on undertow. */
  String outboundEngine = "relay";

  /** Request id → the traceparent the callee received. */
  final Map<String, String> calleeSaw = new ConcurrentHashMap<>();

  @BeforeEach
  void setUp() throws Exception {
    callee = ProcessLinksGunicornTest.recordingCallee(calleeSaw);
    callee.start();
  }

  @AfterEach
  void tearDown() {
    if (callee != null) callee.stop(0);
  }

  @Test
  void aSourcePortReusedByAnotherWorker_linksToThatWorkersRequest() throws Exception {
    int appPort = ChildProcesses.freePort();
    Path spanLog = dir.resolve("spans.jsonl");
    Path marks = Files.createDirectory(dir.resolve("marks"));
    Hoptrace hoptrace =
        Hoptrace.start(
            Settings.load(
                null,
                Map.of(),
                Map.of(
                    "service", "py",
                    "inbound.host", "127.0.0.1",
                    "inbound.port", "0",
                    "outbound.port", "0",
                    "outbound.engine", outboundEngine,
                    "app", "127.0.0.1:" + appPort,
                    "span-log.path", spanLog.toString(),
                    "span-log.flush-interval", "20ms",
                    // Correctness must not hinge on this shared machine's load.
                    "procfs.lookup-budget", "1s",
                    "procfs.reprobe-interval", "200ms")),
            new PrintStream(OutputStream.nullOutputStream(), true, UTF_8));
    Process app = null;
    try {
      Files.writeString(dir.resolve("app.py"), APP, UTF_8);
      ProcessBuilder pb =
          new ProcessBuilder("python3", dir.resolve("app.py").toString(), "" + appPort)
              .redirectErrorStream(true);
      pb.environment().put("PROXY_PORT", "" + hoptrace.outbound().forwardProxyAddress().getPort());
      pb.environment().put("CALLEE", "127.0.0.1:" + callee.getAddress().getPort());
      pb.environment().put("MARKS", marks.toString());
      app = pb.start();
      BlockingQueue<String> log = ChildProcesses.lines(app, "py-app");
      List<String> workers = new ArrayList<>();
      while (workers.size() < 3) {
        String line = log.poll(30, TimeUnit.SECONDS);
        assertThat(line).as("the app's workers started: " + workers).isNotNull();
        if (line.startsWith("worker ")) workers.add(line.substring(7));
      }
      ProcessEvidence evidence = hoptrace.processLinks().evidence();
      assertThat(evidence).as("procfs evidence on this machine").isNotNull();
      Availability availability = evidence.ownership().probe();
      assertThat(availability.isAvailable()).as(availability.reason()).isTrue();

      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
      String inbound = "http://127.0.0.1:" + hoptrace.inboundAddress().getPort();
      String traceA = ProcessLinksGunicornTest.hex(16);
      String traceB = ProcessLinksGunicornTest.hex(16);

      // C holds a worker without calling out: A's call then has two requests in flight and is
      // linked by a lookup of its port's owner (alone, it would be "sole", with no lookup).
      CompletableFuture<HttpResponse<String>> c =
          http.sendAsync(
              request(inbound + "/hold/c", ProcessLinksGunicornTest.hex(16)), ofString());
      awaitHeld(marks.resolve("c.held"), c);
      // A: a second worker calls from an ephemeral port P, the call closes, A stays in flight.
      CompletableFuture<HttpResponse<String>> a =
          http.sendAsync(request(inbound + "/call/a/0/hold", traceA), ofString());
      String[] held = awaitHeld(marks.resolve("a.held"), a);
      int port = Integer.parseInt(held[0]);
      String workerA = held[1];

      // B: the third worker (the others are busy) calls from the same port P.
      HttpResponse<String> b = http.send(request(inbound + "/call/b/" + port, traceB), ofString());
      Files.writeString(marks.resolve("release"), "", UTF_8);
      HttpResponse<String> aDone = a.get(30, TimeUnit.SECONDS);
      assertThat(aDone.statusCode()).as(aDone.body()).isEqualTo(200);
      assertThat(c.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      assertThat(b.statusCode()).as(b.body()).isEqualTo(200);
      String[] servedB = b.body().trim().split(" ", -1);
      assertThat(servedB[0]).as("B served by the other worker").isNotEqualTo(workerA);
      assertThat(servedB[1]).as("B's call from A's source port").isEqualTo("" + port);
      assertThat(servedB[2]).isEqualTo("200");

      hoptrace.close(); // flushes every span line
      Map<String, Map<String, String>> clientTags = new HashMap<>();
      Map<String, Object> spanB = null;
      for (String line : Files.readAllLines(spanLog, UTF_8)) {
        if (line.isBlank()) continue;
        Map<String, Object> span = Json.object(line);
        @SuppressWarnings("unchecked")
        Map<String, String> tags = (Map<String, String>) span.get("tags");
        if (!"CLIENT".equals(span.get("kind"))) continue;
        String path = tags.get("http.path");
        clientTags.put(path, tags);
        if ("/c/b".equals(path)) spanB = span;
      }
      assertThat(spanB).as("B's call span: " + clientTags).isNotNull();
      assertThat(clientTags.get("/c/a"))
          .as("A's call looked its port's owner up (and cached it)")
          .containsEntry("hoptrace.link", "process");
      assertThat(clientTags.get("/c/b"))
          .as("B's call is linked by its worker, P's new owner")
          .containsEntry("hoptrace.link", "process");
      assertThat(spanB.get("traceId")).as("B's call carries B's trace").isEqualTo(traceB);
      assertThat(calleeSaw.get("b")).startsWith("00-" + traceB + "-");
      assertThat(calleeSaw.get("a")).startsWith("00-" + traceA + "-");
    } finally {
      hoptrace.close();
      if (app != null) GunicornOwnershipTest.stop(app);
    }
  }

  /** Waits for the app's mark that a request is held; returns the mark's words. */
  static String[] awaitHeld(Path mark, CompletableFuture<HttpResponse<String>> request)
      throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!Files.exists(mark) && System.nanoTime() < end && !request.isDone()) {
      Thread.sleep(10);
    }
    assertThat(Files.exists(mark)).as(mark + " written: " + request).isTrue();
    return Files.readString(mark, UTF_8).trim().split(" ", -1);
  }

  static HttpRequest request(String uri, String traceId) {
    return HttpRequest.newBuilder(URI.create(uri))
        .header("traceparent", "00-" + traceId + "-" + ProcessLinksGunicornTest.hex(8) + "-01")
        .timeout(Duration.ofSeconds(60))
        .build();
  }

  static HttpResponse.BodyHandler<String> ofString() {
    return HttpResponse.BodyHandlers.ofString();
  }
}
