package io.hoptrace.testbed;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.hoptrace.config.Settings;
import io.hoptrace.proxy.Hoptrace;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * One toy service behind its own in-process hoptrace. The app propagates NO trace header: it calls
 * downstream through its hoptrace's forward proxy with only a {@code gt} query parameter (the
 * ground-truth id). A thread per request (a pool of 256), so concurrency is real; it records what
 * it knows in {@link Truth}.
 */
final class ToyApp implements AutoCloseable {
  final Topology.Service def;
  final Hoptrace hoptrace;
  final Path spanLog;
  private final HttpServer app;
  private final ExecutorService workers;
  private final HttpClient client;
  private final Truth truth;
  private final Dist dist;
  private final Map<String, ToyApp> callees;
  private final BooleanSupplier measuring;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicLong timerCalls = new AtomicLong();
  private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
  final AtomicLong failures = new AtomicLong();

  ToyApp(
      Topology.Service def,
      Dist dist,
      Map<String, ToyApp> callees,
      Truth truth,
      Path dir,
      String rule,
      BooleanSupplier measuring)
      throws Exception {
    this.def = def;
    this.dist = dist;
    this.callees = callees;
    this.truth = truth;
    this.measuring = measuring;
    this.spanLog = dir.resolve(def.name() + ".spans.jsonl");
    this.workers = Executors.newFixedThreadPool(256);
    this.app = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 512);
    app.setExecutor(workers);
    app.createContext("/", this::serve);
    app.start();
    Map<String, String> overrides = new HashMap<>();
    overrides.put("service", def.name());
    overrides.put("inbound.host", "127.0.0.1");
    overrides.put("inbound.port", "0");
    overrides.put("outbound.port", "0");
    overrides.put("app", "127.0.0.1:" + app.getAddress().getPort());
    overrides.put("span-log.path", spanLog.toString());
    overrides.put("span-log.flush-interval", "50ms");
    overrides.put("drain-time", "2s");
    // learned_timing: the learned rule on timing alone, without the value-sharing evidence
    boolean timingOnly = rule.equals("learned_timing");
    overrides.put("correlator.rule", timingOnly ? "learned" : rule);
    overrides.put("correlator.value-sharing", Boolean.toString(!timingOnly));
    this.hoptrace =
        Hoptrace.start(
            Settings.load(null, Map.of(), overrides),
            new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8));
    this.client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .proxy(ProxySelector.of(hoptrace.outbound().forwardProxyAddress()))
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    for (Topology.Timer t : def.timers()) {
      var unused =
          timers.scheduleAtFixedRate(
              () -> background(t.call()),
              t.periodMillis(),
              t.periodMillis(),
              TimeUnit.MILLISECONDS);
    }
  }

  /** The URL callers use: this service's hoptrace inbound listener. */
  String url(String pathAndQuery) {
    return "http://127.0.0.1:" + hoptrace.inboundAddress().getPort() + pathAndQuery;
  }

  private void serve(HttpExchange exchange) throws IOException {
    int status = 200;
    inFlight.incrementAndGet();
    try {
      String gt = gt(exchange.getRequestURI().getRawQuery());
      String traceparent = exchange.getRequestHeaders().getFirst("traceparent");
      boolean measured = measuring.getAsBoolean();
      if (gt != null && traceparent != null && traceparent.length() >= 55) {
        truth.inbound.add(
            new Truth.Inbound(
                def.name(),
                gt,
                traceparent.substring(3, 35),
                traceparent.substring(36, 52),
                measured));
      }
      String path = exchange.getRequestURI().getRawPath();
      Topology.Endpoint endpoint = endpoint(path);
      Map<String, String> bound = endpoint == null ? null : Topology.match(endpoint.path(), path);
      if (endpoint == null || bound == null) {
        status = 404;
      } else {
        work(endpoint, bound, gt == null ? "anon" : gt, measured);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      status = 500;
    } catch (Exception e) {
      failures.incrementAndGet();
      status = 500;
    } finally {
      inFlight.decrementAndGet(); // done with it: the response goes out next
    }
    exchange.getRequestBody().readAllBytes();
    exchange.sendResponseHeaders(status, -1);
    exchange.close();
  }

  private void work(
      Topology.Endpoint endpoint, Map<String, String> bound, String gt, boolean measured)
      throws Exception {
    // the phase that ends in the next call: when it began and the mean of its drawn duration
    long phaseStart = System.nanoTime();
    double phaseMean = endpoint.pre();
    sleep(endpoint.pre());
    for (Topology.Step step : endpoint.steps()) {
      List<CompletableFuture<HttpResponse<Void>>> pending = new ArrayList<>();
      for (Topology.Call call : step.calls()) {
        String callGt = Truth.newGt(); // opaque: nothing in it names the caller's gt
        long at = System.nanoTime();
        truth.calls.add(
            new Truth.Call(
                def.name(),
                gt,
                callGt,
                call.service(),
                inFlight.get(),
                measured,
                call.path(),
                at,
                phaseStart,
                phaseMean));
        phaseStart = at; // a parallel sibling follows at once
        phaseMean = 0;
        pending.add(send(call, bound, callGt));
      }
      for (CompletableFuture<HttpResponse<Void>> f : pending) {
        if (f.get(30, TimeUnit.SECONDS).statusCode() != 200) failures.incrementAndGet();
      }
      phaseStart = System.nanoTime();
      phaseMean = step.after();
      sleep(step.after());
    }
  }

  private void background(Topology.Call call) {
    timerCalls.incrementAndGet();
    String gt = Truth.newGt();
    long at = System.nanoTime();
    truth.calls.add(
        new Truth.Call(
            def.name(),
            null,
            gt,
            call.service(),
            inFlight.get(),
            measuring.getAsBoolean(),
            call.path(),
            at,
            at,
            -1));
    try {
      send(call, Map.of(), gt).get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      failures.incrementAndGet();
    }
  }

  /** Sends {@code call}, its path filled from the request's {@code bound} ids (or fresh ones). */
  private CompletableFuture<HttpResponse<Void>> send(
      Topology.Call call, Map<String, String> bound, String gt) {
    ToyApp callee = callees.get(call.service());
    if (callee == null) throw new IllegalStateException("no service " + call.service());
    String target = Topology.fill(call.path(), bound, ThreadLocalRandom.current());
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(callee.url(Topology.withGt(target, gt))))
            .timeout(Duration.ofSeconds(30))
            .build();
    return client.sendAsync(request, HttpResponse.BodyHandlers.discarding());
  }

  private Topology.@Nullable Endpoint endpoint(String path) {
    for (Topology.Endpoint e : def.endpoints()) {
      if (Topology.match(e.path(), path) != null) return e;
    }
    return null;
  }

  private void sleep(double meanMillis) throws InterruptedException {
    if (meanMillis <= 0) return;
    long nanos = dist.withMean(meanMillis).sampleNanos(ThreadLocalRandom.current());
    TimeUnit.NANOSECONDS.sleep(nanos);
  }

  static @Nullable String gt(@Nullable String query) {
    if (query == null) return null;
    for (String part : query.split("&", -1)) {
      if (part.startsWith("gt=")) return part.substring(3);
    }
    return null;
  }

  @Override
  public void close() {
    timers.shutdownNow();
    hoptrace.close();
    app.stop(0);
    workers.shutdownNow();
  }
}
