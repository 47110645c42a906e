package io.hoptrace.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class GenerationRingTest {
  static final long T = Duration.ofSeconds(10).toNanos();

  final ManualTicker ticker = new ManualTicker();

  GenerationRing<String, String> ring(int generations, int cap) {
    return GenerationRing.newBuilder()
        .generations(generations)
        .period(Duration.ofNanos(T))
        .capPerGeneration(cap)
        .ticker(ticker)
        .build();
  }

  @Test
  void get_putAtStartOfPeriod_livesExactlyMPeriods() {
    GenerationRing<String, String> ring = ring(3, 100);
    ring.put("k", "v"); // at the very start of period 0

    ticker.advance(3 * T - 1);
    assertThat(ring.get("k")).isEqualTo("v");
    ticker.advance(1);
    assertThat(ring.get("k")).isNull();
  }

  @Test
  void atOverloads_advanceByTheGivenReading_asThePlainOnesByTheTicker() {
    GenerationRing<String, String> ring = ring(3, 100);
    long start = ticker.read();
    assertThat(ring.putAt("k", "v", start)).isTrue();
    assertThat(ring.putAt("gone", "v", start)).isTrue();

    assertThat(ring.getAt("k", start + 3 * T - 1)).isEqualTo("v");
    assertThat(ring.removeAt("gone", "other", start + 3 * T - 1)).isFalse();
    assertThat(ring.removeAt("gone", "v", start + 3 * T - 1)).isTrue();
    assertThat(ring.getAt("k", start + 3 * T)).isNull(); // M periods after the put: dropped
    assertThat(ring.get("k")).isNull(); // the ticker never moved: the advance was by the reading

    ring.putAt("k2", "v2", ring.advanceCount() * T + start + 3 * T);
    assertThat(ring.removeAt("k2", start + 3 * T)).isEqualTo("v2");
  }

  @Test
  void get_putAtEndOfPeriod_livesJustOverMMinusOnePeriods() {
    GenerationRing<String, String> ring = ring(3, 100);
    ticker.advance(T - 1); // last nanosecond of period 0
    ring.put("k", "v");

    ticker.advance(2 * T); // put + (M-1)·T: still there
    assertThat(ring.get("k")).isEqualTo("v");
    ticker.advance(1); // put + (M-1)·T + 1 = start of period M: dropped
    assertThat(ring.get("k")).isNull();
  }

  @Test
  void get_anyPutOffset_lifetimeBetweenMMinusOneAndMPeriods() {
    for (int generations = 3; generations <= 5; generations++) {
      for (long offset : new long[] {0, 1, T / 3, T / 2, T - 1, T, 2 * T + 7}) {
        ManualTicker t = new ManualTicker();
        GenerationRing<String, String> ring =
            GenerationRing.newBuilder()
                .generations(generations)
                .period(Duration.ofNanos(T))
                .ticker(t)
                .build();
        t.advance(offset);
        long putAt = t.read();
        ring.put("k", "v");

        // Step in T/100 until the entry is gone: bounded, at most (M+1)·100 steps.
        long step = T / 100;
        while (ring.get("k") != null && t.read() - putAt <= (generations + 1) * T) t.advance(step);
        long lifetime = t.read() - putAt;

        assertThat(lifetime)
            .as("M=%d offset=%d", generations, offset)
            .isGreaterThanOrEqualTo((generations - 1) * T)
            .isLessThanOrEqualTo(generations * T + step);
      }
    }
  }

  @Test
  void get_afterIdleForManyPeriods_findsNothingAndCatchesUpAtMostMGenerations() {
    GenerationRing<String, String> ring = ring(3, 100);
    ring.put("k", "v");

    ticker.advance(1000 * T);

    assertThat(ring.get("k")).isNull();
    assertThat(ring.advanceCount()).isEqualTo(3);
    assertThat(ring.size()).isZero();
    // The grid is kept: the next advance is due exactly one period after the 1000th.
    ring.put("k2", "v2");
    ticker.advance(T - 1);
    assertThat(ring.advanceIfDue()).isFalse();
    ticker.advance(1);
    assertThat(ring.advanceIfDue()).isTrue();
  }

  @Test
  void get_entryInOlderGeneration_fallsBackToIt() {
    GenerationRing<String, String> ring = ring(4, 100);
    ring.put("old", "1");
    ticker.advance(T);
    ring.put("middle", "2");
    ticker.advance(T);
    ring.put("new", "3");

    assertThat(ring.get("old")).isEqualTo("1");
    assertThat(ring.get("middle")).isEqualTo("2");
    assertThat(ring.get("new")).isEqualTo("3");
    assertThat(ring.size()).isEqualTo(3);
  }

  @Test
  void get_keyInTwoGenerations_returnsNewest() {
    GenerationRing<String, String> ring = ring(3, 100);
    ring.put("k", "old");
    ticker.advance(T);
    ring.put("k", "new");

    assertThat(ring.get("k")).isEqualTo("new");
  }

  @Test
  void put_generationFull_refusesAndCounts() {
    GenerationRing<String, String> ring = ring(3, 2);
    assertThat(ring.put("a", "1")).isTrue();
    assertThat(ring.put("b", "2")).isTrue();

    assertThat(ring.put("c", "3")).isFalse();
    assertThat(ring.put("d", "4")).isFalse();

    assertThat(ring.refusedCount()).isEqualTo(2);
    assertThat(ring.get("c")).isNull();
    assertThat(ring.size()).isEqualTo(2);
  }

  @Test
  void put_generationFull_overwriteOfHeldKeyIsAccepted() {
    GenerationRing<String, String> ring = ring(3, 1);
    ring.put("a", "1");

    assertThat(ring.put("a", "2")).isTrue();

    assertThat(ring.get("a")).isEqualTo("2");
    assertThat(ring.refusedCount()).isZero();
  }

  @Test
  void put_afterAdvance_newGenerationAdmitsAgain() {
    GenerationRing<String, String> ring = ring(3, 1);
    ring.put("a", "1");
    assertThat(ring.put("b", "2")).isFalse();

    ticker.advance(T);

    assertThat(ring.put("b", "2")).isTrue();
    assertThat(ring.get("a")).isEqualTo("1");
    assertThat(ring.size()).isEqualTo(2);
  }

  @Test
  void size_manyDistinctKeysOverManyPeriods_neverAboveGenerationsTimesCap() {
    GenerationRing<Integer, Integer> ring =
        GenerationRing.newBuilder()
            .generations(3)
            .period(Duration.ofNanos(T))
            .capPerGeneration(1000)
            .ticker(ticker)
            .build();
    for (int i = 0; i < 200_000; i++) {
      ring.put(i, i);
      if (i % 500 == 0) ticker.advance(T / 7);
      if (i % 10_000 == 0) assertThat(ring.size()).isLessThanOrEqualTo(3 * 1000);
    }
    assertThat(ring.size()).isLessThanOrEqualTo(3 * 1000);
    assertThat(ring.refusedCount()).isPositive();
  }

  @Test
  void remove_keyInSeveralGenerations_removesEveryCopy() {
    GenerationRing<String, String> ring = ring(3, 100);
    ring.put("k", "old");
    ticker.advance(T);
    ring.put("k", "new");

    assertThat(ring.remove("k")).isEqualTo("new");

    assertThat(ring.get("k")).isNull();
    assertThat(ring.size()).isZero();
    assertThat(ring.remove("k")).isNull();
  }

  @Test
  void remove_freesAPlaceUnderTheCap() {
    GenerationRing<String, String> ring = ring(3, 1);
    ring.put("a", "1");
    ring.remove("a");

    assertThat(ring.put("b", "2")).isTrue();
  }

  @Test
  void forEachValueWhile_visitsNewestGenerationFirstAndStops() {
    GenerationRing<String, String> ring = ring(3, 100);
    ring.put("old", "1");
    ticker.advance(T);
    ring.put("new", "2");

    List<String> seen = new ArrayList<>();
    ring.forEachValueWhile(
        v -> {
          seen.add(v);
          return false;
        });

    assertThat(seen).containsExactly("2");
  }

  @Test
  void forEachValueWhile_visitsEveryLiveValue() {
    GenerationRing<String, String> ring = ring(3, 100);
    ring.put("a", "1");
    ticker.advance(T);
    ring.put("b", "2");
    ticker.advance(T);
    ring.put("c", "3");

    List<String> seen = new ArrayList<>();
    ring.forEachValueWhile(seen::add);

    assertThat(seen).containsExactly("3", "2", "1");
  }

  @Test
  void advanceIfDue_beforeAndAfterThePeriod() {
    GenerationRing<String, String> ring = ring(3, 100);
    ticker.advance(T - 1);
    assertThat(ring.advanceIfDue()).isFalse();
    ticker.advance(1);
    assertThat(ring.advanceIfDue()).isTrue();
    assertThat(ring.advanceIfDue()).isFalse();
    assertThat(ring.advanceCount()).isEqualTo(1);
  }

  @Test
  void build_badSettings_throwNamingTheSetting() {
    assertThatThrownBy(() -> GenerationRing.newBuilder().generations(2).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("generations: 2 (expected: >= 3)");
    assertThatThrownBy(() -> GenerationRing.newBuilder().period(Duration.ZERO).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("period: PT0S");
    assertThatThrownBy(() -> GenerationRing.newBuilder().capPerGeneration(0).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("capPerGeneration: 0");
  }

  @Test
  void build_defaults() {
    GenerationRing<String, String> ring = GenerationRing.newBuilder().build();

    assertThat(ring.generations()).isEqualTo(3);
    assertThat(ring.period()).isEqualTo(Duration.ofSeconds(10));
    assertThat(ring.capPerGeneration()).isEqualTo(65_536);
  }

  /**
   * Writers, readers and an advancer race for a fixed number of operations. Time is a ManualTicker
   * that the advancer moves by T/200 per step, so an entry read back right after it was put must be
   * found unless more than (M-1)·T passed in between: writers wait for an advance in progress, so
   * the lower lifetime bound holds exactly (RATIONALE.md).
   */
  @Test
  void putGetRemove_concurrentWithAdvances_noExceptionAndNoEntryLostWithinItsLifetime()
      throws Exception {
    int generations = 4;
    int cap = 1_000_000;
    GenerationRing<Long, Long> ring =
        GenerationRing.newBuilder()
            .generations(generations)
            .period(Duration.ofNanos(T))
            .capPerGeneration(cap)
            .ticker(ticker)
            .build();
    int workers = 3;
    int opsPerWorker = 30_000;
    ExecutorService pool = Executors.newFixedThreadPool(workers + 1);
    try {
      CountDownLatch start = new CountDownLatch(1);
      AtomicBoolean done = new AtomicBoolean();
      Future<Integer> advancer =
          pool.submit(
              () -> {
                start.await();
                int steps = 0;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (!done.get() && System.nanoTime() < deadline && steps < 10_000_000) {
                  ticker.advance(T / 200);
                  ring.advanceIfDue();
                  steps++;
                  if (steps % 16 == 0) Thread.onSpinWait();
                }
                return steps;
              });
      List<Future<Long>> results = new ArrayList<>();
      for (int w = 0; w < workers; w++) {
        long base = (long) w << 40;
        results.add(
            pool.submit(
                () -> {
                  start.await();
                  long expiredWithinBound = 0;
                  for (long i = 0; i < opsPerWorker; i++) {
                    Long key = base + i;
                    long before = ticker.read();
                    assertThat(ring.put(key, i)).isTrue();
                    Long got = ring.get(key);
                    long after = ticker.read();
                    if (got == null) {
                      assertThat(after - before)
                          .as("entry %d lost %d ns after put", key, after - before)
                          .isGreaterThan((generations - 1) * T);
                      expiredWithinBound++;
                    } else {
                      assertThat(got).isEqualTo(i);
                    }
                    if (i % 3 == 0) ring.remove(key);
                    if (i % 5 == 0) ring.get(base + i / 2); // older key: may or may not be there
                  }
                  return expiredWithinBound;
                }));
      }
      start.countDown();
      for (Future<Long> r : results) r.get(60, TimeUnit.SECONDS);
      done.set(true);
      assertThat(advancer.get(60, TimeUnit.SECONDS)).isPositive();
    } finally {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(ring.advanceCount()).isPositive();
    assertThat(ring.size()).isBetween(0, generations * cap);
    assertThat(ring.refusedCount()).isZero();
  }

  /**
   * The registry's pattern: a key put, read and removed while a few others are held. A
   * ConcurrentHashMap generation made a 32-byte node per put (3.2 MB for these 100,000); the table
   * makes none once its arrays have grown to the live set.
   */
  @Test
  void putGetRemove_steadyState_allocatesNoObjectPerEntry() {
    java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
    org.junit.jupiter.api.Assumptions.assumeTrue(mx instanceof com.sun.management.ThreadMXBean);
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) mx;
    GenerationRing<Long, String> ring = GenerationRing.newBuilder().ticker(ticker).build();
    int n = 100_000;
    Long[] keys = new Long[n];
    for (int i = 0; i < n; i++) keys[i] = 0x5eed_0000_0000L + i * 0x9E3779B97F4A7C15L;
    long now = ticker.read();
    int missed = 0;
    for (int round = 0; round < 2; round++) { // the first grows the arrays and loads classes
      long before = threads.getThreadAllocatedBytes(Thread.currentThread().getId());
      for (int i = 0; i < n; i++) {
        ring.putAt(keys[i], "v", now);
        if (!"v".equals(ring.getAt(keys[i], now))) missed++;
        if (i >= 16) ring.removeAt(keys[i - 16], "v", now);
      }
      for (int i = n - 16; i < n; i++) ring.removeAt(keys[i], now);
      long bytes = threads.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
      if (round == 1) assertThat(bytes).isLessThan(64 * 1024);
    }
    assertThat(missed).isZero();
    assertThat(ring.size()).isZero();
  }
}
