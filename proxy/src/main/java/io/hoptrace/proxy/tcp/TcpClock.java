package io.hoptrace.proxy.tcp;

import io.hoptrace.span.EpochMicros;

/**
 * Epoch microseconds from one wall-clock reading plus {@link System#nanoTime()}: monotonic (a
 * duration is never negative when NTP steps the clock) and cheap enough to read per chunk.
 */
final class TcpClock {
  final long baseEpochMicros = EpochMicros.now();
  final long baseNanos = System.nanoTime();

  long nowMicros() {
    return baseEpochMicros + (System.nanoTime() - baseNanos) / 1000L;
  }

  /** The {@link System#nanoTime()} reading (to the microsecond) of {@code epochMicros}. */
  long toNanos(long epochMicros) {
    return baseNanos + (epochMicros - baseEpochMicros) * 1000L;
  }
}
