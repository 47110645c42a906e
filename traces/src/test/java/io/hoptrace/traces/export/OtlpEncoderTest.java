package io.hoptrace.traces.export;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.sun.net.httpserver.HttpServer;
import io.hoptrace.traces.Fixtures;
import io.hoptrace.traces.SpanLogFiles;
import io.hoptrace.traces.SpanLogReader;
import io.hoptrace.traces.SpanRecord;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** OTLP payloads, checked by parsing them with the official opentelemetry-proto classes. */
class OtlpEncoderTest {
  static List<SpanRecord> checkout() {
    List<SpanRecord> out = new ArrayList<>();
    for (SpanRecord s :
        new SpanLogReader()
            .readAll(SpanLogFiles.expand(List.of(Fixtures.logs()), new ArrayList<>()))
            .spans()) {
      if (s.traceId().equals(Fixtures.CHECKOUT)) out.add(s);
    }
    assertThat(out).hasSize(6);
    return out;
  }

  static Map<String, AnyValue> attributes(List<KeyValue> kvs) {
    Map<String, AnyValue> out = new HashMap<>();
    for (KeyValue kv : kvs) {
      assertThat(out).as("attribute keys are unique").doesNotContainKey(kv.getKey());
      out.put(kv.getKey(), kv.getValue());
    }
    return out;
  }

  static ByteString hex(String hex) {
    return ByteString.copyFrom(HexFormat.of().parseHex(hex));
  }

  @Test
  void protobuf_parsesWithOfficialClasses_oneResourcePerService() throws Exception {
    ExportTraceServiceRequest request =
        ExportTraceServiceRequest.parseFrom(OtlpEncoder.protobuf(checkout()));
    Map<String, List<Span>> byService = new HashMap<>();
    for (ResourceSpans rs : request.getResourceSpansList()) {
      String service =
          attributes(rs.getResource().getAttributesList()).get("service.name").getStringValue();
      assertThat(rs.getScopeSpansList()).hasSize(1);
      assertThat(rs.getScopeSpans(0).getScope().getName()).isEqualTo("io.hoptrace");
      byService.put(service, rs.getScopeSpans(0).getSpansList());
    }
    assertThat(byService.keySet()).containsExactlyInAnyOrder("front", "orders", "inventory");
    assertThat(byService.get("front")).hasSize(2);
    assertThat(byService.get("orders")).hasSize(3);
    assertThat(byService.get("inventory")).hasSize(1);
    assertThat(request.getResourceSpansList()).hasSize(3);
  }

  @Test
  void protobuf_span_carriesIdsKindTimesAndSemanticAttributes() throws Exception {
    ExportTraceServiceRequest request =
        ExportTraceServiceRequest.parseFrom(OtlpEncoder.protobuf(checkout()));
    Map<String, Span> byId = new HashMap<>();
    for (ResourceSpans rs : request.getResourceSpansList()) {
      for (Span s : rs.getScopeSpans(0).getSpansList()) {
        byId.put(HexFormat.of().formatHex(s.getSpanId().toByteArray()), s);
      }
    }

    Span root = byId.get("a000000000000001");
    assertThat(root.getTraceId()).isEqualTo(hex(Fixtures.CHECKOUT));
    assertThat(root.getTraceId().size()).isEqualTo(16);
    assertThat(root.getSpanId().size()).isEqualTo(8);
    assertThat(root.getParentSpanId().isEmpty()).isTrue();
    assertThat(root.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_SERVER);
    assertThat(root.getName()).isEqualTo("GET /checkout");
    assertThat(root.getStartTimeUnixNano()).isEqualTo(Fixtures.T0 * 1_000);
    assertThat(root.getEndTimeUnixNano()).isEqualTo((Fixtures.T0 + 48_200) * 1_000);
    assertThat(root.getStatus().getCode()).isEqualTo(Status.StatusCode.STATUS_CODE_UNSET);
    Map<String, AnyValue> a = attributes(root.getAttributesList());
    assertThat(a.get("http.request.method").getStringValue()).isEqualTo("GET");
    assertThat(a.get("url.path").getStringValue()).isEqualTo("/checkout");
    assertThat(a.get("http.response.status_code").getIntValue()).isEqualTo(200);
    assertThat(a.get("hoptrace.context").getStringValue()).isEqualTo("started");
    assertThat(a.get("http.request_id").getStringValue()).isEqualTo(Fixtures.REQUEST_ID);
    assertThat(a.get("client.address").getStringValue()).isEqualTo("10.0.0.9");
    assertThat(a.get("network.peer.port").getIntValue()).isEqualTo(51532);
    assertThat(a).doesNotContainKeys("http.method", "http.path", "http.status_code", "error.type");

    Span inferred = byId.get("a000000000000004");
    assertThat(inferred.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_CLIENT);
    assertThat(inferred.getParentSpanId()).isEqualTo(hex("a000000000000003"));
    assertThat(inferred.getStatus().getCode()).isEqualTo(Status.StatusCode.STATUS_CODE_ERROR);
    assertThat(inferred.getStatus().getMessage()).isEqualTo("503");
    Map<String, AnyValue> b = attributes(inferred.getAttributesList());
    assertThat(b.get("error.type").getStringValue()).isEqualTo("503");
    assertThat(b.get("http.response.status_code").getIntValue()).isEqualTo(503);
    assertThat(b.get("hoptrace.link").getStringValue()).isEqualTo("inferred");
    assertThat(b.get("hoptrace.candidates").getStringValue()).isEqualTo("3");
    assertThat(b.get("hoptrace.score").getStringValue()).isEqualTo("0.82");
    assertThat(b.get("server.address").getStringValue()).isEqualTo("10.0.2.7");
    assertThat(b.get("server.port").getIntValue()).isEqualTo(7001);
    assertThat(b).doesNotContainKey("error");
  }

  @Test
  void errorType_clientReasonWithoutStatus_isTheReason() {
    SpanRecord s =
        SpanRecord.parse(
            "{\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"id\":\"00f067aa0ba902b7\","
                + "\"kind\":\"CLIENT\",\"name\":\"get /x\",\"tags\":{\"error\":\"connect timeout\"}}");
    assertThat(OtlpEncoder.errorType(s, false)).isEqualTo("connect timeout");
    assertThat(OtlpEncoder.errorMessage(s)).isEqualTo("connect timeout");
  }

  @Test
  void json_usesHexIdsAndStringNanos() {
    String json = OtlpEncoder.json(checkout());
    assertThat(json)
        .startsWith("{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\"")
        .contains("\"traceId\":\"" + Fixtures.CHECKOUT + "\",\"spanId\":\"a000000000000001\"")
        .contains("\"startTimeUnixNano\":\"" + Fixtures.T0 * 1_000 + "\"")
        .contains("\"kind\":2")
        .contains("{\"key\":\"http.response.status_code\",\"value\":{\"intValue\":\"503\"}}")
        .contains("\"status\":{\"message\":\"503\",\"code\":2}");
  }

  @Test
  void exporter_postsProtobufToV1Traces() throws Exception {
    AtomicReference<byte[]> body = new AtomicReference<>();
    AtomicReference<String> contentType = new AtomicReference<>();
    AtomicReference<String> path = new AtomicReference<>();
    HttpServer collector =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4);
    collector.createContext(
        "/",
        exchange -> {
          path.set(exchange.getRequestURI().getPath());
          contentType.set(exchange.getRequestHeaders().getFirst("Content-Type"));
          body.set(exchange.getRequestBody().readAllBytes());
          exchange.sendResponseHeaders(200, -1);
          exchange.close();
        });
    collector.start();
    try (OtlpHttpExporter exporter =
        new OtlpHttpExporter(
            URI.create("http://127.0.0.1:" + collector.getAddress().getPort()),
            OtlpHttpExporter.Encoding.PROTOBUF,
            Duration.ofSeconds(5))) {
      List<byte[]> lines = new ArrayList<>();
      for (SpanRecord s : checkout()) lines.add(s.line().getBytes(UTF_8));
      lines.add("not a span".getBytes(UTF_8));
      assertThat(exporter.export(lines)).isEqualTo(SpanExporter.Result.SUCCESS);
      assertThat(exporter.malformedLines()).isEqualTo(1);
    } finally {
      collector.stop(0);
    }
    assertThat(path.get()).isEqualTo("/v1/traces");
    assertThat(contentType.get()).isEqualTo("application/x-protobuf");
    ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(body.get());
    int spans = 0;
    for (ResourceSpans rs : request.getResourceSpansList()) {
      spans += rs.getScopeSpans(0).getSpansCount();
    }
    assertThat(spans).isEqualTo(6);
  }
}
