package io.hoptrace.store;

/**
 * A monotonic clock in nanoseconds, like {@link System#nanoTime()}: only differences between
 * readings mean anything. Tests drive time with {@link ManualTicker}.
 */
@FunctionalInterface
public interface Ticker {
  /** Nanoseconds since an arbitrary origin; never decreases. */
  long read();

  /**
   * This ticker's reading for an event the caller stamped {@code systemNanos} ({@link
   * System#nanoTime()} read just before): the stamp itself on the {@link #system()} ticker, one
   * clock read less per event on the request path (bench/README.md, "Inbound path (s18)"); any
   * other ticker (tests stamp events with times of their own) is read.
   */
  default long readAt(long systemNanos) {
    return read();
  }

  /** {@link System#nanoTime()}. */
  static Ticker system() {
    return SystemTicker.INSTANCE;
  }
}

enum SystemTicker implements Ticker {
  INSTANCE;

  @Override
  public long read() {
    return System.nanoTime();
  }

  @Override
  public long readAt(long systemNanos) {
    return systemNanos;
  }
}
