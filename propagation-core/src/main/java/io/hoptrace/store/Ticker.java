package io.hoptrace.store;

/**
 * A monotonic clock in nanoseconds, like {@link System#nanoTime()}: only differences between
 * readings mean anything. Tests drive time with {@link ManualTicker}.
 */
@FunctionalInterface
public interface Ticker {
  /** Nanoseconds since an arbitrary origin; never decreases. */
  long read();

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
}
