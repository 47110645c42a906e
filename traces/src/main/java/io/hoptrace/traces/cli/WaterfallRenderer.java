package io.hoptrace.traces.cli;

import io.hoptrace.traces.SpanRecord;
import io.hoptrace.traces.Trace;
import io.hoptrace.traces.TraceJson;
import java.util.ArrayList;
import java.util.List;

/**
 * One trace as an indented waterfall, one hop per line:
 *
 * <pre>
 * M HOP                           KIND   STATUS LINK          START      DURATION  BAR
 * </pre>
 *
 * M is the mark column: {@code ~} when the hop's link to its parent was inferred (not known). LINK
 * is {@code hoptrace.link} on CLIENT spans ({@code inferred/3} names the candidates) and {@code
 * hoptrace.context} on SERVER spans. Bars are proportional to the trace's duration.
 */
final class WaterfallRenderer {
  // Fixed columns after the hop label: " KIND   STATUS LINK         START     DURATION  ".
  private static final int STATUS = 4;
  private static final int LINK = 11;
  private static final int TIME = 9;
  private static final int MIN_BAR = 12;
  private static final int MIN_LABEL = 16;

  /** Below this width the kind is abbreviated ({@code SRV}, {@code CLI}) to leave room. */
  private static final int NARROW = 100;

  private WaterfallRenderer() {}

  static List<String> render(Trace trace, Style style) {
    List<String> out = new ArrayList<>();
    out.add(
        style.paint("trace " + trace.traceId(), Style.BOLD)
            + "  "
            + style.fit(trace.rootService() + " " + trace.rootName(), style.width() - 40));
    out.add(style.fit(summary(trace, style), style.width()));
    out.add("");

    List<Trace.Row> rows = trace.rows();
    List<String> labels = new ArrayList<>(rows.size());
    int longest = 3;
    for (Trace.Row row : rows) {
      String label = label(row, style);
      labels.add(label);
      longest = Math.max(longest, label.length());
    }
    final int kindWidth = style.width() < NARROW ? 4 : 6;
    int fixed = 2 + 1 + kindWidth + 1 + STATUS + 1 + LINK + 1 + TIME + 1 + TIME + 2;
    int available = style.width() - fixed;
    int labelWidth = Math.max(MIN_LABEL, Math.min(longest, available - MIN_BAR));
    int barWidth = Math.max(MIN_BAR, available - labelWidth);
    long total = Math.max(1, trace.durationMicros());

    out.add(
        "  "
            + Style.pad("HOP", labelWidth)
            + " "
            + Style.pad("KIND", kindWidth)
            + " "
            + Style.pad("STAT", STATUS)
            + " "
            + Style.pad("LINK", LINK)
            + " "
            + Style.padLeft("START", TIME)
            + " "
            + Style.padLeft("DURATION", TIME)
            + "  "
            + axis(total, barWidth));

    boolean anyInferred = false;
    for (int i = 0; i < rows.size(); i++) {
      Trace.Row row = rows.get(i);
      String label = style.fit(labels.get(i), labelWidth);
      SpanRecord s = row.node().span();
      if (s == null) {
        long offset = row.node().startMicros() - trace.startMicros();
        out.add(
            "  "
                + style.paint(Style.pad(label, labelWidth), Style.DIM)
                + " "
                + Style.pad("", kindWidth + 1 + STATUS + 1 + LINK)
                + " "
                + Style.padLeft("+" + Durations.format(offset), TIME));
        continue;
      }
      boolean inferred = s.isInferred();
      anyInferred |= inferred;
      String mark = inferred ? style.paint("~", Style.YELLOW) + " " : "  ";
      String kind = Style.pad(kind(s, kindWidth), kindWidth);
      String status = Style.pad(status(s), STATUS);
      if (s.isError()) status = style.paint(status, Style.RED);
      String link = Style.pad(style.fit(link(s), LINK), LINK);
      if (inferred) link = style.paint(link, Style.YELLOW);
      long offset = s.timestampMicros() - trace.startMicros();
      int serviceIndex = trace.services().indexOf(s.serviceName());
      out.add(
          mark
              + colourLabel(Style.pad(label, labelWidth), row, style)
              + " "
              + kind
              + " "
              + status
              + " "
              + link
              + " "
              + Style.padLeft("+" + Durations.format(offset), TIME)
              + " "
              + Style.padLeft(Durations.format(s.durationMicros()), TIME)
              + "  "
              + style.paint(
                  bar(offset, s.durationMicros(), total, barWidth, style),
                  style.serviceColor(serviceIndex)));
    }
    if (anyInferred) {
      out.add("");
      out.add(
          style.fit(
              "~ inferred/N: the correlator chose among N in-flight requests", style.width()));
    }
    return out;
  }

  static String summary(Trace t, Style style) {
    String sep = " " + style.dot() + " ";
    StringBuilder b = new StringBuilder();
    b.append(TraceJson.iso(t.startMicros()))
        .append(sep)
        .append(Durations.format(t.durationMicros()))
        .append(sep)
        .append(t.spanCount())
        .append(t.spanCount() == 1 ? " span" : " spans")
        .append(sep)
        .append(String.join(",", t.services()));
    if (t.errorCount() > 0) {
      b.append(sep).append(t.errorCount()).append(t.errorCount() == 1 ? " error" : " errors");
    }
    if (t.inferredCount() > 0) b.append(sep).append(t.inferredCount()).append(" inferred");
    if (t.missingParentCount() > 0) {
      b.append(sep).append(t.missingParentCount()).append(" missing parent");
      if (t.missingParentCount() > 1) b.append('s');
    }
    return b.toString();
  }

  private static String label(Trace.Row row, Style style) {
    String tree =
        row.top()
            ? ""
            : style.treePrefix(row.prefix()) + (row.last() ? style.elbow() : style.tee());
    SpanRecord s = row.node().span();
    if (s == null) return tree + "(missing parent " + row.node().missingParentId() + ")";
    return tree + s.serviceName() + " " + s.name();
  }

  private static String colourLabel(String padded, Trace.Row row, Style style) {
    if (!style.color() || row.top()) return padded;
    String tree = style.treePrefix(row.prefix()) + (row.last() ? style.elbow() : style.tee());
    if (!padded.startsWith(tree)) return padded;
    return style.paint(tree, Style.DIM) + padded.substring(tree.length());
  }

  private static String kind(SpanRecord s, int width) {
    String kind = s.kind() == null ? "-" : s.kind();
    if (width >= kind.length()) return kind;
    return switch (kind) {
      case "SERVER" -> "SRV";
      case "CLIENT" -> "CLI";
      case "PRODUCER" -> "PRD";
      case "CONSUMER" -> "CNS";
      default -> kind.substring(0, width);
    };
  }

  static String status(SpanRecord s) {
    String code = s.tag("http.status_code");
    if (code == null) code = s.isError() ? "ERR" : "-";
    return s.isError() && code.length() < STATUS ? code + "!" : code;
  }

  /** {@code hoptrace.link} for CLIENT spans, {@code hoptrace.context} for SERVER spans. */
  static String link(SpanRecord s) {
    String link = s.tag("hoptrace.link");
    if (link != null) {
      String candidates = s.tag("hoptrace.candidates");
      return "inferred".equals(link) && candidates != null ? link + "/" + candidates : link;
    }
    String context = s.tag("hoptrace.context");
    return context != null ? context : "";
  }

  static String bar(long offset, long duration, long total, int width, Style style) {
    int from = (int) Math.min(width - 1, Math.max(0, offset * width / total));
    int to = (int) Math.min(width, ((offset + duration) * width + total - 1) / total);
    if (to <= from) to = from + 1;
    StringBuilder b = new StringBuilder(to);
    for (int i = 0; i < from; i++) b.append(' ');
    for (int i = from; i < to; i++) b.append(style.bar());
    return b.toString();
  }

  private static String axis(long total, int width) {
    String end = Durations.format(total);
    if (width < end.length() + 2) return "";
    return "0" + Style.padLeft(end, width - 1);
  }
}
