package io.hoptrace.proxy.outbound;

import static io.hoptrace.proxy.outbound.ThreeServiceTraceTest.kind;
import static io.hoptrace.proxy.outbound.ThreeServiceTraceTest.tags;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpsServer;
import io.hoptrace.proxy.testing.Clients;
import io.hoptrace.proxy.testing.EchoServer;
import io.hoptrace.proxy.testing.Service;
import io.hoptrace.proxy.testing.Service.Forwarding;
import io.hoptrace.proxy.testing.TestTls;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the correlator decides for each kind of outbound call, seen in the span log of one service
 * behind a real hoptrace: real clients (curl, Python urllib, the JDK HttpClient) called from within
 * an inbound request are linked to it; a CONNECT tunnel too; background calls with nothing in
 * flight start traces; concurrent requests make inferred links with their candidates; the app's own
 * tracer's traceparent is continued.
 */
class OutboundCorrelationTest {
  @TempDir static Path dir;
  static EchoServer callee;
  static TestTls tls;
  static HttpsServer tlsServer;

  /** {@code outbound.engine}: the relay (the default); a subclass runs the tests on undertow. */
  String outboundEngine = "relay";

  /** {@code overrides} with this class's {@code outbound.engine}: a service's hoptrace settings. */
  Map<String, String> settings(Map<String, String> overrides) {
    Map<String, String> all = new HashMap<>(overrides);
    all.put("outbound.engine", outboundEngine);
    return all;
  }

  @BeforeAll
  static void startCallees() throws Exception {
    callee = new EchoServer();
    tls = TestTls.generate(dir);
    tlsServer = tls.server("secret");
  }

  @AfterAll
  static void stopCallees() {
    if (callee != null) callee.close();
    if (tlsServer != null) tlsServer.stop(0);
  }

  static String calleeUrl(String path) {
    return "http://127.0.0.1:" + callee.port() + path;
  }

  static String get(String url) throws Exception {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return response.body();
  }

  /** Each real client, run by the app inside an inbound request, is linked to that request. */
  @Test
  void realClients_insideAnInboundRequest_areLinkedSole() throws Exception {
    Service.Behaviour behaviour =
        (exchange, out) -> {
          String path = exchange.getRequestURI().getPath();
          Service self = APP.get();
          return switch (path) {
            case "/curl" -> Clients.curlViaProxy(self.proxyPort(), calleeUrl("/by-curl")).out();
            case "/python" ->
                Clients.pythonUrllib(self.proxyPort(), calleeUrl("/by-python"), Map.of()).out();
            case "/jdk" -> out.get(calleeUrl("/by-jdk"));
            case "/tls" -> tlsGet(self.proxyPort());
            default -> "?";
          };
        };
    try (Service app =
        Service.start(
            "clients",
            Forwarding.NONE,
            behaviour,
            dir,
            settings(
                Map.of(
                    "outbound.connect-ports",
                    Integer.toString(tlsServer.getAddress().getPort()))))) {
      APP.set(app);
      assertThat(get(app.url("/curl"))).startsWith("GET /by-curl");
      assertThat(get(app.url("/python"))).startsWith("GET /by-python");
      assertThat(get(app.url("/jdk"))).startsWith("GET /by-jdk");
      assertThat(get(app.url("/tls"))).isEqualTo("secret");

      List<Map<String, Object>> spans = app.spans(8);
      for (Map<String, Object> server : kind(spans, "SERVER")) {
        Map<String, Object> client = ThreeServiceTraceTest.childOf(spans, server, "CLIENT");
        assertThat(client.get("traceId")).isEqualTo(server.get("traceId"));
        assertThat(tags(client).get("hoptrace.link")).isEqualTo("sole");
        assertThat(tags(client).get("hoptrace.candidates")).isEqualTo("1");
        if (server.get("name").equals("get /tls")) {
          assertThat(client.get("name"))
              .isEqualTo("connect 127.0.0.1:" + tlsServer.getAddress().getPort());
          assertThat(Long.parseLong((String) tags(client).get("hoptrace.bytes_received")))
              .isPositive();
        } else {
          // the callee got the CLIENT span's context, not the SERVER span's
          assertThat(callee.received().stream().map(r -> r.header("traceparent")))
              .anyMatch(tp -> tp.contains("-" + client.get("id") + "-"));
        }
      }
    } finally {
      APP.set(null);
    }
  }

  static final java.util.concurrent.atomic.AtomicReference<Service> APP =
      new java.util.concurrent.atomic.AtomicReference<>();

  static String tlsGet(int proxyPort) throws Exception {
    HttpClient client =
        HttpClient.newBuilder()
            .proxy(
                ProxySelector.of(
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), proxyPort)))
            .sslContext(tls.context())
            .build();
    return client
        .send(
            HttpRequest.newBuilder(
                    URI.create("https://127.0.0.1:" + tlsServer.getAddress().getPort() + "/"))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  @Test
  void backgroundCall_nothingInFlightOrRecent_isRoot() throws Exception {
    try (Service app =
        Service.start("root", Forwarding.NONE, (ex, out) -> "ok", dir, settings(Map.of()))) {
      for (int i = 0; i < 3; i++) app.background().get(calleeUrl("/cron/" + i));
      List<Map<String, Object>> spans = app.spans(3);
      assertThat(spans).hasSize(3);
      for (Map<String, Object> span : spans) {
        assertThat(span.get("kind")).isEqualTo("CLIENT");
        assertThat(span).doesNotContainKey("parentId");
        assertThat(tags(span).get("hoptrace.link")).isEqualTo("root");
        assertThat(tags(span).get("hoptrace.candidates")).isEqualTo("0");
      }
      assertThat(spans.stream().map(s -> s.get("traceId")).distinct()).hasSize(3);
    }
  }

  @Test
  void fireAndForget_withinGrace_isInferred_afterGrace_isRoot() throws Exception {
    try (Service app =
        Service.start(
            "grace",
            Forwarding.NONE,
            (ex, out) -> "ok",
            dir,
            settings(Map.of("correlator.grace", "1500ms")))) {
      get(app.url("/order"));
      app.background().get(calleeUrl("/audit")); // just after the response: within the grace
      Thread.sleep(2000);
      app.background().get(calleeUrl("/later"));
      List<Map<String, Object>> spans = app.spans(3);
      Map<String, Object> server = kind(spans, "SERVER").get(0);
      List<Map<String, Object>> clients = kind(spans, "CLIENT");
      assertThat(clients).hasSize(2);
      Map<String, Object> audit = clients.get(0);
      assertThat(tags(audit).get("hoptrace.link")).isEqualTo("inferred");
      assertThat(tags(audit).get("hoptrace.candidates")).isEqualTo("0");
      assertThat(tags(audit).get("hoptrace.score")).isNotNull();
      assertThat(audit.get("parentId")).isEqualTo(server.get("id"));
      assertThat(tags(clients.get(1)).get("hoptrace.link")).isEqualTo("root");
    }
  }

  @Test
  void concurrentInboundRequests_areInferred_withCandidates() throws Exception {
    int concurrent = 4;
    CountDownLatch arrived = new CountDownLatch(concurrent);
    try (Service app =
        Service.start(
            "concurrent",
            Forwarding.NONE,
            (ex, out) -> {
              arrived.countDown();
              arrived.await(10, TimeUnit.SECONDS); // all four in flight before anyone calls out
              return out.get(calleeUrl("/work"));
            },
            dir,
            settings(Map.of()))) {
      ExecutorService pool = Executors.newFixedThreadPool(concurrent);
      try {
        List<Future<String>> results = new ArrayList<>();
        for (int i = 0; i < concurrent; i++) {
          int n = i;
          results.add(pool.submit(() -> get(app.url("/job/" + n))));
        }
        for (Future<String> r : results) assertThat(r.get(20, TimeUnit.SECONDS)).contains("/work");
      } finally {
        pool.shutdownNow();
      }
      List<Map<String, Object>> spans = app.spans(2 * concurrent);
      Set<Object> serverIds =
          kind(spans, "SERVER").stream().map(s -> s.get("id")).collect(Collectors.toSet());
      List<Map<String, Object>> clients = kind(spans, "CLIENT");
      assertThat(clients).hasSize(concurrent);
      for (Map<String, Object> client : clients) {
        assertThat(tags(client).get("hoptrace.link")).isEqualTo("inferred");
        assertThat(Integer.parseInt((String) tags(client).get("hoptrace.candidates")))
            .isGreaterThanOrEqualTo(2);
        assertThat((String) tags(client).get("hoptrace.score")).isNotBlank();
        assertThat(serverIds).contains(client.get("parentId"));
      }
    }
  }

  @Test
  void appsOwnTracerTraceparent_isContinuedAsHeader() throws Exception {
    String appSpan = "00f067aa0ba902b7";
    String appTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    try (Service app =
        Service.start("tracer", Forwarding.NONE, (ex, out) -> "ok", dir, settings(Map.of()))) {
      HttpResponse<String> response =
          HttpClient.newBuilder()
              .proxy(
                  ProxySelector.of(
                      new InetSocketAddress(InetAddress.getLoopbackAddress(), app.proxyPort())))
              .build()
              .send(
                  HttpRequest.newBuilder(URI.create(calleeUrl("/traced")))
                      .header("traceparent", "00-" + appTrace + "-" + appSpan + "-01")
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
      Map<String, Object> client = app.spans(1).get(0);
      assertThat(client.get("traceId")).isEqualTo(appTrace);
      assertThat(client.get("parentId")).isEqualTo(appSpan);
      assertThat(tags(client).get("hoptrace.link")).isEqualTo("header");
    }
  }
}
