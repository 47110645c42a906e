package io.hoptrace.traces.web;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The last N span lines a process wrote, for its admin page ({@code
 * TraceSource.ofLines(recent::snapshot)}). The span-log writer thread calls {@link #add}; the page
 * takes a {@link #snapshot} per request. Bounded: the oldest line is overwritten.
 *
 * <p>Each line is copied into a slot array that is kept and reused by the lines that come after it,
 * not held as an array of its own: a ring that held each line's own array kept ~1 MB of short-lived
 * arrays alive for a second or so, long enough for every young collection to promote them, and the
 * old generation then filled with dead lines — 10–20 full collections per memory run under load
 * with the page on against 2 without it (bench/README.md, "RSS under load (s16)"). Reused slots are
 * promoted once and then stay; a steady stream of lines allocates nothing here. A slot grows to the
 * longest line it has held (rounded up), and is reallocated smaller when a line needs under a
 * quarter of a large slot, so a one-off huge line does not stay.
 */
public final class RecentSpanLines {
  /** Slot sizes are rounded up to this, so a line a few bytes longer than the last still fits. */
  private static final int SLOT_ROUNDING = 128;

  /** A slot at least this large is reallocated when a line uses under a quarter of it. */
  private static final int SHRINK_BYTES = 8 * 1024;

  private final byte[][] slots; // guarded by this
  private final int[] lengths; // guarded by this
  private long written; // guarded by this

  public RecentSpanLines(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity: " + capacity + " (expected: >= 1)");
    }
    this.slots = new byte[capacity][];
    this.lengths = new int[capacity];
  }

  /** Keeps {@code line}, dropping the oldest when full. O(1). */
  public void add(String line) {
    add(line.getBytes(UTF_8));
  }

  /** Keeps a copy of one encoded line (UTF-8, no trailing newline), dropping the oldest. */
  public void add(byte[] line) {
    add(line, 0, line.length);
  }

  /**
   * Keeps a copy of {@code bytes[from, to)}, one encoded line (UTF-8, no trailing newline),
   * dropping the oldest when full; the caller may reuse {@code bytes} afterwards. O(length).
   */
  public synchronized void add(byte[] bytes, int from, int to) {
    Objects.checkFromToIndex(from, to, bytes.length);
    int length = to - from;
    int i = (int) (written % slots.length);
    byte[] slot = slots[i];
    if (slot == null
        || slot.length < length
        || (slot.length >= SHRINK_BYTES && length < slot.length / 4)) {
      slot = new byte[(length + SLOT_ROUNDING - 1) / SLOT_ROUNDING * SLOT_ROUNDING];
      slots[i] = slot;
    }
    System.arraycopy(bytes, from, slot, 0, length);
    lengths[i] = length;
    written++;
  }

  /** The kept lines, oldest first. */
  public List<String> snapshot() {
    // Decoded under the lock, since the slots are reused: the writer thread waits for one page
    // request's decoding (a few hundred µs for 2,000 lines), never a request thread.
    synchronized (this) {
      int n = (int) Math.min(written, slots.length);
      List<String> out = new ArrayList<>(n);
      for (int k = 0; k < n; k++) {
        int i = (int) ((written - n + k) % slots.length);
        out.add(new String(slots[i], 0, lengths[i], UTF_8));
      }
      return out;
    }
  }
}
