package io.hoptrace.proxy.appspans;

/**
 * {@code rate} tokens per second, at most {@code burst} held. A request takes as many tokens as it
 * has spans, all or none, so a refused request leaves the bucket as it was. Thread-safe; O(1).
 */
final class TokenBucket {
  private final double perNano;
  private final double burst;
  private double tokens;
  private long lastNanos;

  /**
   * @param rate tokens per second; 0 = unlimited
   * @param burst the most tokens held, and what a new bucket starts with
   */
  TokenBucket(int rate, int burst, long nowNanos) {
    this.perNano = rate / 1e9;
    this.burst = burst;
    this.tokens = burst;
    this.lastNanos = nowNanos;
  }

  /** Takes {@code n} tokens if the bucket holds them; else takes none and returns false. */
  synchronized boolean tryTake(int n, long nowNanos) {
    if (perNano == 0) return true;
    refill(nowNanos);
    if (tokens < n) return false;
    tokens -= n;
    return true;
  }

  /** Whole seconds until {@code n} tokens will be there (for Retry-After); at least 1. */
  synchronized long secondsUntil(int n, long nowNanos) {
    if (perNano == 0) return 0;
    refill(nowNanos);
    double missing = Math.max(0, n - tokens);
    return Math.max(1, (long) Math.ceil(missing / perNano / 1e9));
  }

  private void refill(long nowNanos) {
    long elapsed = nowNanos - lastNanos;
    if (elapsed > 0) {
      tokens = Math.min(burst, tokens + elapsed * perNano);
      lastNanos = nowNanos;
    }
  }
}
