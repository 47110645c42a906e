package io.hoptrace.traces.cli;

import io.hoptrace.traces.Trace;
import io.hoptrace.traces.TraceJson;
import java.util.ArrayList;
import java.util.List;

/**
 * The list of recent traces, one per line: trace id (whole, so it can be pasted into {@code
 * --trace}), start (UTC), duration, spans, errors, inferred links, root and services.
 */
final class TraceListRenderer {
  private TraceListRenderer() {}

  static List<String> render(List<Trace> traces, Style style) {
    boolean wide = style.width() >= 100;
    int timeWidth = wide ? 12 : 8;
    String header =
        Style.pad("TRACE", 32)
            + " "
            + Style.pad("START", timeWidth)
            + " "
            + Style.padLeft("DURATION", 9)
            + " "
            + Style.padLeft("SPANS", 5)
            + " "
            + Style.padLeft("ERR", 3)
            + " "
            + Style.padLeft("~", 2)
            + "  ";
    int rest = Math.max(10, style.width() - header.length());
    int longestRoot = 4;
    for (Trace t : traces) {
      longestRoot = Math.max(longestRoot, t.rootService().length() + 1 + t.rootName().length());
    }
    // The root gets what it needs, leaving at least 10 columns for the services.
    int rootWidth = wide ? Math.max(10, Math.min(longestRoot, rest - 11)) : rest;
    int servicesWidth = wide ? rest - rootWidth - 1 : 0;
    List<String> out = new ArrayList<>();
    out.add(
        header + (wide ? Style.pad("ROOT", rootWidth) + " " + "SERVICES" : "ROOT").stripTrailing());
    for (Trace t : traces) {
      String start = TraceJson.iso(t.startMicros()).substring(11, 11 + timeWidth);
      String errors = Style.padLeft(Integer.toString(t.errorCount()), 3);
      if (t.errorCount() > 0) errors = style.paint(errors, Style.RED);
      String inferred = Style.padLeft(t.inferredCount() == 0 ? "" : "" + t.inferredCount(), 2);
      if (t.inferredCount() > 0) inferred = style.paint(inferred, Style.YELLOW);
      String root = style.fit(t.rootService() + " " + t.rootName(), rootWidth);
      String line =
          t.traceId()
              + " "
              + start
              + " "
              + Style.padLeft(Durations.format(t.durationMicros()), 9)
              + " "
              + Style.padLeft(Integer.toString(t.spanCount()), 5)
              + " "
              + errors
              + " "
              + inferred
              + "  "
              + (wide
                  ? Style.pad(root, rootWidth)
                      + " "
                      + style.fit(String.join(",", t.services()), servicesWidth)
                  : root);
      out.add(line.stripTrailing());
    }
    return out;
  }
}
