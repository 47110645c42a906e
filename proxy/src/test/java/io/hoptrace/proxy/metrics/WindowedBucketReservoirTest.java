package io.hoptrace.proxy.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.codahale.metrics.Snapshot;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class WindowedBucketReservoirTest {
  private static final long WINDOW = 60_000_000_000L;

  @Test
  void buckets_tileTheRange_andEveryValueReadsWithin1in64() {
    // Contiguous and increasing: each bucket starts where the one before it ends.
    for (int i = 1; i < WindowedBucketReservoir.BUCKETS; i++) {
      assertThat(WindowedBucketReservoir.lowest(i))
          .as("bucket %d", i)
          .isEqualTo(WindowedBucketReservoir.lowest(i - 1) + WindowedBucketReservoir.width(i - 1));
    }
    SplittableRandom random = new SplittableRandom(7);
    for (int k = 0; k < 200_000; k++) {
      long value = random.nextLong(1L << random.nextInt(1, 42));
      int index = WindowedBucketReservoir.index(value);
      assertThat(value)
          .as("value %d in bucket %d", value, index)
          .isBetween(
              WindowedBucketReservoir.lowest(index),
              WindowedBucketReservoir.lowest(index) + WindowedBucketReservoir.width(index) - 1);
      long read = WindowedBucketReservoir.middle(index);
      assertThat(Math.abs(read - value)).isLessThanOrEqualTo(Math.max(0, value / 64));
    }
    for (long exact = 0; exact < 64; exact++) {
      assertThat(WindowedBucketReservoir.middle(WindowedBucketReservoir.index(exact)))
          .isEqualTo(exact);
    }
    assertThat(WindowedBucketReservoir.index(-5)).isZero();
    assertThat(WindowedBucketReservoir.index(Long.MAX_VALUE))
        .isEqualTo(WindowedBucketReservoir.BUCKETS - 1);
  }

  @Test
  void quantiles_ofAKnownSpread_areWithinTheBucketWidth() {
    AtomicLong now = new AtomicLong();
    WindowedBucketReservoir reservoir = new WindowedBucketReservoir(WINDOW, now::get);
    // 1 µs .. 100 ms, one each, shuffled: the q-quantile is q·100 ms.
    long[] values = new long[100_000];
    for (int i = 0; i < values.length; i++) values[i] = (i + 1) * 1_000L;
    shuffle(values, new SplittableRandom(11));
    for (long v : values) reservoir.update(v);

    Snapshot s = reservoir.getSnapshot();
    assertThat(s.size()).isEqualTo(100_000);
    assertThat(reservoir.size()).isEqualTo(100_000);
    for (double q : new double[] {0.5, 0.75, 0.95, 0.98, 0.99, 0.999}) {
      double exact = Math.ceil(q * values.length) * 1_000.0;
      assertThat(s.getValue(q)).as("q=%s", q).isCloseTo(exact, within(exact / 64 + 1));
    }
    assertThat(s.getMin()).isCloseTo(1_000L, within(1_000L / 64));
    assertThat(s.getMax()).isCloseTo(100_000_000L, within(100_000_000L / 64));
    assertThat(s.getMean()).isCloseTo(50_000_500.0, within(50_000_500.0 / 64));
    // The spread of 1..N uniform: N / sqrt(12)
    assertThat(s.getStdDev()).isCloseTo(100_000_000 / Math.sqrt(12), within(1_000_000.0));
    long[] sample = s.getValues();
    assertThat(sample).hasSize(WindowedBucketReservoir.MAX_VALUES).isSorted();
    assertThat(sample[0]).isEqualTo(s.getMin());
    assertThat(sample[sample.length - 1]).isEqualTo(s.getMax());
    assertThat((double) sample[sample.length / 2])
        .isCloseTo(s.getMedian(), within(1_100_000.0)); // a bucket's width there
    assertThatThrownBy(() -> s.getValue(1.5)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> s.getValue(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void fewValues_areAllThere_andDumpedOnePerLine() {
    AtomicLong now = new AtomicLong();
    WindowedBucketReservoir reservoir = new WindowedBucketReservoir(WINDOW, now::get);
    for (long v : new long[] {40, 7, 1_500_000, 40}) reservoir.update(v);
    Snapshot s = reservoir.getSnapshot();
    assertThat(s.getValues()).hasSize(4);
    assertThat(s.getValues()[0]).isEqualTo(7);
    assertThat(s.getValue(0.5)).isEqualTo(40.0);
    assertThat(s.getValue(0.0)).isEqualTo(7.0); // the smallest
    assertThat(s.getValue(1.0)).isCloseTo(1_500_000.0, within(1_500_000.0 / 64));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    s.dump(out);
    assertThat(out.toString(StandardCharsets.UTF_8).lines())
        .containsExactly("7", "40", "40", Long.toString(s.getMax()));
  }

  @Test
  void windows_keepTheLastOneToTwo_andForgetOlder() {
    AtomicLong now = new AtomicLong(1_000);
    WindowedBucketReservoir reservoir = new WindowedBucketReservoir(WINDOW, now::get);
    reservoir.update(1_000_000); // window 1
    now.addAndGet(WINDOW - 1);
    reservoir.update(1_000_000); // still window 1
    assertThat(reservoir.getSnapshot().size()).isEqualTo(2);

    now.addAndGet(1); // window 2 begins: window 1 is the previous one, still read
    reservoir.update(3_000_000);
    Snapshot both = reservoir.getSnapshot();
    assertThat(both.size()).isEqualTo(3);
    assertThat(both.getMax()).isCloseTo(3_000_000L, within(3_000_000L / 64));

    now.addAndGet(WINDOW); // window 3: window 1 is gone, window 2 is the previous one
    assertThat(reservoir.getSnapshot().size()).isEqualTo(1);
    assertThat(reservoir.getSnapshot().getMin()).isCloseTo(3_000_000L, within(3_000_000L / 64));

    reservoir.update(2_000_000); // in window 3
    now.addAndGet(2 * WINDOW + 5); // more than a window of quiet: nothing left, window 3 too
    Snapshot empty = reservoir.getSnapshot();
    assertThat(empty.size()).isZero();
    assertThat(empty.getValue(0.99)).isZero();
    assertThat(empty.getMax()).isZero();
    assertThat(empty.getMean()).isZero();
    assertThat(empty.getValues()).isEmpty();

    // The window's turn keeps its phase when it was due by less than a window.
    reservoir.update(5); // turns nothing: the quiet spell's turn set a new window here
    now.addAndGet(WINDOW + WINDOW / 2); // 1.5 windows on: one turn, the update is in "previous"
    assertThat(reservoir.getSnapshot().size()).isEqualTo(1);
    now.addAndGet(WINDOW / 2); // the next turn is due exactly here (phase kept): 5 is gone
    assertThat(reservoir.getSnapshot().size()).isZero();
  }

  @Test
  void concurrentUpdates_areAllCounted() throws InterruptedException {
    WindowedBucketReservoir reservoir = new WindowedBucketReservoir();
    int threads = 4;
    int each = 50_000;
    CountDownLatch start = new CountDownLatch(1);
    Thread[] workers = new Thread[threads];
    for (int t = 0; t < threads; t++) {
      long value = (t + 1) * 1_000_000L;
      workers[t] =
          new Thread(
              () -> {
                try {
                  start.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  return;
                }
                for (int i = 0; i < each; i++) reservoir.update(value);
              });
      workers[t].start();
    }
    start.countDown();
    for (Thread w : workers) w.join(30_000);
    Snapshot s = reservoir.getSnapshot();
    assertThat(s.size()).isEqualTo(threads * each);
    assertThat(s.getValue(0.25)).isCloseTo(1_000_000.0, within(1_000_000.0 / 64));
    assertThat(s.getValue(1.0)).isCloseTo(4_000_000.0, within(4_000_000.0 / 64));
  }

  private static void shuffle(long[] a, SplittableRandom random) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      long t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    assertThat(Arrays.stream(a).sum()).isPositive();
  }
}
