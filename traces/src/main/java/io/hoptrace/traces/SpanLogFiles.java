package io.hoptrace.traces;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Turns the paths a user names into span-log files. A directory contributes every file in it that
 * looks like a span log, rotated ones included ({@code spans.log}, {@code spans.log.1}, {@code
 * spans-2026-11-25T10.log}, {@code orders.jsonl}, {@code spans.log.2.gz}); a file named directly is
 * always read, whatever its name.
 */
public final class SpanLogFiles {
  private SpanLogFiles() {}

  /**
   * The span-log files under {@code paths}, oldest rotation first, each once. Paths that do not
   * exist are reported in {@code missing} rather than thrown: a service may not have logged yet.
   */
  public static List<Path> expand(List<Path> paths, List<Path> missing) {
    Set<Path> out = new LinkedHashSet<>();
    for (Path path : paths) {
      if (Files.isDirectory(path)) {
        try {
          for (Path p : inDirectory(path, true)) out.add(p.normalize());
        } catch (IOException e) {
          missing.add(path);
        }
      } else if (Files.isRegularFile(path)) {
        out.add(path.normalize());
      } else {
        missing.add(path);
      }
    }
    return new ArrayList<>(out);
  }

  /**
   * The span logs in {@code dir} and its subdirectories (a directory per service is common), at
   * most {@link #MAX_DEPTH} levels down; per directory oldest first.
   */
  static List<Path> inDirectory(Path dir, boolean includeCompressed) throws IOException {
    List<Path> out = new ArrayList<>();
    collect(dir, 0, includeCompressed, out);
    return out;
  }

  static final int MAX_DEPTH = 3;

  private static void collect(Path dir, int depth, boolean includeCompressed, List<Path> out)
      throws IOException {
    List<Path> files = new ArrayList<>();
    List<Path> dirs = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
      for (Path child : stream) {
        String name = child.getFileName().toString();
        if (Files.isDirectory(child)) {
          if (depth < MAX_DEPTH && !name.startsWith(".")) dirs.add(child);
        } else if (Files.isRegularFile(child)
            && looksLikeSpanLog(name)
            && (includeCompressed || !name.endsWith(".gz"))) {
          files.add(child);
        }
      }
    }
    files.sort(OLDEST_FIRST);
    out.addAll(files);
    dirs.sort(Comparator.naturalOrder());
    for (Path d : dirs) {
      try {
        collect(d, depth + 1, includeCompressed, out);
      } catch (IOException e) {
        // an unreadable subdirectory is skipped; the top-level one is what the user named
      }
    }
  }

  static boolean looksLikeSpanLog(String name) {
    String n = name.endsWith(".gz") ? name.substring(0, name.length() - 3) : name;
    if (n.endsWith(".log") || n.endsWith(".jsonl") || n.endsWith(".ndjson")) return true;
    return n.contains(".log.") && rotationIndex(n) >= 0;
  }

  /** {@code spans.log.3} is 3, {@code spans.log.3.gz} is 3; the live file (no suffix) is -1. */
  static int rotationIndex(String name) {
    String n = name.endsWith(".gz") ? name.substring(0, name.length() - 3) : name;
    int dot = n.lastIndexOf('.');
    if (dot < 0 || dot == n.length() - 1) return -1;
    int value = 0;
    for (int i = dot + 1; i < n.length(); i++) {
      char c = n.charAt(i);
      if (c < '0' || c > '9' || value > 100_000) return -1;
      value = value * 10 + (c - '0');
    }
    return value;
  }

  /**
   * Oldest first: within one base name a higher rotation index is older; dated names sort by their
   * date because ISO dates sort as text.
   */
  static final Comparator<Path> OLDEST_FIRST =
      Comparator.comparing((Path p) -> baseName(p.getFileName().toString()))
          .thenComparing(p -> rotationIndex(p.getFileName().toString()), Comparator.reverseOrder())
          .thenComparing(p -> p.getFileName().toString());

  private static String baseName(String name) {
    String n = name.endsWith(".gz") ? name.substring(0, name.length() - 3) : name;
    return rotationIndex(n) >= 0 ? n.substring(0, n.lastIndexOf('.')) : n;
  }
}
