package io.hoptrace.traces;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Time is driven by hand: poll(now) with now in nanoseconds, quiet period 1s. */
class SpanFollowerTest {
  static final long SECOND = 1_000_000_000L;
  @TempDir Path dir;
  final List<Trace> reported = new ArrayList<>();

  static String span(String trace, String id, String parent) {
    return "{\"traceId\":\""
        + trace
        + "\",\"id\":\""
        + id
        + "\""
        + (parent == null ? "" : ",\"parentId\":\"" + parent + "\"")
        + ",\"kind\":\"SERVER\",\"name\":\"get /x\",\"timestamp\":1795600800000000,\"duration\":10,"
        + "\"localEndpoint\":{\"serviceName\":\"svc\"}}\n";
  }

  static final String T1 = "11111111111111111111111111111111";
  static final String T2 = "22222222222222222222222222222222";

  void append(Path file, String text) throws IOException {
    Files.writeString(file, text, UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  @Test
  void trace_isReportedOnceQuiet_withAllItsSpans() throws IOException {
    Path log = dir.resolve("spans.log");
    Files.writeString(log, "");
    SpanFollower f = new SpanFollower(List.of(dir), SECOND, reported::add);
    f.poll(0);
    append(log, span(T1, "0000000000000001", null));
    f.poll(SECOND / 2);
    append(log, span(T1, "0000000000000002", "0000000000000001"));
    f.poll(SECOND);
    assertThat(reported).isEmpty(); // the last span came 0s ago
    f.poll(2 * SECOND + 1);
    assertThat(reported).hasSize(1);
    assertThat(reported.get(0).spanCount()).isEqualTo(2);
    f.poll(10 * SECOND);
    assertThat(reported).hasSize(1); // once
  }

  @Test
  void existingContent_isContextNotReported() throws IOException {
    Path log = dir.resolve("spans.log");
    Files.writeString(log, span(T1, "0000000000000001", null) + span(T2, "0000000000000001", null));
    SpanFollower f = new SpanFollower(List.of(log), SECOND, reported::add);
    f.poll(0);
    f.poll(5 * SECOND);
    assertThat(reported).isEmpty();
    // A late child of an old trace reports the trace with its earlier spans.
    append(log, span(T1, "0000000000000002", "0000000000000001"));
    f.poll(6 * SECOND);
    f.poll(8 * SECOND);
    assertThat(reported).hasSize(1);
    assertThat(reported.get(0).traceId()).isEqualTo(T1);
    assertThat(reported.get(0).spanCount()).isEqualTo(2);
  }

  @Test
  void existingContent_readOverSeveralPolls_isStillContext() throws IOException {
    Path log = dir.resolve("spans.log");
    StringBuilder old = new StringBuilder();
    for (int i = 1; i <= 40; i++) old.append(span(T1, String.format("%016x", i), null));
    Files.writeString(log, old);
    // 64 chunks of 32 bytes per poll: the 40 old lines take several polls to read.
    SpanFollower f = new SpanFollower(List.of(log), SECOND, reported::add, 32);
    for (int i = 0; i < 10; i++) f.poll(i * SECOND);
    assertThat(reported).isEmpty();
    append(log, span(T2, "0000000000000001", null));
    for (int i = 10; i < 14; i++) f.poll(i * SECOND);
    assertThat(reported).extracting(Trace::traceId).containsExactly(T2);
  }

  @Test
  void partialLine_waitsForItsNewline() throws IOException {
    Path log = dir.resolve("spans.log");
    Files.writeString(log, "");
    SpanFollower f = new SpanFollower(List.of(log), SECOND, reported::add);
    f.poll(0);
    String line = span(T1, "0000000000000001", null);
    append(log, line.substring(0, 40));
    f.poll(SECOND);
    f.poll(3 * SECOND);
    assertThat(reported).isEmpty();
    assertThat(f.malformedLines()).isZero();
    append(log, line.substring(40));
    f.poll(4 * SECOND);
    f.poll(6 * SECOND);
    assertThat(reported).hasSize(1);
  }

  @Test
  void rotation_byRename_readsTheOldFileToItsEndAndTheNewFromItsStart() throws IOException {
    Path log = dir.resolve("spans.log");
    Files.writeString(log, "");
    SpanFollower f = new SpanFollower(List.of(dir), SECOND, reported::add);
    f.poll(0);
    append(log, span(T1, "0000000000000001", null));
    Files.move(log, dir.resolve("spans.log.1"));
    append(dir.resolve("spans.log.1"), span(T1, "0000000000000002", "0000000000000001"));
    append(log, span(T2, "0000000000000001", null));
    f.poll(SECOND);
    f.poll(3 * SECOND);
    assertThat(reported).extracting(Trace::traceId).containsExactlyInAnyOrder(T1, T2);
    assertThat(reported)
        .filteredOn(t -> t.traceId().equals(T1))
        .singleElement()
        .extracting(Trace::spanCount)
        .isEqualTo(2);
  }

  @Test
  void truncation_readsAgainFromTheStart() throws IOException {
    Path log = dir.resolve("spans.log");
    Files.writeString(log, span(T1, "0000000000000001", null) + span(T1, "0000000000000002", null));
    SpanFollower f = new SpanFollower(List.of(log), SECOND, reported::add);
    f.poll(0);
    Files.writeString(log, span(T2, "0000000000000001", null)); // copytruncate, then a new line
    f.poll(SECOND);
    f.poll(3 * SECOND);
    assertThat(reported).extracting(Trace::traceId).containsExactly(T2);
  }

  @Test
  void garbage_isCountedNotThrown() throws IOException {
    Path log = dir.resolve("spans.log");
    Files.writeString(log, "");
    SpanFollower f = new SpanFollower(List.of(log), SECOND, reported::add);
    f.poll(0);
    append(log, "garbage\n\u0000\u0001{{{\n" + "x".repeat(SpanRecord.MAX_LINE_LENGTH + 10) + "\n");
    f.poll(SECOND);
    assertThat(f.malformedLines()).isEqualTo(3);
    assertThat(reported).isEmpty();
  }
}
