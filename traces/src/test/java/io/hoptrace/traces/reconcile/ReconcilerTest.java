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

  /**
   * Ten requests of front /a served alone, earlier: each calls x 10 ms in (link {@code sole},
   * exact), x answers at 14 ms, the request ends at 20 ms. What reconcile learns from: a request
   * ends ~6 ms after its call's answer.
   */
  static List<String> history() {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      long t = -1_000_000 + i * 50_000L;
      String trace = String.format("%032x", 0x100 + i);
      String server = String.format("%016x", 0x1000 + i);
      String client = String.format("%016x", 0x2000 + i);
      lines.add(span(trace, server, null, "SERVER", "front", "/a", t, 20_000));
      lines.add(
          span(
              trace,
              client,
              server,
              "CLIENT",
              "front",
              "/x",
              t + 10_000,
              4_500,
              "peer.address",
              "x:80",
              "hoptrace.link",
              "sole",
              "hoptrace.candidates",
              "1"));
      lines.add(
          span(
              trace,
              String.format("%016x", 0x3000 + i),
              client,
              "SERVER",
              "x",
              "/x",
              t + 10_100,
              3_900));
    }
    return lines;
  }

  static String guessed(String trace, String parent, long start, long duration) {
    return span(
        trace,
        "00000000000000c1",
        parent,
        "CLIENT",
        "front",
        "/x",
        start,
        duration,
        "peer.address",
        "x:80",
        "hoptrace.link",
        "inferred",
        "hoptrace.candidates",
        "2");
  }

  static List<SpanRecord> parse(List<String> lines) {
    List<SpanRecord> spans = new ArrayList<>();
    for (String l : lines) spans.add(SpanRecord.parse(l));
    return spans;
  }

  /**
   * The proxy linked the call to B because the call carried a value only B had ({@code value=1} in
   * its score), in a query the log does not keep. Timing alone would move it to A, which ends 6 ms
   * after the answer just as the exact links taught; the value evidence stands.
   */
  @Test
  void reconcile_onlineValueEvidence_standsAgainstTiming() {
    for (String score : new String[] {"learned:p=0.990,refined=1,value=1", "learned:p=0.600"}) {
      List<String> lines = new ArrayList<>(history());
      lines.add(span(TA, "00000000000000a1", null, "SERVER", "front", "/a", 0, 20_000));
      lines.add(span(TB, "00000000000000b1", null, "SERVER", "front", "/a", 2_000, 58_000));
      lines.add(
          span(
              TB,
              "00000000000000c1",
              "00000000000000b1",
              "CLIENT",
              "front",
              "/x",
              10_000,
              4_000,
              "peer.address",
              "x:80",
              "hoptrace.link",
              "inferred",
              "hoptrace.candidates",
              "2",
              "hoptrace.score",
              score));
      lines.add(
          span(TB, "00000000000000d1", "00000000000000c1", "SERVER", "x", "/x", 10_100, 3_900));

      Map<String, SpanRecord> out = byId(Reconciler.newBuilder().build().reconcile(parse(lines)));

      SpanRecord client = out.get("00000000000000c1");
      if (score.endsWith("value=1")) {
        assertThat(client.parentId()).isEqualTo("00000000000000b1");
        assertThat(client.tag("hoptrace.reconciled")).isEqualTo("p=0.990,value=1");
      } else {
        assertThat(client.parentId()).isEqualTo("00000000000000a1"); // timing alone moves it
      }
    }
  }

  /**
   * A starved proxy: A (0..26 ms) made the call at 10 ms, x answered at 14 ms, but the caller's
   * proxy noted the end of the CLIENT exchange only at 35 ms, after A had ended. The old rule (a
   * candidate that ended before the CLIENT span did is ruled out) moved the call to B, which runs
   * on to 60 ms. The callee's SERVER span (the exact span-id edge) says when the answer went out: A
   * ended 6 ms after it, just as the exact links taught.
   */
  @Test
  void reconcile_callEndNotedLate_theCalleeSpanTimesTheAnswer_andTheOwnerKeepsTheCall() {
    List<String> lines = new ArrayList<>(history());
    lines.add(span(TA, "00000000000000a1", null, "SERVER", "front", "/a", 0, 26_000));
    lines.add(span(TB, "00000000000000b1", null, "SERVER", "front", "/a", 2_000, 58_000));
    lines.add(guessed(TB, "00000000000000b1", 10_000, 25_000));
    lines.add(span(TB, "00000000000000d1", "00000000000000c1", "SERVER", "x", "/x", 10_100, 3_900));

    Map<String, SpanRecord> out = byId(Reconciler.newBuilder().build().reconcile(parse(lines)));

    SpanRecord client = out.get("00000000000000c1");
    assertThat(client.parentId()).isEqualTo("00000000000000a1");
    assertThat(client.traceId()).isEqualTo(TA);
    assertThat(out.get("00000000000000d1").traceId()).isEqualTo(TA);
    assertThat(Reconciler.answered(SpanRecord.parse(lines.get(lines.size() - 2)), null))
        .isEqualTo(T0 + 35_000);
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
