package io.hoptrace.traces.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.traces.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The terminal output is pinned by golden files in src/test/resources/io/hoptrace/traces/golden:
 * fixed span logs, a fixed clock, no terminal. To accept a deliberate change, run with {@code
 * -Dhoptrace.updateGoldens=true} and review the diff.
 */
class TracesCommandTest {
  static final TracesCommand.Environment FIXED =
      new TracesCommand.Environment(
          () -> Fixtures.T0 + 60_000_000L, Map.of(), false, System::nanoTime);

  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    return run(FIXED, args);
  }

  static Result run(TracesCommand.Environment env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        TracesCommand.run(
            args, new PrintStream(out, true, UTF_8), new PrintStream(err, true, UTF_8), env);
    return new Result(code, out.toString(UTF_8), err.toString(UTF_8));
  }

  static void assertGolden(String name, String actual) throws IOException {
    Path golden =
        Path.of("src/test/resources/io/hoptrace/traces/golden").resolve(name).toAbsolutePath();
    if (Boolean.getBoolean("hoptrace.updateGoldens")) {
      Files.createDirectories(golden.getParent());
      Files.writeString(golden, actual, UTF_8);
    }
    assertThat(actual).isEqualTo(Files.readString(golden, UTF_8));
  }

  static void assertFits(String text, int width) {
    for (String line : text.split("\n", -1)) {
      assertThat(line.codePointCount(0, line.length())).as(line).isLessThanOrEqualTo(width);
      assertThat(line).as("no trailing blanks").isEqualTo(line.stripTrailing());
    }
  }

  String logs() {
    return Fixtures.logs().toString();
  }

  @Test
  void trace_width80_matchesGolden() throws IOException {
    Result r = run(logs(), "--trace", Fixtures.CHECKOUT, "--width", "80", "--unicode");
    assertThat(r.code()).isZero();
    assertGolden("waterfall-80.txt", r.out());
    assertFits(r.out(), 80);
  }

  @Test
  void trace_width120_matchesGolden() throws IOException {
    Result r = run(logs(), "--trace", Fixtures.CHECKOUT, "--width", "120", "--unicode");
    assertThat(r.code()).isZero();
    assertGolden("waterfall-120.txt", r.out());
    assertFits(r.out(), 120);
  }

  @Test
  void trace_ascii_matchesGolden() throws IOException {
    Result r = run(logs(), "--trace", "4bf9", "--ascii");
    assertThat(r.code()).isZero();
    assertGolden("waterfall-100-ascii.txt", r.out());
    assertFits(r.out(), 100);
    assertThat(r.out()).matches("\\A[\\x00-\\x7f]*\\z");
  }

  @Test
  void trace_orphan_showsMissingParent() throws IOException {
    Result r = run(logs(), "--trace", Fixtures.ORPHAN, "--unicode");
    assertThat(r.code()).isZero();
    assertGolden("waterfall-orphan.txt", r.out());
  }

  @Test
  void trace_byRequestId_findsTheTrace() {
    Result r = run(logs(), "--trace", Fixtures.REQUEST_ID, "--width", "100", "--unicode");
    assertThat(r.out()).startsWith("trace " + Fixtures.CHECKOUT);
  }

  @Test
  void trace_unknown_exits1WithMessage() {
    Result r = run(logs(), "--trace", "ffffffff");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("no trace matches ffffffff");
  }

  @Test
  void list_width100_matchesGolden() throws IOException {
    Result r = run(logs(), "--width", "100", "--unicode");
    assertThat(r.code()).isZero();
    assertGolden("list-100.txt", r.out());
    assertFits(r.out(), 100);
  }

  @Test
  void list_width80_fits() throws IOException {
    Result r = run(logs(), "--width", "80", "--unicode");
    assertGolden("list-80.txt", r.out());
    assertFits(r.out(), 80);
  }

  @Test
  void list_filters_selectTraces() {
    assertThat(traceIds(run(logs(), "--service", "orders"))).containsExactly(Fixtures.CHECKOUT);
    assertThat(traceIds(run(logs(), "--min-duration", "2ms")))
        .containsExactly(Fixtures.ORPHAN, Fixtures.CHECKOUT);
    assertThat(traceIds(run(logs(), "--status", "error"))).containsExactly(Fixtures.CHECKOUT);
    assertThat(traceIds(run(logs(), "--status", "ok")))
        .containsExactly(Fixtures.ORPHAN, Fixtures.HEALTH);
    assertThat(traceIds(run(logs(), "--since", "2026-11-25T10:00:01Z")))
        .containsExactly(Fixtures.ORPHAN, Fixtures.HEALTH);
    assertThat(traceIds(run(logs(), "--until", "2026-11-25T10:00:06Z")))
        .containsExactly(Fixtures.HEALTH, Fixtures.CHECKOUT);
    // The fixed clock is T0 + 60s: "the last 55s" starts at T0 + 5s.
    assertThat(traceIds(run(logs(), "--since", "55s")))
        .containsExactly(Fixtures.ORPHAN, Fixtures.HEALTH);
    assertThat(traceIds(run(logs(), "--limit", "1"))).containsExactly(Fixtures.ORPHAN);
  }

  @Test
  void list_json_isMachineReadable() {
    Result r = run(logs(), "--json", "--service", "front");
    assertThat(r.code()).isZero();
    assertThat(r.out())
        .startsWith("{\"traces\":[{\"traceId\":\"" + Fixtures.HEALTH + "\"")
        .contains("\"inferredCount\":1")
        .contains("\"total\":2,\"spans\":8,\"malformedLines\":2}");
  }

  @Test
  void trace_json_listsSpansInWaterfallOrder() {
    Result r = run(logs(), "--json", "--trace", Fixtures.CHECKOUT);
    assertThat(r.out())
        .contains("\"depth\":4,\"id\":\"a000000000000005\"")
        .contains("\"hoptrace.candidates\":\"3\"");
  }

  @Test
  void colour_onlyWhenATerminalAndNotDisabled() {
    TracesCommand.Environment tty =
        new TracesCommand.Environment(() -> 0L, Map.of(), true, System::nanoTime);
    assertThat(run(tty, logs(), "--trace", Fixtures.CHECKOUT).out()).contains("\u001b[");
    assertThat(run(tty, logs(), "--trace", Fixtures.CHECKOUT, "--no-color").out())
        .doesNotContain("\u001b[");
    TracesCommand.Environment noColor =
        new TracesCommand.Environment(() -> 0L, Map.of("NO_COLOR", "1"), true, System::nanoTime);
    assertThat(run(noColor, logs(), "--trace", Fixtures.CHECKOUT).out()).doesNotContain("\u001b[");
    assertThat(run(logs(), "--trace", Fixtures.CHECKOUT).out()).doesNotContain("\u001b[");
  }

  @Test
  void width_comesFromColumnsWhenNotGiven() {
    TracesCommand.Environment cols =
        new TracesCommand.Environment(
            () -> 0L, Map.of("COLUMNS", "80", "LANG", "C.UTF-8"), false, System::nanoTime);
    String out = run(cols, logs(), "--trace", Fixtures.CHECKOUT).out();
    assertFits(out, 80);
    assertThat(out).contains("\u2588");
  }

  @Test
  void badUsage_exits2WithAClearMessage() {
    assertThat(run().code()).isEqualTo(2);
    assertThat(run().err()).contains("no span logs given");
    Result unknown = run(logs(), "--frobnicate");
    assertThat(unknown.code()).isEqualTo(2);
    assertThat(unknown.err()).contains("unknown option --frobnicate");
    Result width = run(logs(), "--width", "abc");
    assertThat(width.code()).isEqualTo(2);
    assertThat(width.err()).contains("--width: abc (expected: 60..400)");
    assertThat(run(logs(), "--min-duration", "fast").err())
        .contains("--min-duration: fast (expected: a duration like 250ms)");
    assertThat(run(logs(), "--status", "meh").code()).isEqualTo(2);
    assertThat(run(logs(), "--trace").err()).contains("--trace: missing value");
    assertThat(run(logs(), "--trace", "x", "--follow").code()).isEqualTo(2);
  }

  @Test
  void help_printsUsage() {
    Result r = run("--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("usage: hoptrace traces");
  }

  @Test
  void missingPath_isReportedButOthersAreRead() {
    Result r = run(logs(), "/nonexistent/spans.log");
    assertThat(r.code()).isZero();
    assertThat(r.err()).contains("not found or unreadable: /nonexistent/spans.log");
    assertThat(r.out()).contains("3 traces");
  }

  static List<String> traceIds(Result r) {
    List<String> ids = new ArrayList<>();
    for (String line : r.out().split("\n", -1)) {
      if (line.matches("^[0-9a-f]{32} .*")) ids.add(line.substring(0, 32));
    }
    return ids;
  }
}
