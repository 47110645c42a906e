package io.hoptrace.span;

/**
 * {@link Integer#toString(int)} without a new String for 0..999: span tags carry status codes and
 * candidate counts on every request (bench/README.md, "Allocation per request (s14)").
 */
public final class IntTexts {
  private static final String[] TEXTS = new String[1000];

  static {
    for (int i = 0; i < TEXTS.length; i++) TEXTS[i] = Integer.toString(i);
  }

  /** {@code Integer.toString(i)}, shared for 0..999. */
  public static String of(int i) {
    return i >= 0 && i < TEXTS.length ? TEXTS[i] : Integer.toString(i);
  }

  private IntTexts() {}
}
