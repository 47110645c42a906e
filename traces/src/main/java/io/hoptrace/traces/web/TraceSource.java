package io.hoptrace.traces.web;

import io.hoptrace.traces.SpanLogFiles;
import io.hoptrace.traces.SpanLogReader;
import io.hoptrace.traces.SpanRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;

/** Where the page's spans come from: span-log files, or the lines a running proxy keeps. */
public interface TraceSource {
  /** The spans to show now. Called once per API request; may re-read. */
  List<SpanRecord> spans();

  /**
   * Span-log files or directories, re-read when a file was added, grew or changed (so the page
   * shows new traces on reload without a restart).
   */
  static TraceSource ofFiles(List<Path> paths) {
    List<Path> copy = List.copyOf(paths);
    return new TraceSource() {
      private String stamp = "";
      private List<SpanRecord> spans = List.of();

      @Override
      public synchronized List<SpanRecord> spans() {
        List<Path> files = SpanLogFiles.expand(copy, new ArrayList<>());
        StringBuilder now = new StringBuilder();
        for (Path f : files) {
          try {
            BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
            now.append(f).append(':').append(a.size()).append(':').append(a.lastModifiedTime());
            now.append('\n');
          } catch (IOException e) {
            now.append(f).append(":gone\n");
          }
        }
        if (!now.toString().equals(stamp)) {
          spans = new SpanLogReader().readAll(files).spans();
          stamp = now.toString();
        }
        return spans;
      }
    };
  }

  /**
   * Encoded span lines held in memory, e.g. the recent lines a proxy wrote (for its admin port).
   */
  static TraceSource ofLines(Supplier<? extends Collection<String>> lines) {
    return () -> {
      SpanLogReader reader = new SpanLogReader();
      for (String line : lines.get()) reader.accept(line);
      return reader.spans();
    };
  }
}
