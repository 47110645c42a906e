package io.hoptrace.propagation;

/** Makes wire input safe to put in a log line or a span tag. */
final class LogSafe {
  /** Longer input is cut here and marked with {@code ...}. */
  static final int MAX_LENGTH = 256;

  /**
   * {@code value} with every char outside printable ASCII (CR, LF, other controls, DEL, non-ASCII)
   * replaced by {@code ?}, bounded to {@link #MAX_LENGTH} chars plus {@code ...}.
   */
  static String sanitize(CharSequence value) {
    int length = Math.min(value.length(), MAX_LENGTH);
    StringBuilder out = new StringBuilder(length + 3);
    for (int i = 0; i < length; i++) {
      char c = value.charAt(i);
      out.append(c >= ' ' && c <= '~' ? c : '?');
    }
    if (value.length() > MAX_LENGTH) out.append("...");
    return out.toString();
  }

  private LogSafe() {}
}
