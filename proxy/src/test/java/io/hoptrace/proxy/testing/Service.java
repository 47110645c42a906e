package io.hoptrace.proxy.testing;

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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One service as it runs in production, in the test JVM: a tiny app (JDK HttpServer) behind its own
 * in-process hoptrace (inbound + outbound ports, its own span-log file). The app calls out through
 * its hoptrace's forward proxy with the JDK HttpClient and a {@link ProxySelector}, as any Java app
 * configured with a proxy would, and forwards exactly the headers its {@link Forwarding} says: by
 * default none.
 */
public final class Service implements AutoCloseable {
  /** Which inbound headers the app copies onto its outbound calls. */
  public enum Forwarding {
    NONE,
    TRACEPARENT,
    /** The single {@code b3} header (the service's hoptrace must write it: propagation.b3). */
    B3,
    REQUEST_ID
  }

  /** What the app does for each inbound request, given a way to call out. */
  public interface Behaviour {
    /** The response body; null leaves the request unanswered (and its thread free). */
    @Nullable String handle(HttpExchange exchange, Outbound outbound) throws Exception;
  }

  /** The app's outbound client: through hoptrace's forward proxy, forwarding per policy. */
  public final class Outbound {
    private final @Nullable HttpExchange inbound;

    Outbound(@Nullable HttpExchange inbound) {
      this.inbound = inbound;
    }

    /** GETs {@code url} and returns the body; throws unless 200. */
    public String get(String url) throws IOException, InterruptedException {
      HttpRequest.Builder request =
          HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
      if (inbound != null) {
        String header =
            switch (forwarding) {
              case NONE -> null;
              case TRACEPARENT -> "traceparent";
              case B3 -> "b3";
              case REQUEST_ID -> "X-Request-Id";
            };
        String value = header == null ? null : inbound.getRequestHeaders().getFirst(header);
        if (value != null) request.header(header, value);
      }
      HttpResponse<String> response =
          client.send(request.build(), HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IOException(url + ": " + response.statusCode() + " " + response.body());
      }
      return response.body();
    }
  }

  public final String name;
  final Forwarding forwarding;
  final HttpServer app;
  final Hoptrace hoptrace;
  final HttpClient client;
  final Path spanLog;

  private Service(
      String name,
      Forwarding forwarding,
      Behaviour behaviour,
      Path dir,
      Map<String, String> settings)
      throws Exception {
    this.name = name;
    this.forwarding = forwarding;
    this.spanLog = dir.resolve(name + ".spans.jsonl");
    this.app = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    app.setExecutor(Executors.newFixedThreadPool(16));
    app.createContext(
        "/",
        exchange -> {
          byte[] body;
          int status = 200;
          try {
            String text = behaviour.handle(exchange, new Outbound(exchange));
            if (text == null) return; // a request that never finishes (its thread is free)
            body = text.getBytes(StandardCharsets.UTF_8);
          } catch (Exception e) {
            status = 500;
            body = e.toString().getBytes(StandardCharsets.UTF_8);
          }
          exchange.getRequestBody().readAllBytes();
          exchange.sendResponseHeaders(status, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    app.start();
    Map<String, String> overrides = new HashMap<>();
    overrides.put("service", name);
    overrides.put("inbound.host", "127.0.0.1");
    overrides.put("inbound.port", "0");
    overrides.put("outbound.port", "0");
    overrides.put("app", "127.0.0.1:" + app.getAddress().getPort());
    overrides.put("span-log.path", spanLog.toString());
    overrides.put("span-log.flush-interval", "20ms");
    overrides.put("drain-time", "1s");
    overrides.putAll(settings);
    this.hoptrace =
        Hoptrace.start(
            Settings.load(null, Map.of(), overrides),
            new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8));
    this.client =
        HttpClient.newBuilder()
            .proxy(ProxySelector.of(hoptrace.outbound().forwardProxyAddress()))
            .connectTimeout(Duration.ofSeconds(5))
            .build();
  }

  /** Starts the app and its hoptrace; {@code settings} override hoptrace settings. */
  public static Service start(
      String name,
      Forwarding forwarding,
      Behaviour behaviour,
      Path dir,
      Map<String, String> settings)
      throws Exception {
    return new Service(name, forwarding, behaviour, dir, settings);
  }

  /** An outbound client not tied to an inbound request (a background job of the app). */
  public Outbound background() {
    return new Outbound(null);
  }

  /** The URL callers use to reach this service: its hoptrace's inbound listener. */
  public String url(String path) {
    return "http://127.0.0.1:" + hoptrace.inboundAddress().getPort() + path;
  }

  /** The forward-proxy port of this service's hoptrace: the app's HTTP_PROXY. */
  public int proxyPort() {
    return hoptrace.outbound().forwardProxyAddress().getPort();
  }

  public Hoptrace hoptrace() {
    return hoptrace;
  }

  /**
   * Waits (bounded) until the span log holds at least {@code count} lines and returns them parsed.
   */
  public List<Map<String, Object>> spans(int count) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      List<String> lines = Files.exists(spanLog) ? Files.readAllLines(spanLog) : List.of();
      if (lines.size() >= count || System.nanoTime() > deadline) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (String line : lines) if (!line.isBlank()) out.add(Json.object(line));
        return out;
      }
      Thread.sleep(20);
    }
  }

  @Override
  public void close() {
    hoptrace.close();
    app.stop(0);
    ((java.util.concurrent.ExecutorService) app.getExecutor()).shutdownNow();
  }
}
