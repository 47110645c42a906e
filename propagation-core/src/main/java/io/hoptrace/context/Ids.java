package io.hoptrace.context;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Id generation: thread-safe, lock-free, never zero. Trace ids are 128 random bits, so they are
 * suitable for the W3C Level 2 "random" trace flag.
 */
public final class Ids {
  /** A random, non-zero 64-bit id for a span. */
  public static long newSpanId() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long id;
    do {
      id = random.nextLong();
    } while (id == 0L);
    return id;
  }

  /**
   * The high half of a new random trace id (may be zero only together with a non-zero low half).
   */
  public static long newTraceIdHigh() {
    return ThreadLocalRandom.current().nextLong();
  }

  /** The low half of a new random trace id: never zero, so the whole id is never zero. */
  public static long newTraceIdLow() {
    return newSpanId();
  }

  private Ids() {}
}
