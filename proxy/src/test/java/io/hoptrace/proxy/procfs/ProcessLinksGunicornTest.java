package io.hoptrace.proxy.procfs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpServer;
import io.hoptrace.config.Settings;
import io.hoptrace.proxy.Hoptrace;
import io.hoptrace.proxy.testing.Json;
import io.hoptrace.testing.ChildProcesses;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The acceptance test: a real prefork stack (gunicorn + Flask, calling out with {@code
 * requests} through {@code HTTP_PROXY}, forwarding no header) behind an in-process hoptrace, under
 * concurrent load. The test client sends each request with its own trace id; a recording callee
 * logs the traceparent hoptrace injected into the app's call. A call is right when the callee got
 * the trace id its caller sent.
 *
 * <p>Needs {@code gunicorn}, {@code python3-flask}, {@code python3-requests}. Skipped without them
 * unless {@code CI} is set: CI installs them, so there it must run.
 */
@Timeout(value = 400, unit = TimeUnit.SECONDS)
class ProcessLinksGunicornTest {
  static final int CLIENTS = 12;
  static final int REQUESTS = 100;
  static final int THREADS = 4;

  static final String APP =
      """
      import os, time
      import requests
      from flask import Flask

      app = Flask(__name__)
      CALLEE = os.environ["CALLEE"]

      @app.route("/work/<rid>")
      def work(rid):
          time.sleep(0.05)
          # No header forwarded: requests reads HTTP_PROXY and calls out through hoptrace.
          r = requests.get("%s/c/%s" % (CALLEE, rid), timeout=30)
          return "%d %d\\n" % (os.getpid(), r.status_code)
      """;

  private static final Pattern LISTENING =
      Pattern.compile("Listening at: http://127\\.0\\.0\\.1:(\\d+)");
  private static final Pattern BOOTING = Pattern.compile("Booting worker with pid: (\\d+)");

  @TempDir Path dir;
  Path gunicorn;
  HttpServer callee;
  ExecutorService calleeThreads;

  /** {@code outbound.engine}: the relay (the default); a subclass runs the tests on undertow. */
  String outboundEngine = "relay";

  /** Request id → trace id of the traceparent the callee received. */
  final Map<String, String> calleeSaw = new ConcurrentHashMap<>();

  @BeforeEach
  void setUp() throws Exception {
    Optional<Path> found = GunicornOwnershipTest.gunicorn();
    boolean usable =
        found.isPresent() && GunicornOwnershipTest.canImportFlaskAndRequests(found.get());
    if (System.getenv("CI") == null) {
      assumeTrue(usable, "gunicorn with flask and requests not installed");
    } else {
      assertThat(usable).as("CI must install gunicorn python3-flask python3-requests").isTrue();
    }
    gunicorn = found.orElseThrow();
    Files.writeString(dir.resolve("app.py"), APP, UTF_8);
    callee = recordingCallee(calleeSaw);
    calleeThreads = Executors.newFixedThreadPool(8);
    callee.setExecutor(calleeThreads);
    callee.start();
  }

  /**
   * A callee (not started) that answers 200 and records, per request id — its path's last segment —
   * the traceparent it got ("-" for none).
   */
  static HttpServer recordingCallee(Map<String, String> saw) throws IOException {
    HttpServer callee =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
    callee.createContext(
        "/",
        exchange -> {
          try (exchange) {
            String path = exchange.getRequestURI().getPath();
            String tp = exchange.getRequestHeaders().getFirst("traceparent");
            saw.put(path.substring(path.lastIndexOf('/') + 1), tp == null ? "-" : tp);
            byte[] body = "ok\n".getBytes(UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
              out.write(body);
            }
          }
        });
    return callee;
  }

  @AfterEach
  void tearDown() {
    if (callee != null) callee.stop(0);
    if (calleeThreads != null) calleeThreads.shutdownNow();
  }

  /** What one run under load produced. */
  record Run(
      String label,
      int calls,
      int right,
      Map<String, Integer> links,
      List<String> exactWrong,
      List<Map<String, String>> clientTags,
      long asked,
      long heldAll,
      long lookupNanos,
      double meanCallMillis,
      String counters) {
    double accuracy() {
      return calls == 0 ? 0 : (double) right / calls;
    }

    @Override
    public String toString() {
      return String.format(
          "%s: %d/%d right (%.1f%%), links %s, lookups %d (caller held all %d), mean lookup %.2f"
              + " ms, mean request %.1f ms; %s",
          label,
          right,
          calls,
          100 * accuracy(),
          links,
          asked,
          heldAll,
          asked == 0 ? 0.0 : lookupNanos / 1e6 / asked,
          meanCallMillis,
          counters);
    }
  }

  @Test
  void syncWorkers_everyCallIsExact_andTheCalleeGetsTheCallersTrace() throws Exception {
    Run run = run("sync 4 workers, procfs on", List.of("--workers", "4"), Map.of());
    System.out.println("process links gunicorn " + run);

    assertThat(run.calls()).isEqualTo(REQUESTS);
    // What is exact must be right, however loaded the machine: every process (and sole) link
    // names the request whose worker called, so its callee got that caller's trace.
    assertThat(run.exactWrong()).as("exact links to the wrong request: " + run).isEmpty();
    // How many calls get the exact link depends on timing (a lookup racing a worker's close, a
    // lookup over budget): 91-100 of 100 here at load 8-18. Most must; the rest stay inferred.
    assertThat(run.links().getOrDefault("process", 0) + run.links().getOrDefault("sole", 0))
        .as(run.toString())
        .isGreaterThanOrEqualTo(REQUESTS * 8 / 10);
    assertThat(run.links().getOrDefault("process", 0))
        .as(run.toString())
        .isGreaterThan(REQUESTS / 2);
    assertThat(run.right()).as(run.toString()).isGreaterThanOrEqualTo(REQUESTS * 8 / 10);
  }

  @Test
  void gthreadWorkers_candidatesShrinkToTheWorkersRequests() throws Exception {
    List<String> gthread =
        List.of("--workers", "2", "--worker-class", "gthread", "--threads", "" + THREADS);
    Run plain = run("gthread 2x4, procfs off", gthread, Map.of("procfs.enabled", "false"));
    calleeSaw.clear();
    Run narrowed = run("gthread 2x4, procfs on", gthread, Map.of());
    System.out.println("process links gunicorn " + plain);
    System.out.println("process links gunicorn " + narrowed);

    assertThat(narrowed.calls()).isEqualTo(REQUESTS);
    // A gthread worker owns every connection it accepted, also those waiting for one of its
    // threads, so its share can exceed --threads; it is always smaller than all in flight.
    int narrowedSpans = 0;
    Map<String, Integer> sizes = new TreeMap<>();
    for (Map<String, String> tags : narrowed.clientTags()) {
      if (tags.containsKey("hoptrace.inflight")) {
        narrowedSpans++;
        int candidates = Integer.parseInt(tags.get("hoptrace.candidates"));
        sizes.merge(candidates + "/" + tags.get("hoptrace.inflight"), 1, Integer::sum);
        assertThat(candidates)
            .as("candidates of a narrowed call: the worker's own requests")
            .isLessThan(Integer.parseInt(tags.get("hoptrace.inflight")));
      }
    }
    System.out.println(
        "process links gunicorn gthread: narrowed spans "
            + narrowedSpans
            + ", candidates/in flight "
            + sizes);
    assertThat(narrowed.exactWrong()).as("exact links to the wrong request").isEmpty();
    // Each lookup must have found the calling worker's requests: then the call is exact, narrowed
    // to them, or the worker held every request in flight (under load one gthread worker may
    // accept them all: "narrowed spans 0" in a run where the other got none). A lookup that timed
    // out, found no owner or the wrong one counts against it.
    assertThat(narrowed.links().getOrDefault("process", 0) + narrowedSpans + narrowed.heldAll())
        .as("exact, narrowed, or held by the caller entirely: " + narrowed)
        .isGreaterThanOrEqualTo(narrowed.asked() * 8 / 10)
        .isPositive();
    // Not asserted: narrowed accuracy >= plain. Both are ~3-12 % right on 100 calls here (the
    // default rule picks the newest candidate, usually one still queued), so the two differ by
    // sampling noise as often as by the narrowing: it failed 6 % vs 7 % under load. The accuracy
    // comparison is a measurement (docs/process-links.md), printed above for the record.
  }

  /** Starts hoptrace, then gunicorn behind it, drives the load, and reads the spans. */
  Run run(String label, List<String> workerArgs, Map<String, String> extra) throws Exception {
    int appPort = ChildProcesses.freePort();
    Path spanLog = dir.resolve("spans-" + System.nanoTime() + ".jsonl");
    Map<String, String> settings = new HashMap<>();
    settings.put("service", "flask");
    settings.put("inbound.host", "127.0.0.1");
    settings.put("inbound.port", "0");
    settings.put("outbound.port", "0");
    settings.put("outbound.engine", outboundEngine);
    settings.put("app", "127.0.0.1:" + appPort);
    settings.put("span-log.path", spanLog.toString());
    settings.put("span-log.flush-interval", "20ms");
    settings.put("drain-time", "2s");
    // Correctness must not hinge on this shared machine's load; the cost is reported. To see what
    // the default budget keeps on a given machine: -Dprocfs.lookup-budget=20ms.
    settings.put("procfs.lookup-budget", System.getProperty("procfs.lookup-budget", "1s"));
    settings.put("procfs.reprobe-interval", "200ms");
    settings.putAll(extra);
    Hoptrace hoptrace =
        Hoptrace.start(
            Settings.load(null, Map.of(), settings),
            new PrintStream(OutputStream.nullOutputStream(), true, UTF_8));
    Process process = null;
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    try {
      process =
          startGunicorn(appPort, hoptrace.outbound().forwardProxyAddress().getPort(), workerArgs);
      BlockingQueue<String> log = ChildProcesses.lines(process, "gunicorn-log");
      int workers = Integer.parseInt(workerArgs.get(workerArgs.indexOf("--workers") + 1));
      awaitBooted(log, workers);
      String inbound = "http://127.0.0.1:" + hoptrace.inboundAddress().getPort();
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
      awaitServing(http, inbound);
      ProcessEvidence evidence = hoptrace.processLinks().evidence();
      if (evidence != null) {
        Availability a = evidence.ownership().probe(); // every worker is up now
        assertThat(a.isAvailable()).as(a.reason()).isTrue();
      }
      long asked0 = evidence == null ? 0 : evidence.asked();
      long nanos0 = evidence == null ? 0 : evidence.lookupNanos();
      long heldAll0 = evidence == null ? 0 : evidence.heldAll();

      Map<String, String> sent = new ConcurrentHashMap<>();
      List<Future<Long>> done = new ArrayList<>();
      for (int i = 0; i < REQUESTS; i++) {
        String rid = "m" + i;
        done.add(clients.submit(() -> call(http, inbound, rid, sent)));
      }
      long totalNanos = 0;
      for (Future<Long> f : done) totalNanos += f.get(120, TimeUnit.SECONDS);
      long asked = evidence == null ? 0 : evidence.asked() - asked0;
      long lookupNanos = evidence == null ? 0 : evidence.lookupNanos() - nanos0;
      hoptrace.close(); // flushes every span line

      Map<String, Integer> links = new TreeMap<>();
      List<Map<String, String>> clientTags = new ArrayList<>();
      List<String> exactWrong = new ArrayList<>();
      for (String line : Files.readAllLines(spanLog, UTF_8)) {
        if (line.isBlank()) continue;
        Map<String, Object> span = Json.object(line);
        @SuppressWarnings("unchecked")
        Map<String, String> tags = (Map<String, String>) span.get("tags");
        if (!"CLIENT".equals(span.get("kind")) || !tags.get("http.path").contains("/c/m")) {
          continue;
        }
        clientTags.add(tags);
        String link = tags.get("hoptrace.link");
        if (!"process".equals(link)) System.out.println("  not process: " + tags);
        links.merge(link, 1, Integer::sum);
        if ("process".equals(link) || "sole".equals(link)) {
          String path = tags.get("http.path");
          String rid = path.substring(path.lastIndexOf('/') + 1);
          if (!String.valueOf(sent.get(rid)).equals(span.get("traceId"))) {
            exactWrong.add(link + " " + rid + ": sent " + sent.get(rid) + ", linked " + span);
          }
        }
      }
      int right = 0;
      for (Map.Entry<String, String> e : sent.entrySet()) {
        String tp = calleeSaw.get(e.getKey());
        if (tp != null && tp.startsWith("00-" + e.getValue() + "-")) right++;
      }
      return new Run(
          label,
          clientTags.size(),
          right,
          links,
          exactWrong,
          clientTags,
          asked,
          evidence == null ? 0 : evidence.heldAll() - heldAll0,
          lookupNanos,
          totalNanos / 1e6 / REQUESTS,
          evidence == null
              ? "procfs off"
              : evidence.ownership().counters()
                  + " retried "
                  + evidence.retried()
                  + " rechecked "
                  + evidence.rechecked()
                  + " availability "
                  + evidence.ownership().availability());
    } finally {
      clients.shutdownNow();
      hoptrace.close();
      if (process != null) GunicornOwnershipTest.stop(process);
    }
  }

  /** One request with its own trace id; returns its wall time in nanoseconds. */
  static long call(HttpClient http, String inbound, String rid, Map<String, String> sent)
      throws Exception {
    String traceId = hex(16);
    sent.put(rid, traceId);
    long t0 = System.nanoTime();
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(inbound + "/work/" + rid))
                .header("traceparent", "00-" + traceId + "-" + hex(8) + "-01")
                .timeout(Duration.ofSeconds(60))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body().trim()).endsWith(" 200");
    return System.nanoTime() - t0;
  }

  static String hex(int bytes) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < bytes; i++) {
      sb.append(String.format("%02x", ThreadLocalRandom.current().nextInt(256)));
    }
    return sb.toString();
  }

  /** Every worker imports the app lazily: a few sequential requests first, not counted. */
  void awaitServing(HttpClient http, String inbound) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    int ok = 0;
    while (ok < 8 && System.nanoTime() < end) {
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create(inbound + "/work/w" + ok))
                    .timeout(Duration.ofSeconds(30))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) ok++;
        else Thread.sleep(100);
      } catch (IOException e) {
        Thread.sleep(100);
      }
    }
    assertThat(ok).as("warm-up requests answered").isEqualTo(8);
  }

  static void awaitBooted(BlockingQueue<String> log, int workers) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    boolean listening = false;
    int booted = 0;
    List<String> seen = new ArrayList<>();
    while ((!listening || booted < workers) && System.nanoTime() < end) {
      String line = log.poll(1, TimeUnit.SECONDS);
      if (line == null) continue;
      seen.add(line);
      Matcher m = LISTENING.matcher(line);
      if (m.find()) listening = true;
      if (BOOTING.matcher(line).find()) booted++;
    }
    assertThat(booted).as("gunicorn booted workers: " + seen).isEqualTo(workers);
  }

  Process startGunicorn(int appPort, int proxyPort, List<String> workerArgs) throws IOException {
    List<String> cmd = new ArrayList<>();
    Path timeout = Paths.get("/usr/bin/timeout");
    if (Files.isExecutable(timeout)) cmd.addAll(List.of(timeout.toString(), "300"));
    cmd.add(gunicorn.toString());
    cmd.addAll(workerArgs);
    cmd.addAll(
        List.of(
            "--bind",
            "127.0.0.1:" + appPort,
            "--timeout",
            "60",
            "--graceful-timeout",
            "2",
            "--chdir",
            dir.toString(),
            "app:app"));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    ChildProcesses.useHttpProxy(pb, proxyPort);
    pb.environment().put("CALLEE", "http://127.0.0.1:" + callee.getAddress().getPort());
    return pb.start();
  }
}
