package io.hoptrace.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.Counter;
import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * When the idle collection runs: only after requests and then a quiet spell, once per spell, never
 * with a request in flight; and it leaves the JVM's free-ratio limits as it found them. The
 * collections are this JVM's real ones (counted by its collector beans); the clock is stepped.
 */
class IdleHeapShrinkTest {
  static final Duration AFTER = Duration.ofSeconds(30);

  final AtomicLong finished = new AtomicLong();
  final AtomicLong inFlight = new AtomicLong();
  final AtomicLong now = new AtomicLong(1_000);
  final AtomicLong excess = new AtomicLong(64L << 20);
  final Counter runs = new Counter();
  final IdleHeapShrink shrink =
      new IdleHeapShrink(AFTER, finished::get, inFlight::get, runs, now::get, excess::get);

  void at(long seconds) {
    now.set(1_000 + Duration.ofSeconds(seconds).toNanos());
    shrink.run();
  }

  static long collections() {
    long n = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      n += Math.max(0, gc.getCollectionCount());
    }
    return n;
  }

  @Test
  void nothingBeforeTheFirstRequest() {
    for (int s = 0; s <= 300; s += 10) at(s);
    assertThat(runs.getCount()).isZero();
  }

  @Test
  void onceAfterAQuietSpell_thenAgainOnlyAfterMoreRequests() {
    at(0);
    finished.set(5);
    at(1); // requests seen: the quiet spell starts here
    at(30);
    assertThat(runs.getCount()).isZero(); // 29 s quiet: not yet
    long before = collections();
    at(31);
    assertThat(runs.getCount()).isEqualTo(1);
    assertThat(collections()).isGreaterThan(before); // a real collection ran
    for (int s = 40; s <= 200; s += 10) at(s);
    assertThat(runs.getCount()).isEqualTo(1); // once per spell
    finished.set(6);
    at(201);
    at(230);
    assertThat(runs.getCount()).isEqualTo(1);
    at(231);
    assertThat(runs.getCount()).isEqualTo(2);
  }

  @Test
  void neverWithARequestInFlight_evenWithoutFinishedOnes() {
    finished.set(1);
    at(0);
    inFlight.set(1); // a long download or a WebSocket: nothing finishes, but it is not idle
    for (int s = 10; s <= 300; s += 10) at(s);
    assertThat(runs.getCount()).isZero();
    inFlight.set(0); // the quiet spell counts from the last check that saw it (300 s)
    at(310);
    at(329);
    assertThat(runs.getCount()).isZero();
    at(330);
    assertThat(runs.getCount()).isEqualTo(1);
  }

  @Test
  void busyEveryCheck_neverRuns() {
    for (int s = 0; s <= 600; s += 5) {
      finished.incrementAndGet();
      at(s);
    }
    assertThat(runs.getCount()).isZero();
  }

  @Test
  void nothingToGiveBack_noCollection() {
    excess.set(IdleHeapShrink.MIN_EXCESS - 1);
    finished.set(1);
    at(0);
    at(60);
    assertThat(runs.getCount()).isZero();
  }

  @Test
  void freeRatioLimits_areLeftAsTheyWere() {
    HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
    String min = vm.getVMOption("MinHeapFreeRatio").getValue();
    String max = vm.getVMOption("MaxHeapFreeRatio").getValue();
    finished.set(1);
    at(0);
    at(31);
    assertThat(runs.getCount()).isEqualTo(1);
    assertThat(vm.getVMOption("MinHeapFreeRatio").getValue()).isEqualTo(min);
    assertThat(vm.getVMOption("MaxHeapFreeRatio").getValue()).isEqualTo(max);
  }

  @Test
  void checkEvery_isATenthOfTheQuietTime_within1To10s() {
    assertThat(IdleHeapShrink.checkEvery(Duration.ofSeconds(45)))
        .isEqualTo(Duration.ofMillis(4500));
    assertThat(IdleHeapShrink.checkEvery(Duration.ofSeconds(2))).isEqualTo(Duration.ofSeconds(1));
    assertThat(IdleHeapShrink.checkEvery(Duration.ofMinutes(10))).isEqualTo(Duration.ofSeconds(10));
  }
}
