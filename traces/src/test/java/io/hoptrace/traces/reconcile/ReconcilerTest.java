package io.hoptrace.traces.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.traces.SpanRecord;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReconcilerTest {
  static final String TA = "0000000000000000000000000000000a";
  static final String TB = "0000000000000000000000000000000b";
  static final long T0 = 1_700_000_000_000_000L;

  @TempDir Path dir;

  static String span(
      String trace,
      String id,
      @Nullable String parent,
      String kind,
      String service,
      String path,
      long startMicros,
      long durationMicros,
      String... tags) {
    StringBuilder b = new StringBuilder();
    b.append("{\"traceId\":\"").append(trace).append("\",\"id\":\"").append(id).append('"');
    if (parent != null) b.append(",\"parentId\":\"").append(parent).append('"');
    b.append(",\"kind\":\"").append(kind).append("\",\"name\":\"get ").append(path).append('"');
    b.append(",\"timestamp\":").append(T0 + startMicros);
    b.append(",\"duration\":").append(durationMicros);
    b.append(",\"localEndpoint\":{\"serviceName\":\"").append(service).append("\"}");
    b.append(",\"tags\":{\"http.method\":\"GET\",\"http.path\":\"").append(path).append('"');
    for (int i = 0; i + 1 < tags.length; i += 2) {
      b.append(",\"").append(tags[i]).append("\":\"").append(tags[i + 1]).append('"');
    }
    return b.append("}}").toString();
  }

  /**
   * front serves A (0..1000 µs) and B (100..400 µs); a call at 300..500 µs was guessed for B. B
   * ended before the call did, so a synchronous call cannot be B's: it moves to A, and so does the
   * callee's span (same span-id edge, A's trace id now).
   */
  @Test
  void reconcile_guessedRequestEndedBeforeTheCall_movesTheCallAndItsSubtree() {
    List<String> lines =
        List.of(
            span(TA, "00000000000000a1", null, "SERVER", "front", "/a", 0, 1000),
            span(TB, "00000000000000b1", null, "SERVER", "front", "/a", 100, 300),
            span(
                TB,
                "00000000000000c1",
                "00000000000000b1",
                "CLIENT",
                "front",
                "/x",
                300,
                200,
                "peer.address",
                "x:80",
                "hoptrace.link",
                "inferred",
                "hoptrace.candidates",
                "2"),
            span(TB, "00000000000000d1", "00000000000000c1", "SERVER", "x", "/x", 320, 150));
    List<SpanRecord> spans = new ArrayList<>();
    for (String l : lines) spans.add(SpanRecord.parse(l));

    Map<String, SpanRecord> out = byId(Reconciler.newBuilder().build().reconcile(spans));

    SpanRecord client = out.get("00000000000000c1");
    assertThat(client.parentId()).isEqualTo("00000000000000a1");
    assertThat(client.traceId()).isEqualTo(TA);
    assertThat(client.tag("hoptrace.reconciled")).startsWith("p=");
    assertThat(out.get("00000000000000d1").traceId()).isEqualTo(TA);
    assertThat(out.get("00000000000000d1").parentId()).isEqualTo("00000000000000c1");
    assertThat(out.get("00000000000000b1").traceId()).isEqualTo(TB);
  }

  @Test
  void command_writesEachFileUnderOut() throws Exception {
    Path front = dir.resolve("front.jsonl");
    Files.writeString(
        front,
        span(TA, "00000000000000a1", null, "SERVER", "front", "/a", 0, 1000)
            + "\n"
            + span(
                TA,
                "00000000000000c1",
                "00000000000000a1",
                "CLIENT",
                "front",
                "/x",
                10,
                20,
                "hoptrace.link",
                "sole",
                "hoptrace.candidates",
                "1")
            + "\nnot json\n");
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    int code =
        ReconcileCommand.run(
            new String[] {"--out", dir.resolve("out").toString(), front.toString()},
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));

    assertThat(code).isZero();
    assertThat(Files.readAllLines(dir.resolve("out/front.jsonl"))).hasSize(2);
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("2 spans from 1 files");
  }

  @Test
  void command_withoutOut_isUsageError() {
    assertThat(
            ReconcileCommand.run(
                new String[] {"x.jsonl"},
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)))
        .isEqualTo(2);
  }

  static Map<String, SpanRecord> byId(List<SpanRecord> spans) {
    Map<String, SpanRecord> m = new HashMap<>();
    for (SpanRecord s : spans) m.put(s.id(), s);
    return m;
  }
}
