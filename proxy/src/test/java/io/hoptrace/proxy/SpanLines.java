package io.hoptrace.proxy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads span lines from a span-log file in tests. */
final class SpanLines {
  /** Waits (up to 5 s) until the file holds at least {@code count} lines; returns them all. */
  static List<String> await(Path file, int count) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (true) {
      List<String> lines = Files.exists(file) ? Files.readAllLines(file) : List.of();
      if (lines.size() >= count) return lines;
      if (System.nanoTime() > deadline) {
        throw new AssertionError("expected " + count + " span lines, got " + lines);
      }
      Thread.sleep(20);
    }
  }

  /** The last span line, once there are {@code count}. */
  static String line(Path file, int count) throws IOException, InterruptedException {
    List<String> lines = await(file, count);
    return lines.get(count - 1);
  }

  /** A top-level string field ({@code traceId}, {@code id}, {@code parentId}, {@code name}). */
  static String field(String line, String name) {
    Matcher m =
        Pattern.compile("\"" + Pattern.quote(name) + "\":\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(line);
    return m.find() ? m.group(1) : null;
  }

  /** A tag's value, or null. */
  static String tag(String line, String name) {
    int tags = line.indexOf("\"tags\":{");
    return tags < 0 ? null : field(line.substring(tags), name);
  }

  private SpanLines() {}
}
