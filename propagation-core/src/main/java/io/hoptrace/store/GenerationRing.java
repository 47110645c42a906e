package io.hoptrace.store;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * A map whose entries expire by generation instead of by timer (DESIGN.md "The generation ring").
 *
 * <p>The ring holds M &gt;= 3 generations, each a hash map ({@link StripedTable}: open addressing,
 * no object per entry). {@link #put} writes to the current generation; {@link #get} tries the
 * current one, then the one before, back to the oldest. Every {@link #period()} the ring advances:
 * a fresh, empty generation becomes current and the oldest is dropped whole (its map is replaced,
 * never walked). So there is no per-entry timer, every operation does O(M) = O(1) work, and the
 * ring never holds more than M x {@link #capPerGeneration()} entries.
 *
 * <p><b>Lifetime.</b> Advances happen on a fixed grid of ticker readings (construction + k·T). An
 * entry put during period k is dropped by the advance at the end of period k+M-1, so it can be
 * found for at least (M-1)·T (put just before an advance) and at most M·T (put just after one).
 * RATIONALE.md explains the bound and the races with a concurrent advance, which stretch either
 * side by at most the duration of one advance.
 *
 * <p><b>Advancing.</b> Lazily: every operation first compares the ticker with the next due time
 * (one volatile read in the common case). When it is due, one thread takes the advance lock and
 * advances (catching up several periods at once if the ring sat idle). Writers that find the
 * advance due wait for it, once per period, so that what they write lands in the new generation;
 * readers never wait (they read the generations as they are). A proxy may also call {@link
 * #advanceIfDue()} from a timer so that memory is released even when no request comes.
 *
 * <p><b>Cap.</b> Each generation admits at most {@link #capPerGeneration()} distinct keys. A {@code
 * put} of a new key into a full generation is refused: it returns false and is counted in {@link
 * #refusedCount()}. Overwriting a key already in the current generation is always accepted.
 *
 * <p>Thread-safe for any number of readers and writers. Keys and values must not be null.
 */
public final class GenerationRing<K, V> {
  private final int generations;
  private final long periodNanos;
  private final int capPerGeneration;
  private final Ticker ticker;

  /** Slot {@code epoch % generations} holds generation {@code epoch}. */
  private final AtomicReferenceArray<Generation<K, V>> slots;

  /**
   * The current generation's number. Published after its slot is set, so a reader that sees epoch e
   * finds generation e (or a newer one) in slot e % M.
   */
  private volatile long epoch;

  /**
   * Ticker reading at which the next advance is due; moves only on the grid start + k·T, and only
   * after the advance it announces is complete (so whoever sees it not due sees the new epoch).
   */
  private volatile long nextAdvanceAt;

  private final LongAdder refused = new LongAdder();

  /**
   * Held while advancing. Writers that find an advance due wait for it (a few hundred nanoseconds,
   * once per period) so that their entry lands in the right generation; readers only try it and
   * never wait.
   */
  private final ReentrantLock advanceLock = new ReentrantLock();

  GenerationRing(Builder b) {
    this.generations = b.generations;
    this.periodNanos = Builder.saturatedNanos(b.period);
    this.capPerGeneration = b.capPerGeneration;
    this.ticker = requireNonNull(b.ticker, "ticker");
    this.slots = new AtomicReferenceArray<>(generations);
    for (int i = 0; i < generations; i++) slots.set(i, new Generation<K, V>(i));
    this.epoch = generations - 1L;
    this.nextAdvanceAt = ticker.read() + periodNanos;
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /**
   * Maps {@code key} to {@code value} in the current generation. Returns false, and counts a
   * refusal, when the current generation is full and does not hold {@code key} already.
   */
  public boolean put(K key, V value) {
    return putAt(key, value, ticker.read());
  }

  /**
   * As {@link #put(Object, Object)}, at {@code now}: a reading of this ring's ticker taken by the
   * caller, so that a caller making several calls in a row reads the clock once (the request path
   * did ~8 reads per request in the correlator's rings, bench/README.md, "Request path CPU (s16)").
   */
  public boolean putAt(K key, V value, long now) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    advanceIfDue(now, true);
    Generation<K, V> g = current();
    // Reserve a place first, so that the map never holds more than the cap, even under a race.
    if (g.count.incrementAndGet() > capPerGeneration) {
      g.count.decrementAndGet();
      if (g.table.replace(key, value) != null) return true; // an overwrite does not grow the map
      refused.increment();
      return false;
    }
    if (g.table.put(key, value) != null)
      g.count.decrementAndGet(); // overwrote: give back the place
    return true;
  }

  /**
   * The value for {@code key} in the newest generation that holds it, or null when no live
   * generation does.
   */
  public @Nullable V get(K key) {
    return getAt(key, ticker.read());
  }

  /** As {@link #get(Object)}, at {@code now} (see {@link #putAt}). */
  public @Nullable V getAt(K key, long now) {
    requireNonNull(key, "key");
    advanceIfDue(now, false);
    long e = epoch;
    for (int i = 0; i < generations; i++) {
      Generation<K, V> g = slots.get(slot(e - i));
      // A newer generation in this slot means a concurrent advance dropped e - i: it and every
      // older generation are gone.
      if (g.epoch != e - i) break;
      V v = g.table.get(key);
      if (v != null) return v;
    }
    return null;
  }

  /**
   * Removes {@code key} from every generation; returns the value the newest of them held, or null.
   */
  public @Nullable V remove(K key) {
    return removeAt(key, ticker.read());
  }

  /** As {@link #remove(Object)}, at {@code now} (see {@link #putAt}). */
  public @Nullable V removeAt(K key, long now) {
    requireNonNull(key, "key");
    advanceIfDue(now, false);
    long e = epoch;
    V newest = null;
    for (int i = 0; i < generations; i++) {
      Generation<K, V> g = slots.get(slot(e - i));
      V v = g.table.remove(key);
      if (v != null) {
        g.count.decrementAndGet();
        if (newest == null) newest = v;
      }
    }
    return newest;
  }

  /**
   * Removes {@code key} from every generation where it maps to {@code value} (by identity); returns
   * true if any did. An entry the key was since mapped to again is left alone.
   */
  public boolean remove(K key, V value) {
    return removeAt(key, value, ticker.read());
  }

  /** As {@link #remove(Object, Object)}, at {@code now} (see {@link #putAt}). */
  public boolean removeAt(K key, V value, long now) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    advanceIfDue(now, false);
    long e = epoch;
    boolean removed = false;
    for (int i = 0; i < generations; i++) {
      Generation<K, V> g = slots.get(slot(e - i));
      if (g.table.remove(key, value)) {
        g.count.decrementAndGet();
        removed = true;
      }
    }
    return removed;
  }

  /**
   * Calls {@code visitor} with each value of the live generations, newest generation first, until
   * it returns false. Weakly consistent, as a concurrent map's iteration: concurrent changes may or
   * may not be seen, and a key held by two generations is visited twice. Allocates a copy of each
   * table part's values, and costs O(entries visited + table slots walked): keep it off the common
   * path.
   */
  public void forEachValueWhile(Predicate<? super V> visitor) {
    requireNonNull(visitor, "visitor");
    advanceIfDue(ticker.read(), false);
    long e = epoch;
    for (int i = 0; i < generations; i++) {
      Generation<K, V> g = slots.get(slot(e - i));
      if (g.epoch != e - i) return;
      if (!g.table.forEachValueWhile(visitor)) return;
    }
  }

  /**
   * Advances the ring if a period has ended since the last advance (catching up at most M
   * generations however long the ring sat idle). Returns true if this call advanced it. For a proxy
   * timer; it may wait for an advance already in progress.
   */
  public boolean advanceIfDue() {
    return advanceIfDue(ticker.read(), true);
  }

  /**
   * The lazy advance. {@code wait}: a writer (and the timer) waits for an advance in progress; a
   * reader that cannot take the lock goes on with the generations as they are (RATIONALE.md).
   */
  private boolean advanceIfDue(long now, boolean wait) {
    if (now - nextAdvanceAt < 0) return false; // the common path: one volatile read and a compare
    if (wait) {
      advanceLock.lock();
    } else if (!advanceLock.tryLock()) {
      return false;
    }
    try {
      long due = nextAdvanceAt;
      if (now - due < 0) return false; // advanced by the thread we waited for
      long periods = (now - due) / periodNanos + 1;
      long steps = Math.min(periods, generations); // M steps already drop everything
      for (long i = 0; i < steps; i++) {
        long next = epoch + 1;
        // Replace the oldest generation's slot first, then publish: see the field comment.
        slots.set(slot(next), new Generation<K, V>(next));
        epoch = next;
      }
      nextAdvanceAt = due + periods * periodNanos; // last: the advance is complete
      return true;
    } finally {
      advanceLock.unlock();
    }
  }

  private Generation<K, V> current() {
    // May be newer than epoch if advances raced us; any live generation is a fine place to write.
    return slots.get(slot(epoch));
  }

  private int slot(long epoch) {
    return (int) Math.floorMod(epoch, (long) generations);
  }

  /**
   * Entries held by the live generations, from their admission counters: O(M), approximate while
   * writers race, and a key held by two generations counts twice.
   */
  public int size() {
    advanceIfDue(ticker.read(), false); // an idle ring must not count what it should have dropped
    long e = epoch;
    int n = 0;
    for (int i = 0; i < generations; i++) {
      Generation<K, V> g = slots.get(slot(e - i));
      if (g.epoch != e - i) break;
      n += g.count.get();
    }
    return n;
  }

  /** M, the number of generations. */
  public int generations() {
    return generations;
  }

  /** T, how long each generation is current. */
  public Duration period() {
    return Duration.ofNanos(periodNanos);
  }

  /** The most distinct keys one generation admits. */
  public int capPerGeneration() {
    return capPerGeneration;
  }

  /** How many {@link #put}s were refused because the current generation was full. */
  public long refusedCount() {
    return refused.sum();
  }

  /** How many times the ring has advanced since it was built (catch-up counts at most M). */
  public long advanceCount() {
    return epoch - (generations - 1L);
  }

  @Override
  public String toString() {
    return "GenerationRing(generations="
        + generations
        + ", period="
        + period()
        + ", cap="
        + capPerGeneration
        + ", size="
        + size()
        + ")";
  }

  static final class Generation<K, V> {
    final long epoch;
    final StripedTable<K, V> table = new StripedTable<>();

    /** Keys admitted (reserved before insertion): always >= map.size(), never above the cap. */
    final AtomicInteger count = new AtomicInteger();

    Generation(long epoch) {
      this.epoch = epoch;
    }
  }

  /** Builds a {@link GenerationRing}; {@link #build()} checks the settings. */
  public static final class Builder {
    int generations = 3;
    Duration period = Duration.ofSeconds(10);
    int capPerGeneration = 65_536;
    Ticker ticker = Ticker.system();

    Builder() {}

    /** M, at least 3 (default 3). */
    public Builder generations(int generations) {
      this.generations = generations;
      return this;
    }

    /** T, positive (default 10 s). */
    public Builder period(Duration period) {
      this.period = requireNonNull(period, "period");
      return this;
    }

    /** The most distinct keys one generation admits, at least 1 (default 65536). */
    public Builder capPerGeneration(int capPerGeneration) {
      this.capPerGeneration = capPerGeneration;
      return this;
    }

    /** Where time comes from (default {@link Ticker#system()}). */
    public Builder ticker(Ticker ticker) {
      this.ticker = requireNonNull(ticker, "ticker");
      return this;
    }

    /** Builds the ring; throws {@link IllegalArgumentException} naming a bad setting. */
    public <K, V> GenerationRing<K, V> build() {
      if (generations < 3) {
        throw new IllegalArgumentException("generations: " + generations + " (expected: >= 3)");
      }
      if (period.isNegative() || period.isZero()) {
        throw new IllegalArgumentException("period: " + period + " (expected: > 0)");
      }
      if (capPerGeneration < 1) {
        throw new IllegalArgumentException(
            "capPerGeneration: " + capPerGeneration + " (expected: >= 1)");
      }
      return new GenerationRing<>(this);
    }

    static long saturatedNanos(Duration d) {
      try {
        return d.toNanos();
      } catch (ArithmeticException e) {
        return Long.MAX_VALUE / 4; // ~73 years: "never", without overflowing the grid arithmetic
      }
    }
  }
}
