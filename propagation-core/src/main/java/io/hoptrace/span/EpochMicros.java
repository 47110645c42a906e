package io.hoptrace.span;

import java.time.Instant;

/**
 * The wall clock in epoch microseconds, the unit of a span's {@code timestamp}. Every hop stamps
 * its spans with this one clock: a SERVER span stamped to the microsecond and a CLIENT span stamped
 * to the millisecond would put a child up to a millisecond before its parent in every waterfall.
 *
 * <p>Read without allocating, as brave's tick clock is: a base (the wall clock from {@link
 * Instant#now} and {@link System#nanoTime} read together) plus the {@code nanoTime} elapsed since.
 * {@code Instant.now()} made an object per call (18–25 B per request on each hop, which escape
 * analysis does not remove: bench/README.md, "Allocation sites (s20)"). The base is taken again
 * once it is {@link #REBASE_NANOS} old, so the reading never drifts from the wall clock by more
 * than the two clocks part in that time, and a step of the wall clock (NTP, an operator) is
 * followed within it. A span's duration does not come from here ({@code nanoTime} differences).
 */
public final class EpochMicros {
  /** How long a base is used before it is taken again: one second. */
  static final long REBASE_NANOS = 1_000_000_000L;

  private static final Clock SYSTEM = new Clock(REBASE_NANOS, System::nanoTime, Instant::now);

  /** Now, to the microsecond where the platform clock has it (Linux does). */
  public static long now() {
    return SYSTEM.now();
  }

  /**
   * The wall clock at {@code nanoTime}, a {@link System#nanoTime} reading the caller took (so a
   * caller that needs both reads the clock once). A reading older than the current base is placed
   * by it all the same.
   */
  public static long at(long nanoTime) {
    return SYSTEM.at(nanoTime);
  }

  /** {@code instant} in epoch microseconds. */
  public static long of(Instant instant) {
    return instant.getEpochSecond() * 1_000_000L + instant.getNano() / 1_000;
  }

  /** A monotonic source of nanoseconds ({@link System#nanoTime}); a seam for tests. */
  interface Nanos {
    long read();
  }

  /** A wall clock ({@link Instant#now}); a seam for tests. */
  interface Wall {
    Instant now();
  }

  /** The clock behind {@link EpochMicros}, with its sources and re-base period given (tests). */
  static final class Clock {
    private final long rebaseNanos;
    private final Nanos nanos;
    private final Wall wall;

    /** Replaced whole (never changed in place), so a reader sees a consistent pair. */
    private volatile Base base;

    Clock(long rebaseNanos, Nanos nanos, Wall wall) {
      this.rebaseNanos = rebaseNanos;
      this.nanos = nanos;
      this.wall = wall;
      this.base = calibrate();
    }

    long now() {
      return at(nanos.read());
    }

    long at(long nanoTime) {
      Base b = base;
      long elapsed = nanoTime - b.nanos;
      if (elapsed >= rebaseNanos) {
        // Racing threads may each take a base: any of them is right, the last one stays.
        b = calibrate();
        base = b;
        elapsed = nanoTime - b.nanos;
      }
      return Math.floorDiv(b.epochNanos + elapsed, 1_000L);
    }

    /** The wall clock paired with the middle of two nanoTime readings around it. */
    private Base calibrate() {
      long before = nanos.read();
      Instant now = wall.now();
      long after = nanos.read();
      long epochNanos = now.getEpochSecond() * 1_000_000_000L + now.getNano(); // until 2262
      return new Base(epochNanos, before + (after - before) / 2);
    }
  }

  /** The wall clock in epoch ns at the {@code nanoTime} reading {@code nanos}. */
  private record Base(long epochNanos, long nanos) {}

  private EpochMicros() {}
}
