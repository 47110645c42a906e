package io.hoptrace.traces.export;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.hoptrace.testing.ZipkinServer;
import io.hoptrace.traces.Fixtures;
import io.hoptrace.traces.SpanRecord;
import io.hoptrace.traces.cli.ExportCommand;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exports span logs to a real Zipkin server and reads the trace back through Zipkin's API: the span
 * lines are Zipkin v2 spans, so what comes back must be the same tree, names, tags and times.
 */
class ZipkinExportTest {
  static ZipkinServer zipkin;

  @BeforeAll
  static void startZipkin() throws Exception {
    zipkin = ZipkinServer.start();
  }

  @AfterAll
  static void stopZipkin() throws Exception {
    if (zipkin != null) zipkin.close();
  }

  /** front SERVER → front CLIENT → orders SERVER → orders CLIENT → inventory SERVER. */
  static Map<String, List<String>> checkoutLogs() throws IOException {
    Map<String, List<String>> byFile = new HashMap<>();
    Path logs = Fixtures.logs();
    for (String f : List.of("front/spans.log.1", "orders.log", "inventory.log")) {
      List<String> lines = new ArrayList<>();
      for (String line : Files.readAllLines(logs.resolve(f), UTF_8)) {
        SpanRecord s = SpanRecord.parse(line);
        if (s != null
            && s.traceId().equals(Fixtures.CHECKOUT)
            && !s.id().equals("a000000000000006")) {
          lines.add(line);
        }
      }
      byFile.put(f.replace('/', '-'), lines);
    }
    return byFile;
  }

  @Test
  void exportCommand_zipkin_traceReadsBackWithTheSameTree(@TempDir Path dir) throws Exception {
    Map<String, SpanRecord> expected = new HashMap<>();
    for (Map.Entry<String, List<String>> e : checkoutLogs().entrySet()) {
      Files.write(dir.resolve(e.getKey()), e.getValue(), UTF_8);
      for (String line : e.getValue()) {
        SpanRecord s = SpanRecord.parse(line);
        expected.put(s.id(), s);
      }
    }
    assertThat(expected).hasSize(5);

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        ExportCommand.run(
            new String[] {"--zipkin", zipkin.baseUri().toString(), dir.toString()},
            new PrintStream(out, true, UTF_8),
            new PrintStream(err, true, UTF_8));
    assertThat(err.toString(UTF_8)).isEmpty();
    assertThat(code).isZero();
    assertThat(out.toString(UTF_8))
        .startsWith("exported 5 of 5 spans in 1 batch to http://127.0.0.1:");

    List<SpanRecord> back = getTrace(Fixtures.CHECKOUT, 5);
    Map<String, SpanRecord> byId = new HashMap<>();
    for (SpanRecord s : back) byId.put(s.id(), s);
    assertThat(byId.keySet()).isEqualTo(expected.keySet());

    // The tree: each span's parent, kind, service and name.
    assertThat(describe(byId.get("a000000000000001"))).isEqualTo("null SERVER front get /checkout");
    assertThat(describe(byId.get("a000000000000002")))
        .isEqualTo("a000000000000001 CLIENT front get /orders/42");
    assertThat(describe(byId.get("a000000000000003")))
        .isEqualTo("a000000000000002 SERVER orders get /orders/42");
    assertThat(describe(byId.get("a000000000000004")))
        .isEqualTo("a000000000000003 CLIENT orders get /stock/42");
    assertThat(describe(byId.get("a000000000000005")))
        .isEqualTo("a000000000000004 SERVER inventory get /stock/42");

    for (SpanRecord s : back) {
      SpanRecord sent = expected.get(s.id());
      assertThat(s.timestampMicros()).as(s.id()).isEqualTo(sent.timestampMicros());
      assertThat(s.durationMicros()).as(s.id()).isEqualTo(sent.durationMicros());
      assertThat(s.tags()).as(s.id()).isEqualTo(sent.tags());
      assertThat(s.remoteIp()).isEqualTo(sent.remoteIp());
      assertThat(s.remotePort()).isEqualTo(sent.remotePort());
    }
    // The attribution survives the trip.
    assertThat(byId.get("a000000000000004").tags())
        .containsEntry("hoptrace.link", "inferred")
        .containsEntry("hoptrace.candidates", "3")
        .containsEntry("error", "503");
    assertThat(byId.get("a000000000000003").tags()).containsEntry("hoptrace.context", "extracted");
    assertThat(byId.get("a000000000000001").tags()).containsEntry("hoptrace.context", "started");
    assertThat(byId.get("a000000000000001").timestampMicros()).isEqualTo(Fixtures.T0);
    assertThat(byId.get("a000000000000001").durationMicros()).isEqualTo(48_200);
  }

  @Test
  void asyncQueue_zipkin_sendsInBatchesAndCounts() throws Exception {
    String traceId = "7e57000000000000000000000000abcd";
    try (AsyncExportQueue queue =
        AsyncExportQueue.newBuilder(new ZipkinExporter(zipkin.baseUri(), Duration.ofSeconds(10)))
            .batchSize(4)
            .flushInterval(Duration.ofMillis(50))
            .build()) {
      for (int i = 1; i <= 10; i++) {
        assertThat(
                queue.offer(
                    "{\"traceId\":\""
                        + traceId
                        + "\",\"id\":\""
                        + String.format("%016x", i)
                        + "\""
                        + (i == 1 ? "" : ",\"parentId\":\"0000000000000001\"")
                        + ",\"kind\":\"SERVER\",\"name\":\"get /q\",\"timestamp\":"
                        + (Fixtures.T0 + i)
                        + ",\"duration\":5,\"localEndpoint\":{\"serviceName\":\"q\"}}\n"))
            .isTrue();
      }
      assertThat(queue.awaitIdle(Duration.ofSeconds(30))).isTrue();
      assertThat(queue.sent()).isEqualTo(10);
      assertThat(queue.failed()).isZero();
      assertThat(queue.dropped()).isZero();
      assertThat(queue.batches()).isBetween(3L, 10L);
    }
    assertThat(getTrace(traceId, 10)).hasSize(10);
  }

  static String describe(SpanRecord s) {
    return s.parentId() + " " + s.kind() + " " + s.serviceName() + " " + s.name();
  }

  /** GET /api/v2/trace/{id}, polled briefly: Zipkin stores spans asynchronously. */
  static List<SpanRecord> getTrace(String traceId, int expectedSpans) throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    URI uri = zipkin.baseUri().resolve("/api/v2/trace/" + traceId);
    List<SpanRecord> spans = List.of();
    for (int i = 0; i < 100 && spans.size() < expectedSpans; i++) {
      HttpResponse<String> r =
          client.send(
              HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200) spans = parseArray(r.body());
      if (spans.size() < expectedSpans) Thread.sleep(100);
    }
    return spans;
  }

  /** A JSON array of Zipkin v2 spans, each read with the same parser as span lines. */
  static List<SpanRecord> parseArray(String json) throws IOException {
    List<SpanRecord> out = new ArrayList<>();
    JsonFactory f = new JsonFactory();
    try (JsonParser p = f.createParser(json)) {
      assertThat(p.nextToken()).isEqualTo(JsonToken.START_ARRAY);
      while (p.nextToken() == JsonToken.START_OBJECT) {
        StringWriter w = new StringWriter();
        try (JsonGenerator g = f.createGenerator(w)) {
          g.copyCurrentStructure(p);
        }
        SpanRecord s = SpanRecord.parse(w.toString());
        assertThat(s).as(w.toString()).isNotNull();
        out.add(s);
      }
    }
    return out;
  }
}
