package io.hoptrace.span;

import java.time.Instant;

/**
 * The wall clock in epoch microseconds, the unit of a span's {@code timestamp}. Every hop stamps
 * its spans with this one clock: a SERVER span stamped to the microsecond and a CLIENT span stamped
 * to the millisecond would put a child up to a millisecond before its parent in every waterfall.
 */
public final class EpochMicros {
  /** Now, to the microsecond where the platform clock has it (Linux does). */
  public static long now() {
    return of(Instant.now());
  }

  /** {@code instant} in epoch microseconds. */
  public static long of(Instant instant) {
    return instant.getEpochSecond() * 1_000_000L + instant.getNano() / 1_000;
  }

  private EpochMicros() {}
}
