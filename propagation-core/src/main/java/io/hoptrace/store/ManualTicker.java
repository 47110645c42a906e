package io.hoptrace.store;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Ticker} that moves only when told to: for tests in any module that need to step a {@link
 * GenerationRing} or the correlator through time deterministically. Thread-safe.
 */
public final class ManualTicker implements Ticker {
  private final AtomicLong nanos;

  /** Starts at {@code startNanos}. */
  public ManualTicker(long startNanos) {
    this.nanos = new AtomicLong(startNanos);
  }

  /** Starts at one second: a non-zero origin, so that "0 = not yet" fields stay unambiguous. */
  public ManualTicker() {
    this(1_000_000_000L);
  }

  @Override
  public long read() {
    return nanos.get();
  }

  /** Moves time forward by {@code nanos} (must not be negative) and returns the new reading. */
  public long advance(long nanos) {
    if (nanos < 0) throw new IllegalArgumentException("nanos: " + nanos + " (expected: >= 0)");
    return this.nanos.addAndGet(nanos);
  }

  /** Moves time forward by {@code duration} and returns the new reading. */
  public long advance(Duration duration) {
    return advance(duration.toNanos());
  }

  @Override
  public String toString() {
    return "ManualTicker(" + nanos.get() + "ns)";
  }
}
