package io.hoptrace.traces.web;

import java.util.ArrayList;
import java.util.List;

/**
 * The last N span lines a process wrote, for its admin page ({@code
 * TraceSource.ofLines(recent::snapshot)}). The span-log writer thread calls {@link #add}; the page
 * takes a {@link #snapshot} per request. Bounded: the oldest line is overwritten.
 */
public final class RecentSpanLines {
  private final String[] ring;
  private long written; // guarded by this

  public RecentSpanLines(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity: " + capacity + " (expected: >= 1)");
    }
    this.ring = new String[capacity];
  }

  /** Keeps {@code line}, dropping the oldest when full. O(1). */
  public synchronized void add(String line) {
    ring[(int) (written % ring.length)] = line;
    written++;
  }

  /** The kept lines, oldest first. */
  public synchronized List<String> snapshot() {
    int n = (int) Math.min(written, ring.length);
    List<String> out = new ArrayList<>(n);
    for (long i = written - n; i < written; i++) out.add(ring[(int) (i % ring.length)]);
    return out;
  }
}
