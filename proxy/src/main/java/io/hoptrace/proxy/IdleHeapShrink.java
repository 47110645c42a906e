package io.hoptrace.proxy;

import com.codahale.metrics.Counter;
import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.time.Duration;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Gives the heap a burst grew back to the OS once the sidecar is quiet ({@code heap.idle-gc}).
 *
 * <p>Serial GC uncommits heap only at a full collection, and only when more than {@code
 * MaxHeapFreeRatio} (70 %) of the old generation is free after it; after a burst none runs, so RSS
 * stayed where the burst left it (bench/README.md, "Memory (s14)"). Checked periodically (on the
 * ring's timer thread): when no request has finished and none has been in flight for {@code after},
 * and the heap is committed at least {@link #MIN_EXCESS} above its initial size, it lowers the
 * manageable {@code MinHeapFreeRatio}/{@code MaxHeapFreeRatio} to {@link #MIN_FREE}/{@link
 * #MAX_FREE} for {@code System.gc()} and puts them back. Once per quiet spell: the next one needs a
 * request first. Serial shrinks in steps ({@code ShrinkHeapInSteps}, on by default): 0 %, 10 %, 40
 * %, then 100 % of the excess on successive full collections, so it collects up to {@link
 * #MAX_COLLECTIONS} times, until the excess is gone; after the first, a collection only moves the
 * live set. Turning the steps off in the launcher ({@code -XX:-ShrinkHeapInSteps}) would do it in
 * one, but for every full collection, under load too; this leaves the loaded sidecar as it was.
 */
final class IdleHeapShrink implements Runnable {
  /** Free-ratio limits for the idle collection, percent (the JVM's defaults: 40 / 70). */
  static final int MIN_FREE = 10;

  static final int MAX_FREE = 20;

  /** Collections per idle shrink at most: Serial's steps (0, 10, 40, 100 %) take four. */
  static final int MAX_COLLECTIONS = 4;

  /** Less than this committed above the initial heap is not worth a full collection. */
  static final long MIN_EXCESS = 4L << 20;

  private final long afterNanos;
  private final LongSupplier finished;
  private final LongSupplier inFlight;
  private final Counter runs;
  private final LongSupplier nanoTime;
  private final LongSupplier excess;
  private final @Nullable HotSpotDiagnosticMXBean vm;

  // Only the timer thread touches these.
  private long lastFinished;
  private long quietSinceNanos;
  private boolean doneThisSpell = true; // nothing to give back before the first request

  /**
   * @param finished requests finished so far (any kind); a change means the sidecar was not quiet
   * @param inFlight requests (and relayed connections) open now
   * @param runs counted once per idle collection
   */
  IdleHeapShrink(Duration after, LongSupplier finished, LongSupplier inFlight, Counter runs) {
    this(after, finished, inFlight, runs, System::nanoTime, IdleHeapShrink::excessBytes);
  }

  /** With the clock and the heap's excess over its initial size given (tests). */
  IdleHeapShrink(
      Duration after,
      LongSupplier finished,
      LongSupplier inFlight,
      Counter runs,
      LongSupplier nanoTime,
      LongSupplier excess) {
    this.afterNanos = after.toNanos();
    this.finished = finished;
    this.inFlight = inFlight;
    this.runs = runs;
    this.nanoTime = nanoTime;
    this.excess = excess;
    HotSpotDiagnosticMXBean bean;
    try {
      bean = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
    } catch (RuntimeException | LinkageError e) { // not a HotSpot JVM, or no jdk.management
      bean = null;
    }
    this.vm = bean;
  }

  /** How often to check for {@code after}: a tenth of it, between 1 and 10 s. */
  static Duration checkEvery(Duration after) {
    long millis = Math.max(1_000, Math.min(10_000, after.toMillis() / 10));
    return Duration.ofMillis(millis);
  }

  @Override
  public void run() {
    long now = nanoTime.getAsLong();
    long f = finished.getAsLong();
    if (f != lastFinished || inFlight.getAsLong() > 0) {
      if (f != lastFinished) doneThisSpell = false;
      lastFinished = f;
      quietSinceNanos = now;
      return;
    }
    if (doneThisSpell || now - quietSinceNanos < afterNanos) return;
    doneThisSpell = true;
    if (excess.getAsLong() < MIN_EXCESS) return;
    collect();
    runs.inc();
  }

  /** Heap committed above its initial size (-Xms), bytes. */
  static long excessBytes() {
    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    return heap.getCommitted() - Math.max(0, heap.getInit());
  }

  /** One full collection with the free-ratio limits lowered, then put back as they were. */
  private void collect() {
    HotSpotDiagnosticMXBean bean = vm;
    String min = bean == null ? null : option(bean, "MinHeapFreeRatio");
    String max = bean == null ? null : option(bean, "MaxHeapFreeRatio");
    if (bean == null || min == null || max == null) {
      collectUntilShrunk();
      return;
    }
    // Lower only, never raise what the user set; Min <= Max must hold after every step.
    String newMin = String.valueOf(Math.min(MIN_FREE, Integer.parseInt(min)));
    String newMax = String.valueOf(Math.min(MAX_FREE, Integer.parseInt(max)));
    try {
      set(bean, "MinHeapFreeRatio", newMin);
      set(bean, "MaxHeapFreeRatio", newMax);
      collectUntilShrunk();
    } finally {
      set(bean, "MaxHeapFreeRatio", max);
      set(bean, "MinHeapFreeRatio", min);
    }
  }

  private void collectUntilShrunk() {
    for (int i = 0; i < MAX_COLLECTIONS; i++) {
      System.gc();
      if (excess.getAsLong() < MIN_EXCESS) return;
    }
  }

  private static @Nullable String option(HotSpotDiagnosticMXBean bean, String name) {
    try {
      return bean.getVMOption(name).getValue();
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static void set(HotSpotDiagnosticMXBean bean, String name, String value) {
    try {
      bean.setVMOption(name, value);
    } catch (RuntimeException e) {
      // Not writeable here, or out of range: the collection still runs, shrinking less.
    }
  }
}
