package io.hoptrace.traces.web;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.ArrayList;
import java.util.List;

/**
 * The last N span lines a process wrote, for its admin page ({@code
 * TraceSource.ofLines(recent::snapshot)}). The span-log writer thread calls {@link #add}; the page
 * takes a {@link #snapshot} per request. Bounded: the oldest line is overwritten. Lines are kept as
 * the UTF-8 bytes the writer encoded (the same array the exporters were handed, never modified) and
 * decoded only when the page asks.
 */
public final class RecentSpanLines {
  private final byte[][] ring;
  private long written; // guarded by this

  public RecentSpanLines(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity: " + capacity + " (expected: >= 1)");
    }
    this.ring = new byte[capacity][];
  }

  /** Keeps {@code line}, dropping the oldest when full. O(1). */
  public void add(String line) {
    add(line.getBytes(UTF_8));
  }

  /**
   * Keeps one encoded line (UTF-8, no trailing newline needed); the array is held, not copied, so
   * the caller must not modify it afterwards. O(1).
   */
  public synchronized void add(byte[] line) {
    ring[(int) (written % ring.length)] = line;
    written++;
  }

  /** The kept lines, oldest first. */
  public List<String> snapshot() {
    byte[][] lines;
    synchronized (this) { // only the references: the writer thread waits for no decoding
      int n = (int) Math.min(written, ring.length);
      lines = new byte[n][];
      for (int k = 0; k < n; k++) lines[k] = ring[(int) ((written - n + k) % ring.length)];
    }
    List<String> out = new ArrayList<>(lines.length);
    for (byte[] line : lines) out.add(new String(line, UTF_8));
    return out;
  }
}
