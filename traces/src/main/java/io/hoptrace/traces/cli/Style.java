package io.hoptrace.traces.cli;

/**
 * How terminal output looks: its width, whether it may use ANSI colour, and whether it may use
 * Unicode box and block characters (or plain ASCII). Output is a function of the traces and this
 * style only, so tests pin it and get the same bytes every run.
 */
record Style(int width, boolean color, boolean unicode) {
  static final int MIN_WIDTH = 60;
  static final int MAX_WIDTH = 400;

  static final String RESET = "\u001b[0m";
  static final String BOLD = "\u001b[1m";
  static final String DIM = "\u001b[2m";
  static final String RED = "\u001b[31m";
  static final String YELLOW = "\u001b[33m";
  private static final String[] PALETTE = {
    "\u001b[36m", "\u001b[35m", "\u001b[34m", "\u001b[32m", "\u001b[33m", "\u001b[96m"
  };

  String paint(String text, String code) {
    return color && !text.isEmpty() ? code + text + RESET : text;
  }

  String serviceColor(int index) {
    return PALETTE[Math.floorMod(index, PALETTE.length)];
  }

  String bar() {
    return unicode ? "\u2588" : "=";
  }

  String tee() {
    return unicode ? "\u251c\u2500 " : "|- ";
  }

  String elbow() {
    return unicode ? "\u2514\u2500 " : "`- ";
  }

  String ellipsis() {
    return unicode ? "\u2026" : "~";
  }

  String dot() {
    return unicode ? "\u00b7" : "-";
  }

  /** The tree prefix as computed by Trace.rows(), in this style's characters. */
  String treePrefix(String prefix) {
    return unicode ? prefix : prefix.replace('\u2502', '|');
  }

  /** Cuts {@code s} to at most {@code max} characters, marking the cut. */
  String fit(String s, int max) {
    if (max <= 0) return "";
    if (s.length() <= max) return s;
    if (max == 1) return ellipsis();
    return s.substring(0, max - 1) + ellipsis();
  }

  static String pad(String s, int width) {
    if (s.length() >= width) return s;
    StringBuilder b = new StringBuilder(width).append(s);
    while (b.length() < width) b.append(' ');
    return b.toString();
  }

  static String padLeft(String s, int width) {
    if (s.length() >= width) return s;
    StringBuilder b = new StringBuilder(width);
    for (int i = s.length(); i < width; i++) b.append(' ');
    return b.append(s).toString();
  }
}
