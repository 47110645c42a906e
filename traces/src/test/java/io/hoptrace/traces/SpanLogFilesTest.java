package io.hoptrace.traces;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpanLogFilesTest {
  @TempDir Path dir;

  @Test
  void expand_directory_readsRotatedFilesOldestFirst() throws IOException {
    for (String name :
        List.of("spans.log", "spans.log.1", "spans.log.2.gz", "spans.log.10", "notes.txt")) {
      Files.writeString(dir.resolve(name), "");
    }
    List<Path> missing = new ArrayList<>();
    List<Path> files = SpanLogFiles.expand(List.of(dir), missing);
    assertThat(files)
        .extracting(p -> p.getFileName().toString())
        .containsExactly("spans.log.10", "spans.log.2.gz", "spans.log.1", "spans.log");
    assertThat(missing).isEmpty();
  }

  @Test
  void expand_datedNames_sortByDate() throws IOException {
    for (String name : List.of("spans-2026-11-25T11.log", "spans-2026-11-25T10.log")) {
      Files.writeString(dir.resolve(name), "");
    }
    assertThat(SpanLogFiles.expand(List.of(dir), new ArrayList<>()))
        .extracting(p -> p.getFileName().toString())
        .containsExactly("spans-2026-11-25T10.log", "spans-2026-11-25T11.log");
  }

  @Test
  void expand_missingPath_isReportedNotThrown() {
    List<Path> missing = new ArrayList<>();
    assertThat(SpanLogFiles.expand(List.of(dir.resolve("nope")), missing)).isEmpty();
    assertThat(missing).containsExactly(dir.resolve("nope"));
  }

  @Test
  void expand_fileNamedTwice_isReadOnce() throws IOException {
    Path f = Files.writeString(dir.resolve("whatever.txt"), "");
    assertThat(SpanLogFiles.expand(List.of(f, f, dir), new ArrayList<>())).containsExactly(f);
  }

  @Test
  void reader_gzipAndPlain_mergeAndDeduplicate() throws IOException {
    String line = SpanRecordTest.LINE;
    Files.writeString(dir.resolve("a.log"), line + "\n" + line + "\n");
    try (var out =
        new java.util.zip.GZIPOutputStream(Files.newOutputStream(dir.resolve("a.log.1.gz")))) {
      out.write((line + "\ngarbage\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    SpanLogReader r =
        new SpanLogReader().readAll(SpanLogFiles.expand(List.of(dir), new ArrayList<>()));
    assertThat(r.spans()).hasSize(1);
    assertThat(r.malformedLines()).isEqualTo(1);
    assertThat(r.lines()).isEqualTo(4);
  }
}
