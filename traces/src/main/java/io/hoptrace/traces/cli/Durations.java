package io.hoptrace.traces.cli;

import java.util.Locale;

/** Durations as people type and read them: {@code 250ms}, {@code 2s}, {@code 1.5s}, {@code 10m}. */
final class Durations {
  private Durations() {}

  /** Parses a duration to microseconds; -1 when it is not one (a bare number means ms). */
  static long parseMicros(String text) {
    String s = text.strip().toLowerCase(Locale.ROOT);
    int i = 0;
    while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) i++;
    if (i == 0 || i > 18) return -1;
    double value;
    try {
      value = Double.parseDouble(s.substring(0, i));
    } catch (NumberFormatException e) {
      return -1;
    }
    double unit =
        switch (s.substring(i).strip()) {
          case "us", "µs" -> 1;
          case "", "ms" -> 1_000;
          case "s" -> 1_000_000;
          case "m", "min" -> 60_000_000;
          case "h" -> 3_600_000_000.0;
          case "d" -> 86_400_000_000.0;
          default -> -1;
        };
    if (unit < 0) return -1;
    double micros = value * unit;
    return micros > Long.MAX_VALUE / 2.0 ? -1 : Math.round(micros);
  }

  /**
   * A short, fixed-precision text: {@code 850us}, {@code 48.20ms}, {@code 2.350s}, {@code 3m05s}.
   */
  static String format(long micros) {
    if (micros < 0) return "-" + format(-micros);
    if (micros < 1_000) return micros + "us";
    if (micros < 1_000_000) return String.format(Locale.ROOT, "%.2fms", micros / 1_000.0);
    if (micros < 60_000_000) return String.format(Locale.ROOT, "%.3fs", micros / 1_000_000.0);
    long seconds = micros / 1_000_000;
    if (seconds < 3600) return String.format(Locale.ROOT, "%dm%02ds", seconds / 60, seconds % 60);
    return String.format(Locale.ROOT, "%dh%02dm", seconds / 3600, (seconds / 60) % 60);
  }
}
