package io.hoptrace.proxy.export;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.hoptrace.proxy.testing.Service;
import io.hoptrace.proxy.testing.Service.Forwarding;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proxy's OTLP/HTTP export, against a recording endpoint: what a Collector would receive
 * ({@code POST /v1/traces}, the configured encoding, {@code service.name} and the HTTP
 * semantic-convention names). The encoding itself is checked against the official proto classes in
 * the traces module.
 */
class OtlpExportTest {
  /** One request the endpoint received: path, content type, body (bytes as Latin-1 text). */
  record Received(String path, String contentType, String body) {}

  @TempDir Path dir;
  HttpServer collector;
  final List<Received> received = new CopyOnWriteArrayList<>();

  @BeforeEach
  void startCollector() throws Exception {
    collector = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    collector.createContext(
        "/",
        ex -> {
          byte[] body = ex.getRequestBody().readAllBytes();
          received.add(
              new Received(
                  ex.getRequestURI().getPath(),
                  ex.getRequestHeaders().getFirst("Content-Type"),
                  new String(body, ISO_8859_1)));
          ex.sendResponseHeaders(200, -1);
          ex.close();
        });
    collector.start();
  }

  @AfterEach
  void stopCollector() {
    collector.stop(0);
  }

  String traceIdOfOneRequest(Service svc) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(svc.url("/items/7")))
                    .timeout(Duration.ofSeconds(10))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.headers().firstValue("traceresponse").orElseThrow().split("-", -1)[1];
  }

  Received awaitBody(String contains) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      for (Received r : received) if (r.body().contains(contains)) return r;
      Thread.sleep(20);
    }
    throw new AssertionError("no export containing " + contains + " in " + received);
  }

  Map<String, String> otlp(@Nullable String encoding) {
    Map<String, String> settings = new HashMap<>();
    settings.put("export.otlp.url", "http://127.0.0.1:" + collector.getAddress().getPort());
    settings.put("export.flush-interval", "20ms");
    if (encoding != null) settings.put("export.otlp.encoding", encoding);
    return settings;
  }

  @Test
  void json_postsToV1Traces_withServiceNameAndHttpSemanticConventions() throws Exception {
    try (Service svc =
        Service.start("catalog", Forwarding.NONE, (ex, out) -> "ok", dir, otlp("json"))) {
      String traceId = traceIdOfOneRequest(svc);
      Received r = awaitBody(traceId);
      assertThat(r.path()).isEqualTo("/v1/traces");
      assertThat(r.contentType()).isEqualTo("application/json");
      assertThat(r.body())
          .contains("\"service.name\"", "\"catalog\"")
          .contains("\"http.request.method\"", "\"url.path\"", "\"http.response.status_code\"")
          .contains("\"hoptrace.context\"")
          .doesNotContain("\"http.method\"");
    }
  }

  @Test
  void defaultEncoding_isProtobuf_postedToV1Traces() throws Exception {
    try (Service svc =
        Service.start("catalog", Forwarding.NONE, (ex, out) -> "ok", dir, otlp(null))) {
      traceIdOfOneRequest(svc);
      Received r = awaitBody("service.name");
      assertThat(r.path()).isEqualTo("/v1/traces");
      assertThat(r.contentType()).isEqualTo("application/x-protobuf");
      assertThat(r.body()).contains("catalog", "http.request.method", "GET /items/7");
    }
  }
}
