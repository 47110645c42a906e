package io.hoptrace.proxy.demo;

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
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One demo service as it would run in production: a tiny app (a JDK {@link HttpServer}) behind its
 * own hoptrace. Callers reach the app through hoptrace's inbound port; the app calls out through
 * hoptrace's forward proxy (its HTTP_PROXY), with the JDK HttpClient and a {@link ProxySelector},
 * and copies no header from the inbound request: linking its calls is left to hoptrace.
 */
final class DemoService implements AutoCloseable {
  /** What the app does for one request: a path in, a body out (a {@code null} body is a 404). */
  interface Handler {
    @org.jspecify.annotations.Nullable
    String handle(String path, DemoService self) throws IOException, InterruptedException;
  }

  final String name;
  private final HttpServer app;
  private final ExecutorService appThreads;
  private final Hoptrace hoptrace;
  private final HttpClient client;
  private final Path spanLog;

  private DemoService(String name, Handler handler, Path spanLog, Map<String, String> settings)
      throws Exception {
    this.name = name;
    this.spanLog = spanLog;
    this.app = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    this.appThreads = Executors.newFixedThreadPool(8, DemoThreads.named(name + "-app"));
    app.setExecutor(appThreads);
    app.createContext("/", exchange -> serve(exchange, handler));
    app.start();

    Map<String, String> overrides = new HashMap<>();
    overrides.put("service", name);
    overrides.put("inbound.host", "127.0.0.1");
    overrides.put("inbound.port", "0");
    overrides.put("outbound.port", "0");
    overrides.put("admin.port", "0");
    overrides.put("app", "127.0.0.1:" + app.getAddress().getPort());
    overrides.put("span-log.path", spanLog.toString());
    overrides.put("span-log.flush-interval", "50ms");
    overrides.put("drain-time", "2s");
    overrides.putAll(settings);
    try {
      // The user's HOPTRACE_* variables are not read: the demo runs the same everywhere.
      this.hoptrace =
          Hoptrace.start(
              Settings.load(null, Map.of(), overrides),
              new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8));
    } catch (Exception e) {
      app.stop(0);
      appThreads.shutdownNow();
      throw e;
    }
    this.client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .proxy(ProxySelector.of(outboundAddress()))
            .connectTimeout(Duration.ofSeconds(5))
            .build();
  }

  /** Starts the app and its hoptrace; {@code settings} override the demo's hoptrace settings. */
  static DemoService start(String name, Handler handler, Path spanLog, Map<String, String> settings)
      throws Exception {
    return new DemoService(name, handler, spanLog, settings);
  }

  private void serve(HttpExchange exchange, Handler handler) throws IOException {
    try (exchange) {
      exchange.getRequestBody().readAllBytes();
      int status = 200;
      String body;
      try {
        body = handler.handle(exchange.getRequestURI().getPath(), this);
        if (body == null) {
          status = 404;
          body = "not found\n";
        }
      } catch (IOException | RuntimeException e) {
        status = 502;
        body = name + ": " + e + "\n";
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        status = 503;
        body = name + ": interrupted\n";
      }
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
      exchange.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  /** A GET through this service's hoptrace (no header copied); the body, or throws unless 200. */
  String get(String url) throws IOException, InterruptedException {
    HttpResponse<String> response =
        client.send(request(url), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    return bodyIfOk(url, response);
  }

  /** The same, without waiting: the app's parallel calls. */
  CompletableFuture<String> getAsync(String url) {
    return client
        .sendAsync(request(url), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8))
        .thenApply(
            response -> {
              try {
                return bodyIfOk(url, response);
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
  }

  private static HttpRequest request(String url) {
    return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build();
  }

  private static String bodyIfOk(String url, HttpResponse<String> response) throws IOException {
    if (response.statusCode() != 200) {
      throw new IOException("GET " + url + ": " + response.statusCode() + " " + response.body());
    }
    return response.body();
  }

  /** Some work: sleeps between {@code minMillis} and {@code maxMillis}. */
  static void work(int minMillis, int maxMillis) throws InterruptedException {
    Thread.sleep(ThreadLocalRandom.current().nextInt(minMillis, maxMillis + 1));
  }

  /** The URL callers use: this service's hoptrace inbound listener. */
  String url(String path) {
    return "http://127.0.0.1:" + inboundAddress().getPort() + path;
  }

  InetSocketAddress appAddress() {
    return app.getAddress();
  }

  InetSocketAddress inboundAddress() {
    return hoptrace.inboundAddress();
  }

  /** The forward-proxy listener: what the app has as HTTP_PROXY. */
  InetSocketAddress outboundAddress() {
    return Objects.requireNonNull(hoptrace.outbound().forwardProxyAddress(), "outbound");
  }

  InetSocketAddress adminAddress() {
    return Objects.requireNonNull(hoptrace.adminAddress(), "admin");
  }

  /** Inbound requests this service's hoptrace holds as in flight at the app. */
  int inFlight() {
    return hoptrace.registry().inFlightCount();
  }

  Path spanLog() {
    return spanLog;
  }

  /** Drains the hoptrace (every span line is written when this returns), then stops the app. */
  @Override
  public void close() {
    hoptrace.close();
    app.stop(0);
    appThreads.shutdownNow();
  }
}
