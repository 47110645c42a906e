package io.hoptrace.proxy.outbound;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.proxy.testing.Service;
import io.hoptrace.proxy.testing.Service.Forwarding;
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
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The outbound hop's headline: front → b → c, three apps each behind its own hoptrace, called
 * serially. Whether the apps forward no header at all, the traceparent they were given, the b3
 * header, or only the X-Request-Id, the three span logs assemble into the same correct tree: every
 * CLIENT span a child of its service's SERVER span, every callee's SERVER span a child of its
 * caller's CLIENT span, all in one trace per request. Real sockets, real upstreams, real span-log
 * files.
 */
class ThreeServiceTraceTest {
  static final int REQUESTS = 5;

  @TempDir Path dir;

  /** {@code outbound.engine}: the relay (the default); a subclass runs the tests on undertow. */
  String outboundEngine = "relay";

  @ParameterizedTest
  @EnumSource(Forwarding.class)
  void serialCalls_threeSpanLogs_assembleTheTree(Forwarding forwarding) throws Exception {
    String expectedLink = forwarding == Forwarding.NONE ? "sole" : "header";
    Map<String, String> settings = new HashMap<>();
    settings.put("outbound.engine", outboundEngine);
    if (forwarding == Forwarding.B3) settings.put("propagation.b3", "single");
    try (Service c = Service.start("c", forwarding, (ex, out) -> "c", dir, settings);
        Service b =
            Service.start(
                "b", forwarding, (ex, out) -> "b>" + out.get(c.url("/c")), dir, settings);
        Service front =
            Service.start(
                "front", forwarding, (ex, out) -> "front>" + out.get(b.url("/b")), dir, settings)) {
      HttpClient caller = HttpClient.newHttpClient();
      for (int i = 0; i < REQUESTS; i++) {
        HttpResponse<String> response =
            caller.send(
                HttpRequest.newBuilder(URI.create(front.url("/front/" + i)))
                    .timeout(Duration.ofSeconds(10))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("front>b>c");
      }

      List<Map<String, Object>> frontSpans = front.spans(2 * REQUESTS);
      List<Map<String, Object>> bSpans = b.spans(2 * REQUESTS);
      List<Map<String, Object>> cSpans = c.spans(REQUESTS);
      assertThat(frontSpans).hasSize(2 * REQUESTS);
      assertThat(bSpans).hasSize(2 * REQUESTS);
      assertThat(cSpans).hasSize(REQUESTS);

      List<Map<String, Object>> roots = kind(frontSpans, "SERVER");
      assertThat(roots).hasSize(REQUESTS);
      for (Map<String, Object> root : roots) {
        assertThat(root).doesNotContainKey("parentId");
        String trace = (String) root.get("traceId");
        Map<String, Object> frontClient = childOf(frontSpans, root, "CLIENT");
        assertLinked(frontClient, expectedLink);
        Map<String, Object> bServer = childOf(bSpans, frontClient, "SERVER");
        assertThat(tags(bServer).get("hoptrace.context")).isEqualTo("extracted");
        Map<String, Object> bClient = childOf(bSpans, bServer, "CLIENT");
        assertLinked(bClient, expectedLink);
        Map<String, Object> cServer = childOf(cSpans, bClient, "SERVER");
        for (Map<String, Object> span : List.of(frontClient, bServer, bClient, cServer)) {
          assertThat(span.get("traceId")).isEqualTo(trace);
        }
        assertThat(tags(frontClient).get("http.request_id"))
            .isEqualTo(tags(root).get("http.request_id"));
      }
    }
  }

  static void assertLinked(Map<String, Object> client, String link) {
    assertThat(tags(client).get("hoptrace.link")).as(client.toString()).isEqualTo(link);
    assertThat(tags(client).get("hoptrace.candidates")).isEqualTo("1");
    assertThat(tags(client).get("http.status_code")).isEqualTo("200");
  }

  /** The one span of {@code kind} in {@code spans} whose parent is {@code parent}. */
  static Map<String, Object> childOf(
      List<Map<String, Object>> spans, Map<String, Object> parent, String kind) {
    List<Map<String, Object>> children = new ArrayList<>();
    for (Map<String, Object> span : kind(spans, kind)) {
      if (parent.get("id").equals(span.get("parentId"))) children.add(span);
    }
    assertThat(children).as("%s children of %s", kind, parent).hasSize(1);
    return children.get(0);
  }

  static List<Map<String, Object>> kind(List<Map<String, Object>> spans, String kind) {
    return spans.stream().filter(s -> kind.equals(s.get("kind"))).toList();
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> tags(Map<String, Object> span) {
    return (Map<String, Object>) span.get("tags");
  }
}
