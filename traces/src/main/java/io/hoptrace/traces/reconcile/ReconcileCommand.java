package io.hoptrace.traces.reconcile;

import io.hoptrace.traces.SpanLogReader;
import io.hoptrace.traces.SpanRecord;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code hoptrace reconcile --out DIR FILE...}: reads the span logs of several services, re-decides
 * every guessed link with the whole record ({@link Reconciler}) and writes each file again under
 * DIR with the same name, ready for export. Exit codes: 0 done, 2 bad usage, 1 I/O failure.
 */
public final class ReconcileCommand {
  static final String USAGE =
      """
      usage: hoptrace reconcile --out DIR FILE...

      Re-decides every inferred link of the span logs (all services of a system together), with the
      whole record: when each request ended, every exact link before and after. Writes each FILE to
      DIR/<its name> with corrected parentId and traceId (rewritten through the moved subtree) and a
      hoptrace.reconciled tag (the new confidence) on every re-decided CLIENT span.
      """;

  private ReconcileCommand() {}

  public static int run(String[] args, PrintStream out, PrintStream err) {
    Path dir = null;
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--help") || a.equals("-h")) {
        out.print(USAGE);
        return 0;
      } else if (a.equals("--out") && i + 1 < args.length) {
        dir = Path.of(args[++i]);
      } else if (a.startsWith("--")) {
        err.println("hoptrace reconcile: unknown option: " + a);
        err.print(USAGE);
        return 2;
      } else {
        files.add(Path.of(a));
      }
    }
    if (dir == null || files.isEmpty()) {
      err.print(USAGE);
      return 2;
    }
    List<SpanRecord> all = new ArrayList<>();
    List<Integer> sizes = new ArrayList<>();
    long malformed = 0;
    for (Path f : files) {
      SpanLogReader reader = new SpanLogReader().read(f);
      if (!reader.unreadable().isEmpty()) {
        err.println("hoptrace reconcile: cannot read " + reader.unreadable());
        return 1;
      }
      malformed += reader.malformedLines();
      all.addAll(reader.spans());
      sizes.add(reader.spans().size());
    }
    List<SpanRecord> reconciled = Reconciler.newBuilder().build().reconcile(all);
    long redecided = 0;
    long changed = 0;
    for (int i = 0; i < all.size(); i++) {
      SpanRecord after = reconciled.get(i);
      if (after.tag("hoptrace.reconciled") != null) redecided++;
      if (!after.line().equals(all.get(i).line())) changed++;
    }
    try {
      Files.createDirectories(dir);
      int at = 0;
      for (int f = 0; f < files.size(); f++) {
        Path target = dir.resolve(files.get(f).getFileName().toString());
        try (Writer w = Files.newBufferedWriter(target, StandardCharsets.UTF_8)) {
          for (int i = 0; i < sizes.get(f); i++) {
            w.write(reconciled.get(at++).line());
            w.write('\n');
          }
        }
      }
    } catch (IOException e) {
      err.println("hoptrace reconcile: " + e.getMessage());
      return 1;
    }
    out.printf(
        "hoptrace reconcile: %d spans from %d files, %d links re-decided, %d lines changed,"
            + " %d malformed lines skipped; written to %s%n",
        all.size(), files.size(), redecided, changed, malformed, dir);
    return 0;
  }
}
