package io.hoptrace.proxy.export;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.proxy.testing.Json;
import io.hoptrace.proxy.testing.Service;
import io.hoptrace.proxy.testing.Service.Forwarding;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The waterfall page on the admin port, over the span lines this process wrote. */
class AdminTracesPageTest {
  @TempDir Path dir;

  final HttpClient client =
      HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

  HttpResponse<String> get(URI uri) throws Exception {
    return client.send(
        HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static URI admin(Service s, String path) {
    return URI.create("http://127.0.0.1:" + s.hoptrace().adminAddress().getPort() + path);
  }

  @Test
  void adminPort_servesPageAndApi_forTheSpansThisProcessWrote() throws Exception {
    try (Service svc =
        Service.start(
            "shop",
            Forwarding.NONE,
            (ex, out) -> "ok",
            dir,
            Map.of("admin.port", "0", "admin.recent-spans", "100"))) {
      List<String> traceIds = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        HttpResponse<String> r = get(URI.create(svc.url("/orders/" + i + "?x=1")));
        assertThat(r.statusCode()).isEqualTo(200);
        traceIds.add(r.headers().firstValue("traceresponse").orElseThrow().split("-", -1)[1]);
      }

      HttpResponse<String> bare = get(admin(svc, "/traces"));
      assertThat(bare.statusCode()).isEqualTo(302);
      assertThat(bare.headers().firstValue("Location")).hasValue("/traces/");

      HttpResponse<String> page = get(admin(svc, "/traces/"));
      assertThat(page.statusCode()).isEqualTo(200);
      assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
      assertThat(page.body()).containsIgnoringCase("<html").contains("api/traces");

      // The listing: one trace per request, most recent first, each rooted at shop's SERVER span.
      Map<String, Object> list = awaitTraces(svc, 3);
      @SuppressWarnings("unchecked")
      List<Map<String, Object>> traces = (List<Map<String, Object>>) list.get("traces");
      assertThat(traces)
          .extracting(t -> t.get("traceId"))
          .containsExactlyInAnyOrderElementsOf(traceIds);
      assertThat(traces).extracting(t -> t.get("rootService")).containsOnly("shop");
      assertThat(traces)
          .extracting(t -> t.get("rootName"))
          .containsExactlyInAnyOrder("get /orders/0", "get /orders/1", "get /orders/2");

      HttpResponse<String> one = get(admin(svc, "/traces/api/traces/" + traceIds.get(1)));
      assertThat(one.statusCode()).isEqualTo(200);
      assertThat(one.headers().firstValue("Content-Type"))
          .hasValue("application/json; charset=utf-8");
      assertThat(one.body()).contains("\"get /orders/1\"").contains("\"hoptrace.context\"");

      HttpResponse<String> filtered = get(admin(svc, "/traces/api/traces?service=nobody"));
      assertThat(Json.object(filtered.body()).get("traces")).isEqualTo(List.of());

      // The rest of the admin port is unchanged.
      assertThat(get(admin(svc, "/healthz")).statusCode()).isEqualTo(200);
      assertThat(get(admin(svc, "/tracesX")).statusCode()).isEqualTo(404);
    }
  }

  @Test
  void recentSpans_keepsOnlyTheLastN() throws Exception {
    try (Service svc =
        Service.start(
            "shop",
            Forwarding.NONE,
            (ex, out) -> "ok",
            dir,
            Map.of("admin.port", "0", "admin.recent-spans", "2"))) {
      for (int i = 0; i < 5; i++)
        assertThat(get(URI.create(svc.url("/n/" + i))).statusCode()).isEqualTo(200);
      svc.spans(5); // all five written
      Map<String, Object> list = awaitTraces(svc, 2);
      assertThat(list.get("spans")).isEqualTo(2L);
      assertThat(list.get("total")).isEqualTo(2L);
    }
  }

  @Test
  void tracesPageOff_isNotFound() throws Exception {
    try (Service svc =
        Service.start(
            "shop",
            Forwarding.NONE,
            (ex, out) -> "ok",
            dir,
            Map.of("admin.port", "0", "admin.traces-page", "false"))) {
      assertThat(get(admin(svc, "/traces/")).statusCode()).isEqualTo(404);
      assertThat(get(admin(svc, "/healthz")).statusCode()).isEqualTo(200);
    }
  }

  /** {@code /traces/api/traces}, polled (bounded) until it lists {@code count} traces. */
  Map<String, Object> awaitTraces(Service svc, long count) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      HttpResponse<String> r = get(admin(svc, "/traces/api/traces"));
      assertThat(r.statusCode()).isEqualTo(200);
      Map<String, Object> list = Json.object(r.body());
      if ((Long) list.get("total") >= count || System.nanoTime() > deadline) return list;
      Thread.sleep(20);
    }
  }
}
