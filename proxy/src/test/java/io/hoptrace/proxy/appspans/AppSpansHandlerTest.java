package io.hoptrace.proxy.appspans;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.proxy.testing.Service;
import io.hoptrace.proxy.testing.Service.Forwarding;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code POST /spans} over real HTTP, against an in-process hoptrace and its span-log file. */
class AppSpansHandlerTest {
  static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir Path dir;
  Service service;

  @AfterEach
  void close() {
    if (service != null) service.close();
  }

  Service start(Service.Behaviour behaviour, Map<String, String> settings) throws Exception {
    Map<String, String> all = new HashMap<>(settings);
    all.put("admin.port", "0");
    service = Service.start("shop", Forwarding.NONE, behaviour, dir, all);
    return service;
  }

  Service start() throws Exception {
    return start((ex, out) -> "ok", Map.of());
  }

  static String adminUrl(Service s, String path) {
    return "http://127.0.0.1:" + s.hoptrace().adminAddress().getPort() + path;
  }

  static HttpResponse<String> post(Service s, String body) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(adminUrl(s, "/spans")))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static String metrics(Service s) throws Exception {
    return HTTP.send(
            HttpRequest.newBuilder(URI.create(adminUrl(s, "/metrics"))).build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  static long nowMicros() {
    return System.currentTimeMillis() * 1000L;
  }

  static String span(String name) {
    return "{\"name\":\"" + name + "\",\"timestamp\":" + nowMicros() + ",\"duration\":7}";
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> tags(Map<String, Object> span) {
    return (Map<String, Object>) span.get("tags");
  }

  static Map<String, Object> named(List<Map<String, Object>> spans, String name) {
    return spans.stream().filter(s -> name.equals(s.get("name"))).findFirst().orElseThrow();
  }

  @Test
  void post_duringARequest_spanWithoutIds_isChildOfItsServerSpan() throws Exception {
    Service s =
        start(
            (ex, out) -> {
              HttpResponse<String> r = post(service, "[" + span("cache get") + "]");
              return r.statusCode() + " " + r.body();
            },
            Map.of());

    HttpResponse<String> response =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(s.url("/checkout"))).build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(response.body()).isEqualTo("202 {\"accepted\":1,\"attached\":1,\"dropped\":0}\n");
    List<Map<String, Object>> spans = s.spans(2);
    Map<String, Object> server = named(spans, "get /checkout");
    Map<String, Object> app = named(spans, "cache get");
    assertThat(app)
        .containsEntry("traceId", server.get("traceId"))
        .containsEntry("parentId", server.get("id"))
        .doesNotContainKey("kind")
        .containsEntry("timestamp", app.get("timestamp"))
        .containsEntry("duration", 7L)
        .containsEntry("localEndpoint", Map.of("serviceName", "shop"));
    assertThat(tags(app))
        .containsEntry("hoptrace.source", "app")
        .containsEntry("hoptrace.link", "sole")
        .containsEntry("hoptrace.candidates", "1");
  }

  @Test
  void post_noRequestInFlight_startsATrace() throws Exception {
    Service s = start();

    HttpResponse<String> r = post(s, "[" + span("nightly job") + "]");

    assertThat(r.statusCode()).isEqualTo(202);
    Map<String, Object> app = s.spans(1).get(0);
    assertThat(app).doesNotContainKey("parentId");
    assertThat(tags(app))
        .containsEntry("hoptrace.link", "root")
        .containsEntry("hoptrace.candidates", "0");
  }

  @Test
  void post_spanWithIds_isKeptAsGiven() throws Exception {
    Service s = start();
    String body =
        "[{\"traceId\":\"0af7651916cd43dd8448eb211c80319c\",\"id\":\"b7ad6b7169203331\","
            + "\"parentId\":\"00f067aa0ba902b7\",\"kind\":\"PRODUCER\",\"name\":\"publish orders\","
            + "\"timestamp\":1700000000000000,\"duration\":12,"
            + "\"localEndpoint\":{\"serviceName\":\"shop-worker\"},"
            + "\"remoteEndpoint\":{\"ipv4\":\"10.0.0.9\",\"port\":5672},\"tags\":{\"queue\":\"orders\"}}]";

    HttpResponse<String> r = post(s, body);

    assertThat(r.statusCode()).isEqualTo(202);
    assertThat(r.body()).isEqualTo("{\"accepted\":1,\"attached\":0,\"dropped\":0}\n");
    Map<String, Object> app = s.spans(1).get(0);
    assertThat(app)
        .containsEntry("traceId", "0af7651916cd43dd8448eb211c80319c")
        .containsEntry("id", "b7ad6b7169203331")
        .containsEntry("parentId", "00f067aa0ba902b7")
        .containsEntry("kind", "PRODUCER")
        .containsEntry("timestamp", 1_700_000_000_000_000L)
        .containsEntry("localEndpoint", Map.of("serviceName", "shop-worker"))
        .containsEntry("remoteEndpoint", Map.of("ipv4", "10.0.0.9", "port", 5672L));
    assertThat(tags(app))
        .containsEntry("queue", "orders")
        .containsEntry("hoptrace.source", "app")
        .doesNotContainKey("hoptrace.link");
  }

  @Test
  void post_badField_is400WithTheReason_andCounted() throws Exception {
    Service s = start();

    HttpResponse<String> r =
        post(
            s,
            "["
                + span("a")
                + ",{\"traceId\":\"0af7651916cd43dd8448eb211c80319c\",\"id\":\"xyz\","
                + "\"timestamp\":1700000000000000}]");

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body())
        .isEqualTo("spans[1].id: \"xyz\" (expected: 16 lowercase hex, not all zeros)\n");
    assertThat(metrics(s)).contains("hoptrace_appspans_refused_bad_field_total 1.0");
    assertThat(s.hoptrace().metrics().counter("hoptrace.appspans.accepted").getCount()).isZero();
  }

  @Test
  void post_badJson_is400WithTheReason_andCounted() throws Exception {
    Service s = start();

    HttpResponse<String> r = post(s, "[{\"name\": nope}]");

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).startsWith("body: invalid JSON at line 1, column ");
    assertThat(metrics(s)).contains("hoptrace_appspans_refused_bad_json_total 1.0");
  }

  @Test
  void post_overMaxBody_is413() throws Exception {
    Service s = start((ex, out) -> "ok", Map.of("admin.spans.max-body", "1KiB"));

    String body = "[" + span("x".repeat(2000)) + "]";

    HttpResponse<String> r = post(s, body);

    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(r.body())
        .isEqualTo(
            "body: " + body.length() + " bytes (expected: at most admin.spans.max-body = 1024)\n");
    assertThat(metrics(s)).contains("hoptrace_appspans_refused_too_large_total 1.0");
  }

  @Test
  void post_overMaxBody_chunked_is413() throws Exception {
    Service s = start((ex, out) -> "ok", Map.of("admin.spans.max-body", "1KiB"));
    byte[] body =
        ("[" + span("x".repeat(2000)) + "]").getBytes(java.nio.charset.StandardCharsets.UTF_8);

    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(adminUrl(s, "/spans")))
                .POST(
                    HttpRequest.BodyPublishers.ofInputStream(
                        () -> new java.io.ByteArrayInputStream(body))) // no length: chunked
                .build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(r.body())
        .isEqualTo("body: more than 1024 bytes (expected: at most admin.spans.max-body)\n");
  }

  @Test
  void post_moreSpansThanAllowed_is413() throws Exception {
    Service s =
        start(
            (ex, out) -> "ok",
            Map.of("admin.spans.max-spans-per-request", "2", "admin.spans.burst", "2"));

    HttpResponse<String> r = post(s, "[" + span("a") + "," + span("b") + "," + span("c") + "]");

    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(r.body()).startsWith("spans: more than 2 ");
  }

  @Test
  void post_overTheRate_is429WithRetryAfter_andKeepsNone() throws Exception {
    Service s =
        start(
            (ex, out) -> "ok",
            Map.of(
                "admin.spans.rate", "1",
                "admin.spans.burst", "2",
                "admin.spans.max-spans-per-request", "2"));

    assertThat(post(s, "[" + span("a") + "," + span("b") + "]").statusCode()).isEqualTo(202);
    HttpResponse<String> r = post(s, "[" + span("c") + "," + span("d") + "]");

    assertThat(r.statusCode()).isEqualTo(429);
    assertThat(r.headers().firstValue("Retry-After"))
        .hasValueSatisfying(v -> assertThat(Long.parseLong(v)).isBetween(1L, 2L));
    assertThat(r.body()).startsWith("spans: 2 over the limit of 1 per second");
    assertThat(metrics(s)).contains("hoptrace_appspans_refused_rate_total 1.0");
    Thread.sleep(200);
    assertThat(s.spans(2)).extracting(m -> m.get("name")).containsExactly("a", "b");
  }

  @Test
  void get_is405() throws Exception {
    Service s = start();

    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(adminUrl(s, "/spans"))).build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(r.statusCode()).isEqualTo(405);
    assertThat(r.headers().firstValue("Allow")).hasValue("POST");
  }

  @Test
  void post_disabled_is404() throws Exception {
    Service s = start((ex, out) -> "ok", Map.of("admin.spans.enabled", "false"));

    assertThat(post(s, "[" + span("a") + "]").statusCode()).isEqualTo(404);
  }
}
