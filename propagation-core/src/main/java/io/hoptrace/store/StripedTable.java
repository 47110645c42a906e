package io.hoptrace.store;

import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * One generation's map in a {@link GenerationRing}: a hash table of open addressing (linear
 * probing, keys and values side by side in one array, deletion by backward shift, so no
 * tombstones), split into {@value #STRIPES} stripes by the key's hash, each guarded by its own
 * monitor. A mapping costs no object of its own: the ring's maps hold requests for the few
 * milliseconds they are in flight, and a {@link java.util.concurrent.ConcurrentHashMap} node per
 * put was ~32 B per request and map (bench/README.md, "Allocation sites (s20)"). The arrays grow
 * when a stripe is half full and never shrink: a generation is dropped whole.
 *
 * <p>Each operation is atomic (the stripe's monitor); reads and removals of a key whose stripe is
 * empty take no lock (a volatile size read: the key was absent at that moment). Keys and values are
 * compared with {@code equals}, as the concurrent map did. Keys and values must not be null.
 */
final class StripedTable<K, V> {
  static final int STRIPES = 8;
  private static final int STRIPE_SHIFT = Integer.SIZE - Integer.numberOfTrailingZeros(STRIPES);

  /** Slots a stripe starts with: 4 entries before it grows. */
  private static final int INITIAL_SLOTS = 8;

  private final Stripe[] stripes = new Stripe[STRIPES];

  StripedTable() {
    for (int i = 0; i < STRIPES; i++) stripes[i] = new Stripe();
  }

  /** The value of {@code key}, or null. */
  @SuppressWarnings("unchecked")
  @Nullable V get(Object key) {
    int h = hash(key);
    Stripe s = stripes[h >>> STRIPE_SHIFT];
    if (s.size == 0) return null;
    synchronized (s) {
      int i = s.find(key, h);
      return i < 0 ? null : (V) s.table[i + 1];
    }
  }

  /** Maps {@code key} to {@code value}; returns the value it replaced, or null. */
  @SuppressWarnings("unchecked")
  @Nullable V put(K key, V value) {
    int h = hash(key);
    Stripe s = stripes[h >>> STRIPE_SHIFT];
    synchronized (s) {
      return (V) s.put(key, value, h, true);
    }
  }

  /** Maps {@code key} to {@code value} only if it is mapped already; returns the old value. */
  @SuppressWarnings("unchecked")
  @Nullable V replace(K key, V value) {
    int h = hash(key);
    Stripe s = stripes[h >>> STRIPE_SHIFT];
    if (s.size == 0) return null;
    synchronized (s) {
      return (V) s.put(key, value, h, false);
    }
  }

  /** Removes {@code key}; returns its value, or null when it was not mapped. */
  @SuppressWarnings("unchecked")
  @Nullable V remove(Object key) {
    int h = hash(key);
    Stripe s = stripes[h >>> STRIPE_SHIFT];
    if (s.size == 0) return null;
    synchronized (s) {
      int i = s.find(key, h);
      if (i < 0) return null;
      V old = (V) s.table[i + 1];
      s.delete(i);
      return old;
    }
  }

  /** Removes {@code key} if it maps to a value equal to {@code value}; true if it did. */
  boolean remove(Object key, Object value) {
    int h = hash(key);
    Stripe s = stripes[h >>> STRIPE_SHIFT];
    if (s.size == 0) return false;
    synchronized (s) {
      int i = s.find(key, h);
      if (i < 0) return false;
      Object v = s.table[i + 1];
      if (v != value && !value.equals(v)) return false;
      s.delete(i);
      return true;
    }
  }

  /**
   * Calls {@code visitor} with each value until it returns false; returns false if it did. Each
   * stripe's values are copied under its monitor and visited outside it (the visitor may call the
   * table): weakly consistent, a mapping changed during the walk may or may not be seen. Allocates
   * the copies: off the common path.
   */
  @SuppressWarnings("unchecked")
  boolean forEachValueWhile(Predicate<? super V> visitor) {
    for (Stripe s : stripes) {
      if (s.size == 0) continue;
      Object[] values;
      synchronized (s) {
        values = s.values();
      }
      for (Object v : values) {
        if (!visitor.test((V) v)) return false;
      }
    }
    return true;
  }

  /** Mappings held (exact when no writer races). */
  int size() {
    int n = 0;
    for (Stripe s : stripes) n += s.size;
    return n;
  }

  /** Murmur3's finalizer: spreads the key's hash over the high bits (stripe) and low (slot). */
  static int hash(Object key) {
    int h = key.hashCode();
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    h *= 0xc2b2ae35;
    return h ^ (h >>> 16);
  }

  private static final class Stripe {
    /** Key at 2i, value at 2i + 1; null key: empty slot. Length a power of two times 2. */
    Object[] table = new Object[2 * INITIAL_SLOTS];

    /** Mappings held: read and written under the monitor. */
    int count;

    /** {@link #count} as published last, read without the monitor to skip an empty stripe. */
    volatile int size;

    /** The index of {@code key}'s key cell, or -1. */
    int find(Object key, int h) {
      Object[] t = table;
      int mask = t.length - 2;
      for (int i = (h << 1) & mask; ; i = (i + 2) & mask) {
        Object k = t[i];
        if (k == null) return -1;
        if (k == key || k.equals(key)) return i;
      }
    }

    /** Maps the key (if {@code insert}, else only if mapped); returns the old value, or null. */
    @Nullable Object put(Object key, Object value, int h, boolean insert) {
      int i = find(key, h);
      if (i >= 0) {
        Object old = table[i + 1];
        table[i + 1] = value;
        return old;
      }
      if (!insert) return null;
      if ((count + 1) * 4 > table.length) grow(); // more than half the slots: twice as many
      Object[] t = table;
      int mask = t.length - 2;
      int j = (h << 1) & mask;
      while (t[j] != null) j = (j + 2) & mask;
      t[j] = key;
      t[j + 1] = value;
      size = ++count;
      return null;
    }

    /** Empties the cell at {@code i}, moving back the entries of its probe run that may move. */
    void delete(int i) {
      Object[] t = table;
      int mask = t.length - 2;
      int hole = i;
      for (int j = (hole + 2) & mask; ; j = (j + 2) & mask) {
        Object k = t[j];
        if (k == null) break;
        int home = (hash(k) << 1) & mask;
        // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
        boolean stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
        if (!stays) {
          t[hole] = k;
          t[hole + 1] = t[j + 1];
          hole = j;
        }
      }
      t[hole] = null;
      t[hole + 1] = null;
      size = --count;
    }

    void grow() {
      Object[] old = table;
      Object[] t = new Object[old.length * 2];
      int mask = t.length - 2;
      for (int i = 0; i < old.length; i += 2) {
        Object k = old[i];
        if (k == null) continue;
        int j = (hash(k) << 1) & mask;
        while (t[j] != null) j = (j + 2) & mask;
        t[j] = k;
        t[j + 1] = old[i + 1];
      }
      table = t;
    }

    Object[] values() {
      Object[] t = table;
      Object[] values = new Object[count];
      int n = 0;
      for (int i = 0; i < t.length; i += 2) {
        if (t[i] != null) values[n++] = t[i + 1];
      }
      return values;
    }
  }
}
