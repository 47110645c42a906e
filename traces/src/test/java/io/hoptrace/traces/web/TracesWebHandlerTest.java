package io.hoptrace.traces.web;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.traces.Fixtures;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

class TracesWebHandlerTest {
  final TracesWebHandler handler =
      new TracesWebHandler(TraceSource.ofFiles(List.of(Fixtures.logs())));

  @Test
  void page_isSelfContained() {
    TracesWebHandler.Response r = handler.handle("GET", "/", null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.contentType()).startsWith("text/html");
    String html = r.bodyText();
    assertThat(html).contains("<script>").contains("<style>");
    // No network at run time: nothing is loaded from another origin.
    assertThat(html)
        .doesNotContain("src=\"http")
        .doesNotContain("href=\"http")
        .doesNotContain("@import");
  }

  @Test
  void list_filtersByQueryServiceAndDuration() {
    assertThat(handler.handle("GET", "/api/traces", null).bodyText()).contains("\"total\":3");
    assertThat(handler.handle("GET", "/api/traces", "service=orders").bodyText())
        .contains(Fixtures.CHECKOUT)
        .contains("\"total\":1");
    assertThat(handler.handle("GET", "/api/traces", "minDuration=2ms").bodyText())
        .contains("\"total\":2");
    assertThat(handler.handle("GET", "/api/traces", "minDuration=2000").bodyText())
        .contains("\"total\":2");
    assertThat(handler.handle("GET", "/api/traces", "q=" + Fixtures.REQUEST_ID).bodyText())
        .contains(Fixtures.CHECKOUT)
        .contains("\"total\":1");
    assertThat(handler.handle("GET", "/api/traces", "q=5c0a").bodyText())
        .contains(Fixtures.HEALTH)
        .contains("\"total\":1");
    assertThat(handler.handle("GET", "/api/traces", "status=error").bodyText())
        .contains("\"total\":1");
  }

  @Test
  void list_badParameters_are400() {
    assertThat(handler.handle("GET", "/api/traces", "minDuration=soon").status()).isEqualTo(400);
    assertThat(handler.handle("GET", "/api/traces", "status=meh").status()).isEqualTo(400);
    assertThat(handler.handle("GET", "/api/traces", "limit=x").status()).isEqualTo(400);
    assertThat(handler.handle("GET", "/api/traces", "q=%zz").status()).isEqualTo(200);
  }

  @Test
  void trace_byIdPrefixOrRequestId() {
    TracesWebHandler.Response r = handler.handle("GET", "/api/traces/" + Fixtures.CHECKOUT, null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.bodyText())
        .startsWith("{\"traceId\":\"" + Fixtures.CHECKOUT + "\"")
        .contains("\"hoptrace.link\":\"inferred\"");
    assertThat(handler.handle("GET", "/api/traces/4bf9", null).status()).isEqualTo(200);
    assertThat(handler.handle("GET", "/api/traces/" + Fixtures.REQUEST_ID, null).status())
        .isEqualTo(200);
    assertThat(handler.handle("GET", "/api/traces/ffff", null).status()).isEqualTo(404);
    assertThat(handler.handle("GET", "/api/traces/" + "a".repeat(200), null).status())
        .isEqualTo(400);
  }

  @Test
  void otherMethodsAndPaths_areRefused() {
    assertThat(handler.handle("POST", "/api/traces", null).status()).isEqualTo(405);
    assertThat(handler.handle("GET", "/etc/passwd", null).status()).isEqualTo(404);
  }

  @Test
  void linesSource_servesWhatAProxyHolds() throws Exception {
    List<String> lines = Files.readAllLines(Fixtures.logs().resolve("orders.log"), UTF_8);
    TracesWebHandler h = new TracesWebHandler(TraceSource.ofLines(() -> lines));
    assertThat(h.handle("GET", "/api/traces", null).bodyText()).contains("\"spans\":3");
  }

  @Test
  void recentLines_keepTheLastN() {
    RecentSpanLines recent = new RecentSpanLines(3);
    assertThat(recent.snapshot()).isEmpty();
    for (int i = 1; i <= 5; i++) recent.add("line" + i);
    assertThat(recent.snapshot()).containsExactly("line3", "line4", "line5");
  }

  @Test
  void httpServer_servesPageAndApiOnLoopback() throws Exception {
    try (TracesHttpServer server =
        TracesHttpServer.start(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), handler)) {
      HttpClient client = HttpClient.newHttpClient();
      URI base = URI.create("http://127.0.0.1:" + server.port());
      HttpResponse<String> page =
          client.send(
              HttpRequest.newBuilder(base.resolve("/")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(page.statusCode()).isEqualTo(200);
      assertThat(page.headers().firstValue("Content-Type")).contains("text/html; charset=utf-8");
      HttpResponse<String> api =
          client.send(
              HttpRequest.newBuilder(base.resolve("/api/traces?service=front")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(api.statusCode()).isEqualTo(200);
      assertThat(api.body()).contains("\"total\":2");
    }
  }
}
