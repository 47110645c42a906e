package io.hoptrace.proxy.metrics;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.codahale.metrics.Reservoir;
import com.codahale.metrics.Snapshot;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;

/**
 * The latency timers' reservoir: counts of request durations (nanoseconds) in log-linear buckets,
 * 32 per power of two, over the last one to two windows ({@link #DEFAULT_WINDOW_NANOS}: 60 s). A
 * quantile read from it is the middle of the bucket the quantile's rank falls in, so it is within
 * 1/64 (1.6 %) of a duration that was recorded (exact below 64 ns).
 *
 * <p>Why not Dropwizard's default {@code ExponentiallyDecayingReservoir}: it is on the I/O thread
 * for every request that ends, and there it took a read lock, computed an {@code exp}, drew a
 * random number and kept a 1,028-entry skip list: about 1 µs per request, the largest single cost
 * of the metrics (bench/README.md "Latency reservoir, and where the I/O thread's time goes with
 * inlined frames (s27)"). Here an update is one clock read, one index computation and one atomic
 * increment. What changes for a reader of {@code hoptrace_*_latency}: the quantiles describe the
 * last 60-120 s exactly up to the bucket width, not a random sample biased to the last ~5 minutes;
 * after two quiet windows they read 0 (the default kept its last samples).
 *
 * <p>Thread-safe. An update that races the window's turn may land in the window just retired (read
 * for one window less, or not at all when that turn ended a quiet spell); the request counters are
 * exact either way.
 */
final class WindowedBucketReservoir implements Reservoir {
  static final long DEFAULT_WINDOW_NANOS = 60_000_000_000L;

  private static final int SUB_BITS = 5;
  private static final int SUB = 1 << SUB_BITS;

  /** Durations from 2^(MAX_EXP+1) ns (~73 minutes) up are counted in the last bucket. */
  private static final int MAX_EXP = 41;

  static final int BUCKETS = (MAX_EXP - SUB_BITS + 2) * SUB;

  /** When a snapshot holds more durations than this, {@link Snapshot#getValues} is a sample. */
  static final int MAX_VALUES = 4096;

  private final long windowNanos;
  private final LongSupplier nanoTime;
  private volatile AtomicLongArray current = new AtomicLongArray(BUCKETS);
  private volatile AtomicLongArray previous = new AtomicLongArray(BUCKETS);
  private volatile long currentEnds;

  WindowedBucketReservoir() {
    this(DEFAULT_WINDOW_NANOS, System::nanoTime);
  }

  WindowedBucketReservoir(long windowNanos, LongSupplier nanoTime) {
    if (windowNanos <= 0) throw new IllegalArgumentException("window must be > 0: " + windowNanos);
    this.windowNanos = windowNanos;
    this.nanoTime = nanoTime;
    this.currentEnds = nanoTime.getAsLong() + windowNanos;
  }

  @Override
  public void update(long value) {
    long now = nanoTime.getAsLong();
    if (now - currentEnds >= 0) turn(now);
    current.incrementAndGet(index(value));
  }

  /** Retires the current window (and the previous one, when more than a window went by). */
  private synchronized void turn(long now) {
    long ends = currentEnds;
    if (now - ends < 0) return; // another thread turned it
    boolean oneWindow = now - ends < windowNanos;
    previous = oneWindow ? current : new AtomicLongArray(BUCKETS);
    current = new AtomicLongArray(BUCKETS);
    currentEnds = now + windowNanos - (oneWindow ? (now - ends) : 0);
  }

  /** The number of durations in the last one to two windows. */
  @Override
  public int size() {
    long n = 0;
    for (long c : counts()) n += c;
    return (int) Math.min(n, Integer.MAX_VALUE);
  }

  @Override
  public Snapshot getSnapshot() {
    return new BucketSnapshot(counts());
  }

  private long[] counts() {
    long now = nanoTime.getAsLong();
    AtomicLongArray a;
    AtomicLongArray b;
    synchronized (this) { // the two windows of one turn, not one of each of two
      if (now - currentEnds >= 0) turn(now);
      a = previous;
      b = current;
    }
    long[] counts = new long[BUCKETS];
    for (int i = 0; i < BUCKETS; i++) counts[i] = a.get(i) + b.get(i);
    return counts;
  }

  /** The bucket of {@code value}: exact below 2·SUB, then SUB buckets per power of two. */
  static int index(long value) {
    if (value < 2 * SUB) return value <= 0 ? 0 : (int) value;
    int exp = 63 - Long.numberOfLeadingZeros(value);
    if (exp > MAX_EXP) return BUCKETS - 1;
    return (exp - SUB_BITS + 1) * SUB + (int) ((value >>> (exp - SUB_BITS)) & (SUB - 1));
  }

  /** The smallest duration in bucket {@code index}. */
  static long lowest(int index) {
    if (index < 2 * SUB) return index;
    int exp = index / SUB + SUB_BITS - 1;
    return (long) (SUB + index % SUB) << (exp - SUB_BITS);
  }

  /** The width of bucket {@code index}: 1 below 2·SUB. */
  static long width(int index) {
    if (index < 2 * SUB) return 1;
    return 1L << (index / SUB - 1);
  }

  /** What a duration in bucket {@code index} is read as: the bucket's middle. */
  static long middle(int index) {
    return lowest(index) + width(index) / 2;
  }

  /** The durations of one snapshot, as bucket counts. */
  static final class BucketSnapshot extends Snapshot {
    private final long[] counts;
    private final long total;
    private final int lowestIndex;
    private final int highestIndex;

    BucketSnapshot(long[] counts) {
      this.counts = counts;
      long n = 0;
      int lo = -1;
      int hi = -1;
      for (int i = 0; i < counts.length; i++) {
        if (counts[i] == 0) continue;
        n += counts[i];
        if (lo < 0) lo = i;
        hi = i;
      }
      this.total = n;
      this.lowestIndex = lo;
      this.highestIndex = hi;
    }

    @Override
    public double getValue(double quantile) {
      if (quantile < 0.0 || quantile > 1.0 || Double.isNaN(quantile)) {
        throw new IllegalArgumentException(quantile + " is not in [0..1]");
      }
      if (total == 0) return 0.0;
      return middle(indexOfRank(Math.max(1L, (long) Math.ceil(quantile * total))));
    }

    /** The bucket holding the {@code rank}-th smallest duration (1-based). */
    private int indexOfRank(long rank) {
      long seen = 0;
      for (int i = lowestIndex; i <= highestIndex; i++) {
        seen += counts[i];
        if (seen >= rank) return i;
      }
      return highestIndex;
    }

    /**
     * Every duration (as its bucket's middle), in order; when there are more than {@link
     * #MAX_VALUES}, that many at evenly spaced ranks.
     */
    @Override
    public long[] getValues() {
      if (total == 0) return new long[0];
      int n = (int) Math.min(total, MAX_VALUES);
      long[] values = new long[n];
      if (n == total) {
        int k = 0;
        for (int i = lowestIndex; i <= highestIndex; i++) {
          for (long c = 0; c < counts[i]; c++) values[k++] = middle(i);
        }
        return values;
      }
      int i = lowestIndex;
      long seen = counts[i];
      for (int k = 0; k < n; k++) {
        long rank = 1 + (long) ((double) k * (total - 1) / (n - 1));
        while (seen < rank) seen += counts[++i];
        values[k] = middle(i);
      }
      return values;
    }

    @Override
    public int size() {
      return (int) Math.min(total, Integer.MAX_VALUE);
    }

    @Override
    public long getMax() {
      return total == 0 ? 0 : middle(highestIndex);
    }

    @Override
    public long getMin() {
      return total == 0 ? 0 : middle(lowestIndex);
    }

    @Override
    public double getMean() {
      if (total == 0) return 0.0;
      double sum = 0;
      for (int i = lowestIndex; i <= highestIndex; i++) sum += (double) counts[i] * middle(i);
      return sum / total;
    }

    @Override
    public double getStdDev() {
      if (total <= 1) return 0.0;
      double mean = getMean();
      double sum = 0;
      for (int i = lowestIndex; i <= highestIndex; i++) {
        double d = middle(i) - mean;
        sum += counts[i] * d * d;
      }
      return Math.sqrt(sum / (total - 1));
    }

    @Override
    public void dump(OutputStream output) {
      try (PrintWriter out = new PrintWriter(new java.io.OutputStreamWriter(output, UTF_8))) {
        for (long value : getValues()) out.printf("%d%n", value);
      }
    }
  }
}
