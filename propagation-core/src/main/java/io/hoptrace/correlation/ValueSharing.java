package io.hoptrace.correlation;

/**
 * Learns, online and in bounded memory, which value of an inbound request reappears in which
 * position of the calls it makes — an order id in {@code /orders/{id}} that comes back as {@code
 * /stock/{id}} or {@code ?sku={id}} — and turns it into evidence for an inferred link: a factor on
 * each candidate's likelihood. Timing says nothing about which of several eligible requests made a
 * call when service times are memoryless (docs/accuracy.md); a shared value does.
 *
 * <p><b>What it learns</b>, from exact links only ({@code header}, {@code process}, {@code sole}),
 * per (inbound route, outbound destination): up to {@link #PAIRS} position pairs (inbound position
 * i → outbound position o, positions as in {@link ValueTokens}), each with decayed counts of
 * <em>trials</em> (the request had a value at i) and <em>hits</em> (the call carried that same
 * value at o). A pair is created only by a hit; a call that no longer carries a value at o, or a
 * different one, is a miss, so a route that stops carrying the id loses its pair's reliability
 * within ~{@code 1 / (1 - DECAY)} calls. Its reliability is {@code ρ = (hits + ½) / (trials + 1)}.
 *
 * <p><b>The base rate</b> of a value: how often a request of a route, unrelated to this call,
 * carries that same value at position i. Every delivered request's tokens go into a count-min
 * sketch keyed by (route, position, value), next to a count per (route, position), halved every
 * {@link #SKETCH_HALVING} additions; {@code c = count(value) / count(position)}. A value that many
 * requests share ({@code page=100}, the most popular item) has a high base rate and proves little;
 * a rare id proves a lot. Count-min over-estimates, so c errs on the cautious side.
 *
 * <p><b>Evidence</b> for candidate r of a call to D: the most reliable pair of (r's route, D) with
 * at least {@link #MIN_TRIALS} trials and ρ ≥ {@link #MIN_RELIABILITY}; when both r and the call
 * have a value at its positions, the factor is the likelihood ratio {@code ρ / c} when they are
 * equal and {@code (1 - ρ) / (1 - c)} when not; otherwise 1 (no evidence, the timing decides).
 * Candidates that share the call's value are all raised alike: a shared value narrows the set, it
 * does not pick among it.
 *
 * <p><b>Bounded</b>: a direct-mapped table of a fixed number of entries (~250 bytes each) keyed by
 * a 64-bit hash of (route, destination); a newcomer that collides with a resident takes one from
 * the resident's standing (its hits, at most {@link #MAX_STANDING}) and takes the slot when none is
 * left, so an established pair outlives a trickle of one-off routes, and a flood of them costs the
 * pairs, never memory. The sketch is a fixed 4 x 4096 ints. No raw value is stored. Thread-safe: an
 * entry is guarded by its monitor, the sketch by its own.
 */
final class ValueSharing {
  static final int PAIRS = 4;
  static final double DECAY = 0.97;
  static final int MIN_TRIALS = 5;
  static final double MIN_RELIABILITY = 0.6;
  static final int SKETCH_ROWS = 4;
  static final int SKETCH_WIDTH = 4096; // a power of two
  static final int SKETCH_HALVING = 1 << 16;
  static final double MAX_STANDING = 64;

  /**
   * The factor of a candidate without value evidence: its likelihood stays as the timing has it.
   */
  static final double NONE = 1.0;

  private final Entry[] table;
  private final int mask;
  private final int[][] sketch = new int[SKETCH_ROWS][SKETCH_WIDTH];
  private int sketchAdds;
  private long replaced;

  ValueSharing(int slots) {
    if (Integer.bitCount(slots) != 1) throw new IllegalArgumentException("slots: " + slots);
    this.table = new Entry[slots];
    this.mask = slots - 1;
  }

  // ---- learning ----

  /** A request reached the app: its values count towards the base rates of its route. */
  void delivered(long route, long[] tokens) {
    if (tokens.length == 0) return;
    synchronized (sketch) {
      for (int t = 0; t < tokens.length; t += 2) {
        long position = ValueTokens.mix(route, tokens[t]);
        add(position);
        add(ValueTokens.mix(position, tokens[t + 1]));
      }
      sketchAdds += tokens.length;
      if (sketchAdds >= SKETCH_HALVING) {
        sketchAdds = 0;
        for (int[] row : sketch) for (int i = 0; i < row.length; i++) row[i] >>= 1;
      }
    }
  }

  /**
   * An exact link: the request of route {@code route} with {@code in} tokens made the call to
   * {@code dest} that carries {@code out}.
   */
  void learn(long route, long[] in, long dest, long[] out) {
    if (in.length == 0) return;
    long key = ValueTokens.mix(route, dest);
    Entry e = table[slot(key)];
    if (e != null && e.key != key) e = null;
    if (e != null) e.observe(in, out);
    for (int o = 0; o < out.length; o += 2) {
      for (int i = 0; i < in.length; i += 2) {
        if (in[i + 1] != out[o + 1]) continue;
        if (e == null) {
          e = claim(key);
          if (e == null) return; // a resident keeps the slot for now
        }
        e.add(in[i], out[o]);
      }
    }
  }

  private synchronized Entry claim(long key) {
    int s = slot(key);
    Entry resident = table[s];
    if (resident != null && resident.key == key) return resident;
    if (resident != null && !resident.giveWay()) return null;
    if (resident != null) replaced++;
    Entry fresh = new Entry(key);
    table[s] = fresh;
    return fresh;
  }

  // ---- evidence ----

  /**
   * The factor on candidate {@code r}'s likelihood (route {@code route}, tokens {@code in}) for a
   * call to {@code dest} carrying {@code out}; {@link #NONE} without evidence. {@code matched[0]}
   * is set to true when r's value equals the call's at a reliable pair.
   */
  double factor(long route, long[] in, long dest, long[] out, boolean[] matched) {
    matched[0] = false;
    if (in.length == 0 || out.length == 0) return NONE;
    long key = ValueTokens.mix(route, dest);
    Entry e = table[slot(key)];
    if (e == null || e.key != key) return NONE;
    long[] best = new long[2];
    double rho = e.best(best);
    if (rho < MIN_RELIABILITY) return NONE;
    long vi = ValueTokens.valueAt(in, best[0]);
    long vo = ValueTokens.valueAt(out, best[1]);
    if (vi == 0 || vo == 0) return NONE;
    double c = baseRate(route, best[0], vo);
    if (vi == vo) {
      matched[0] = true;
      return rho / c;
    }
    return (1 - rho) / (1 - c);
  }

  /** P(an unrelated request of {@code route} has {@code value} at {@code position}), cautious. */
  double baseRate(long route, long position, long value) {
    long p = ValueTokens.mix(route, position);
    double all;
    double same;
    synchronized (sketch) {
      all = estimate(p);
      same = estimate(ValueTokens.mix(p, value));
    }
    // a value never seen still has some chance; a count-min over-estimate may exceed `all`
    double c = (same + 0.5) / (all + 1);
    return Math.max(1e-3, Math.min(0.99, c));
  }

  /** Entries held (at most the table's slots). */
  int size() {
    int n = 0;
    for (Entry e : table) if (e != null) n++;
    return n;
  }

  /** Entries that lost their slot to a newcomer. */
  synchronized long replaced() {
    return replaced;
  }

  /** The reliability of the best pair for (route, dest), or -1 when none is learned. */
  double reliability(long route, long dest) {
    long key = ValueTokens.mix(route, dest);
    Entry e = table[slot(key)];
    if (e == null || e.key != key) return -1;
    return e.best(new long[2]);
  }

  private int slot(long key) {
    return (int) (key ^ (key >>> 32)) & mask;
  }

  private void add(long h) {
    for (int r = 0; r < SKETCH_ROWS; r++) {
      int[] row = sketch[r];
      int i = column(h, r);
      if (row[i] < Integer.MAX_VALUE) row[i]++;
    }
  }

  private int estimate(long h) {
    int min = Integer.MAX_VALUE;
    for (int r = 0; r < SKETCH_ROWS; r++) min = Math.min(min, sketch[r][column(h, r)]);
    return min;
  }

  private static int column(long h, int row) {
    return (int) (ValueTokens.mix(h, row) & (SKETCH_WIDTH - 1));
  }

  /** The pairs of one (route, destination). Guarded by its monitor. */
  static final class Entry {
    final long key;
    private final long[] in = new long[PAIRS];
    private final long[] out = new long[PAIRS];
    private final double[] hits = new double[PAIRS];
    private final double[] trials = new double[PAIRS];
    private int pairs;
    private double standing; // raised by hits, lowered by colliding newcomers

    Entry(long key) {
      this.key = key;
    }

    /** Counts a trial (and maybe a hit) for every pair whose inbound position has a value. */
    synchronized void observe(long[] inTokens, long[] outTokens) {
      for (int p = 0; p < pairs; p++) {
        long vi = ValueTokens.valueAt(inTokens, in[p]);
        if (vi == 0) continue;
        trials[p] = trials[p] * DECAY + 1;
        hits[p] *= DECAY;
        if (ValueTokens.valueAt(outTokens, out[p]) == vi) {
          hits[p] += 1;
          standing = Math.min(MAX_STANDING, standing + 1);
        }
      }
    }

    /** A hit for a pair not known yet (a known one was counted by {@link #observe}). */
    synchronized void add(long inPosition, long outPosition) {
      for (int p = 0; p < pairs; p++) if (in[p] == inPosition && out[p] == outPosition) return;
      int p = pairs;
      if (pairs < PAIRS) {
        pairs++;
      } else {
        p = 0; // full: the pair with the fewest hits gives way
        for (int q = 1; q < PAIRS; q++) if (hits[q] < hits[p]) p = q;
      }
      in[p] = inPosition;
      out[p] = outPosition;
      hits[p] = 1;
      trials[p] = 1;
      standing = Math.min(MAX_STANDING, standing + 1);
    }

    /** A newcomer collides: true when this entry gives up its slot. */
    synchronized boolean giveWay() {
      standing -= 1;
      return standing <= 0;
    }

    /** The most reliable pair with enough trials ({in, out} into {@code positions}), or -1. */
    synchronized double best(long[] positions) {
      double best = -1;
      for (int p = 0; p < pairs; p++) {
        if (trials[p] < MIN_TRIALS * 0.9) continue; // decay shaves a little off every count
        double rho = (hits[p] + 0.5) / (trials[p] + 1);
        if (rho > best) {
          best = rho;
          positions[0] = in[p];
          positions[1] = out[p];
        }
      }
      return best;
    }
  }
}
