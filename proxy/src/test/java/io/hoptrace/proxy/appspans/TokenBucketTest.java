package io.hoptrace.proxy.appspans;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TokenBucketTest {
  static final long SECOND = 1_000_000_000L;

  @Test
  void tryTake_upToBurst_thenRefusesWholeRequests() {
    TokenBucket bucket = new TokenBucket(10, 20, 0);
    assertThat(bucket.tryTake(15, 0)).isTrue();
    assertThat(bucket.tryTake(6, 0)).isFalse(); // all or none: 5 left
    assertThat(bucket.tryTake(5, 0)).isTrue();
  }

  @Test
  void tryTake_refillsAtTheRate_cappedAtBurst() {
    TokenBucket bucket = new TokenBucket(10, 20, 0);
    assertThat(bucket.tryTake(20, 0)).isTrue();
    assertThat(bucket.tryTake(10, SECOND / 2)).isFalse();
    assertThat(bucket.secondsUntil(10, SECOND / 2)).isEqualTo(1);
    assertThat(bucket.tryTake(10, SECOND)).isTrue();
    assertThat(bucket.tryTake(21, 100 * SECOND)).isFalse();
    assertThat(bucket.tryTake(20, 100 * SECOND)).isTrue();
  }

  @Test
  void tryTake_rateZero_neverRefuses() {
    TokenBucket bucket = new TokenBucket(0, 1, 0);
    assertThat(bucket.tryTake(1_000_000, 0)).isTrue();
  }
}
