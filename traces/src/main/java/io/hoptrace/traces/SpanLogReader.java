package io.hoptrace.traces;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Reads span logs into {@link SpanRecord}s, merging several files (several services, rotated
 * files). A span seen twice (the same file named twice, a copied log) is kept once. Malformed lines
 * are counted, never thrown: a half-written last line is normal for a live log.
 */
public final class SpanLogReader {
  private final Map<String, SpanRecord> spans = new LinkedHashMap<>();
  private long malformedLines;
  private long lines;
  private final List<String> unreadable = new ArrayList<>();

  /** Reads every file in order; returns this for chaining. */
  public SpanLogReader readAll(Collection<Path> files) {
    for (Path file : files) read(file);
    return this;
  }

  public SpanLogReader read(Path file) {
    try (InputStream raw = Files.newInputStream(file);
        InputStream in =
            file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw;
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) accept(line);
    } catch (IOException e) {
      unreadable.add(file + ": " + e.getMessage());
    }
    return this;
  }

  /** Accepts one line; blank lines are ignored, anything else that is not a span is counted. */
  public void accept(String line) {
    if (line.isBlank()) return;
    lines++;
    SpanRecord span = SpanRecord.parse(line);
    if (span == null) {
      malformedLines++;
      return;
    }
    spans.putIfAbsent(span.key(), span);
  }

  public List<SpanRecord> spans() {
    return Collections.unmodifiableList(new ArrayList<>(spans.values()));
  }

  /** Non-blank lines that were not span lines. */
  public long malformedLines() {
    return malformedLines;
  }

  /** Non-blank lines read. */
  public long lines() {
    return lines;
  }

  /** Files that could not be read, each with the reason. */
  public List<String> unreadable() {
    return Collections.unmodifiableList(unreadable);
  }
}
