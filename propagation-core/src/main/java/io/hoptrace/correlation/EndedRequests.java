package io.hoptrace.correlation;

import static java.util.Objects.requireNonNull;

import io.hoptrace.context.HexCodec;
import io.hoptrace.context.TraceContext;
import io.hoptrace.propagation.requestid.RequestIdCodec;
import io.hoptrace.store.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * The inbound requests that have ended, as compact records, for {@code header} links made after the
 * response (DESIGN.md "The generation ring"): the same M generations of period T and the same cap
 * per generation as the registry's rings, but each generation is a set of primitive arrays instead
 * of a map of objects. A record holds the SERVER span's trace id, span id and flags, the request id
 * when it is a canonical lowercase UUID (two longs), the end time and the start and delivery times
 * as two 32-bit distances back from it (in one long), the linked-call count and the route key (a
 * reference: route keys are shared between the requests of a route). Only when present, in columns
 * a generation allocates at the first record that needs them: a request id that is not such a UUID,
 * the tracestate received, and the exact times of a request that took longer than ~4.29 s. No
 * reference to the request, its exchange, its connection or the rule's state: about 75 bytes per
 * request at the cap (bench/README.md "Ring memory (s15)") against ~400 in the maps.
 *
 * <p>An entry lives (M-1)·T..M·T after it was written (when the request ended), like a ring entry.
 * Entries are never removed one by one: a generation is dropped whole, so the hash tables are open
 * addressing with no deletions. The arrays of the generation dropped are cleared and reused for the
 * new one when they are of the right size (a steady rate), so a ring at its cap makes no garbage.
 *
 * <p>Thread-safe: one lock for writes and reads (the writes are one per ended request; the reads
 * only on the header path after the in-flight maps missed).
 */
final class EndedRequests {
  private static final int FLAGS_MASK = 0xff;
  private static final int AMBIGUOUS_BIT = 1 << 8;
  private static final int LINKED_SHIFT = 9;
  private static final int LINKED_MAX = (1 << (32 - LINKED_SHIFT - 1)) - 1;

  /** A time distance (either half of {@code Gen.times}) too large to keep: see {@code exact}. */
  private static final long FAR = 0xFFFF_FFFFL;

  /** The delivery distance of a request that ended without being delivered (delivered = 0). */
  private static final long NOT_DELIVERED = 0xFFFF_FFFEL;

  private final int generations;
  private final long periodNanos;
  private final int cap;
  private final Ticker ticker;
  private final Gen[] slots;
  private long epoch;
  private long nextAdvanceAt;
  private final LongAdder refused = new LongAdder();

  EndedRequests(int generations, Duration period, int capPerGeneration, Ticker ticker) {
    this.generations = generations;
    this.periodNanos = period.toNanos();
    this.cap = capPerGeneration;
    this.ticker = requireNonNull(ticker, "ticker");
    this.slots = new Gen[generations];
    for (int i = 0; i < generations; i++) slots[i] = new Gen(0);
    this.epoch = generations - 1L;
    this.nextAdvanceAt = ticker.read() + periodNanos;
  }

  /** Records {@code r}, which has ended. False (counted) when the current generation is full. */
  synchronized boolean add(InboundRequest r) {
    return add(r, ticker.read());
  }

  /** As {@link #add(InboundRequest)}, at {@code now}: a reading of this store's ticker. */
  synchronized boolean add(InboundRequest r, long now) {
    advanceIfDue(now);
    Gen g = slots[slot(epoch)];
    if (g.size >= cap) {
      refused.increment();
      return false;
    }
    g.add(r, cap);
    return true;
  }

  /** The ended request whose SERVER span id is {@code spanId}, revived, or null. */
  synchronized @Nullable InboundRequest findBySpanId(long spanId) {
    advanceIfDue();
    for (int i = 0; i < generations; i++) {
      Gen g = slots[slot(epoch - i)];
      int idx = g.indexBySpanId(spanId);
      if (idx >= 0) return g.revive(idx);
    }
    return null;
  }

  /** The latest ended request registered with {@code requestId}, revived, or null. */
  synchronized @Nullable InboundRequest findByRequestId(String requestId) {
    advanceIfDue();
    RequestIdKey key = new RequestIdKey(requestId);
    for (int i = 0; i < generations; i++) {
      Gen g = slots[slot(epoch - i)];
      int idx = g.indexByRequestId(key);
      if (idx >= 0) return g.revive(idx);
    }
    return null;
  }

  /** Records held by the live generations. */
  synchronized int size() {
    advanceIfDue();
    int n = 0;
    for (Gen g : slots) n += g.size;
    return n;
  }

  long refusedCount() {
    return refused.sum();
  }

  synchronized void advanceIfDue() {
    advanceIfDue(ticker.read());
  }

  private void advanceIfDue(long now) {
    if (now - nextAdvanceAt < 0) return;
    long periods = (now - nextAdvanceAt) / periodNanos + 1;
    long steps = Math.min(periods, generations);
    for (long i = 0; i < steps; i++) {
      // Sized for as many records as the generation before took, plus an eighth: under a steady
      // rate the arrays then never grow (growing copied every record ~2 times, bench/README.md,
      // "Allocation per request (s14)"). Without the eighth, a rate that only fluctuates grew
      // every generation that took one record more than the one before to 1.5x: copied, and
      // kept at 1.5x ("Ended-request arrays (s28)"). A catch-up of several periods means they
      // were idle: all start empty.
      int expected = periods == 1 ? Math.min(cap, slots[slot(epoch)].size) : 0;
      epoch++;
      int s = slot(epoch);
      Gen dropped = slots[s];
      // Under a steady rate the generation dropped has about the size wanted: its arrays are
      // cleared and reused (no garbage, nothing to promote). Far larger ones are let go.
      slots[s] = dropped.fits(expected, cap) ? dropped.clear() : new Gen(withRoom(expected, cap));
    }
    nextAdvanceAt += periods * periodNanos;
  }

  /**
   * The capacity for a generation expected to take {@code expected} records: an eighth more (and
   * 64), so that a rate that fluctuates by less does not grow it; 0 for none.
   */
  static int withRoom(int expected, int cap) {
    return expected == 0 ? 0 : (int) Math.min(cap, expected + (expected >> 3) + 64L);
  }

  private int slot(long e) {
    return (int) Math.floorMod(e, (long) generations);
  }

  /** For tests: the arrays one generation keeps, to check what they can reference. */
  Object[] retainedArraysOfCurrentGeneration() {
    synchronized (this) {
      Gen g = slots[slot(epoch)];
      List<Object> arrays =
          new ArrayList<>(
              List.of(
                  g.spanId, g.traceHi, g.traceLo, g.end, g.times, g.ridHi, g.ridLo, g.meta, g.route,
                  g.bySpan, g.byRid));
      if (g.text != null) arrays.add(g.text);
      if (g.tracestate != null) arrays.add(g.tracestate);
      return arrays.toArray();
    }
  }

  /**
   * For tests: the number of slots of the current generation (records it holds without growing).
   */
  synchronized int capacityOfCurrentGeneration() {
    return slots[slot(epoch)].spanId.length;
  }

  /** For tests: the span-id array of the current generation, to see whether it was reused. */
  synchronized Object spanIdArrayOfCurrentGeneration() {
    return slots[slot(epoch)].spanId;
  }

  /** A request id as looked up: its hash and, when it is a canonical lowercase UUID, its bits. */
  private static final class RequestIdKey {
    final String text;
    final int hash;
    final boolean uuid;
    final long hi;
    final long lo;

    RequestIdKey(String text) {
      this.text = text;
      boolean canonical = isCanonicalUuid(text);
      this.hi = canonical ? RequestIdCodec.uuidToTraceIdHigh(text) : 0L;
      this.lo = canonical ? RequestIdCodec.uuidToTraceIdLow(text) : 0L;
      this.uuid = canonical && (hi | lo) != 0L; // all zero stays text: zero means "none" here
      this.hash = uuid ? mix(hi ^ lo) : mix(text.hashCode());
    }
  }

  static boolean isCanonicalUuid(String s) {
    if (!RequestIdCodec.isUuid(s)) return false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 'A' && c <= 'Z') return false;
    }
    return true;
  }

  /** 36 chars with dashes where a UUID has them; the digits are checked as they are read. */
  static boolean hasUuidShape(String s) {
    return s.length() == RequestIdCodec.UUID_LENGTH
        && s.charAt(8) == '-'
        && s.charAt(13) == '-'
        && s.charAt(18) == '-'
        && s.charAt(23) == '-';
  }

  /**
   * The bits of the lowercase hex digits of {@code s[begin, end)}, dashes skipped; -1 (all ones)
   * when a char there is anything else, so that a caller sees a failure in {@code hi | lo == -1}
   * and only then checks the whole text (a real UUID half of all ones is possible, so -1 alone does
   * not mean invalid).
   */
  static long canonicalHexHalf(String s, int begin, int end) {
    long result = 0;
    int bad = 0;
    for (int i = begin; i < end; i++) {
      char c = s.charAt(i);
      if (c == '-') continue;
      int d = HexCodec.lowerHexDigit(c);
      bad |= d;
      result = (result << 4) | (d & 0xf);
    }
    return bad < 0 ? -1L : result;
  }

  private static int mix(long x) {
    x *= 0x9E3779B97F4A7C15L;
    return (int) (x ^ (x >>> 32));
  }

  /** Slots of a hash table for {@code n} records: at most 3/4 full, never full. */
  static int tableSize(int n) {
    return n == 0 ? 0 : n + n / 3 + 1;
  }

  /** The home slot of {@code hash} in a table of {@code size} slots (any size, not only 2^k). */
  static int home(int hash, int size) {
    return (int) (((hash & 0xFFFF_FFFFL) * size) >>> 32);
  }

  /**
   * One generation: dense records in arrival order, plus two open-addressing indexes into them
   * (record index + 1, 0 = empty; linear probing).
   */
  private static final class Gen {
    int size;
    long[] spanId = new long[0];
    long[] traceHi = new long[0];
    long[] traceLo = new long[0];
    long[] end = new long[0];

    /**
     * end - start in the high half, end - delivered in the low half (each unsigned), or {@link
     * #NOT_DELIVERED} in the low half; {@link #FAR} in the high half when they did not fit: then
     * {@link #exact} holds both times.
     */
    long[] times = new long[0];

    long[] ridHi = new long[0];
    long[] ridLo = new long[0];

    /** Flags, ambiguous, linked calls. */
    int[] meta = new int[0];

    @Nullable Object[] route = new Object[0];

    /** The request id when it is not kept as a UUID; null until a record has one. */
    @Nullable Object @Nullable [] text;

    /** The tracestate received; null until a record has one. */
    @Nullable Object @Nullable [] tracestate;

    /** Start and delivery times of the records whose distances did not fit, by record index. */
    @Nullable HashMap<Integer, long[]> exact;

    int[] bySpan = new int[0];
    int[] byRid = new int[0];

    Gen(int expected) {
      if (expected > 0) resize(expected);
    }

    /**
     * Whether this generation's arrays are the right size to hold {@code expected} records: room
     * for a sixteenth more (half of what a new one gets: arrays sized a period or two earlier are
     * reused when the rate moved a little since), and not twice that.
     */
    boolean fits(int expected, int cap) {
      int n = spanId.length;
      long least = expected == 0 ? 0 : Math.min(cap, expected + (expected >> 4) + 32L);
      return n >= least && n <= 2L * expected + 64;
    }

    /** Empties this generation for reuse: O(slots), once per period. */
    Gen clear() {
      Arrays.fill(route, 0, size, null);
      if (text != null) Arrays.fill(text, 0, size, null);
      if (tracestate != null) Arrays.fill(tracestate, 0, size, null);
      exact = null;
      Arrays.fill(bySpan, 0);
      Arrays.fill(byRid, 0);
      // The primitive columns are overwritten before they are read again.
      size = 0;
      return this;
    }

    void add(InboundRequest r, int cap) {
      if (size == spanId.length) grow(cap);
      int i = size++;
      TraceContext c = r.context;
      spanId[i] = c.spanId();
      traceHi[i] = c.traceIdHigh();
      traceLo[i] = c.traceIdLow();
      long e = r.endNanos;
      end[i] = e;
      long start = r.startNanos;
      long delivered = r.deliveredNanos;
      long toStart = e - start;
      long toDelivered = delivered == 0L ? NOT_DELIVERED : e - delivered;
      if (toStart >= 0 && toStart < FAR && toDelivered >= 0 && toDelivered <= NOT_DELIVERED) {
        times[i] = toStart << 32 | toDelivered;
      } else {
        times[i] = FAR << 32;
        if (exact == null) exact = new HashMap<>();
        exact.put(i, new long[] {start, delivered});
      }
      int linked = Math.min(Math.max(r.linkedCalls, 0), LINKED_MAX);
      meta[i] =
          (c.flags() & FLAGS_MASK) | (r.ambiguous ? AMBIGUOUS_BIT : 0) | (linked << LINKED_SHIFT);
      route[i] = r.routeKey;
      String ts = c.tracestate();
      if (ts != null) {
        if (tracestate == null) tracestate = new Object[spanId.length];
        tracestate[i] = ts;
      }
      insert(bySpan, mix(c.spanId()), i);
      String rid = r.requestId;
      ridHi[i] = 0L;
      ridLo[i] = 0L;
      if (text != null) text[i] = null;
      if (rid != null) {
        // As RequestIdKey, without one per request, and in one pass over the text: the request
        // ids hoptrace generates are canonical UUIDs, checked and read back on every end.
        long hi = 0L;
        long lo = 0L;
        if (hasUuidShape(rid)) {
          hi = canonicalHexHalf(rid, 0, 18);
          lo = canonicalHexHalf(rid, 19, RequestIdCodec.UUID_LENGTH);
          if ((hi | lo) == -1L && !isCanonicalUuid(rid)) { // a digit failed, or a half of all ones
            hi = 0L;
            lo = 0L;
          }
        }
        if ((hi | lo) != 0L) { // all zero stays text: zero means "none" here
          ridHi[i] = hi;
          ridLo[i] = lo;
        } else {
          if (text == null) text = new Object[spanId.length];
          text[i] = rid;
        }
        insertRequestId(i);
      }
    }

    private @Nullable String text(int i) {
      @Nullable Object[] t = text;
      return t == null ? null : (String) t[i];
    }

    private boolean hasRequestId(int i) {
      return (ridHi[i] | ridLo[i]) != 0L || text(i) != null;
    }

    private int requestIdHash(int i) {
      String t = text(i);
      return t != null ? mix(t.hashCode()) : mix(ridHi[i] ^ ridLo[i]);
    }

    /** Puts record {@code i} in {@code table} under {@code hash} (span ids are unique). */
    private static void insert(int[] table, int hash, int i) {
      int n = table.length;
      for (int p = home(hash, n); ; p = p + 1 == n ? 0 : p + 1) {
        if (table[p] == 0) {
          table[p] = i + 1;
          return;
        }
      }
    }

    /**
     * Puts record {@code i} in {@link #byRid} under its request id; a record with the same id
     * already there (a request id reused) is replaced, so the latest wins.
     */
    private void insertRequestId(int i) {
      int[] table = byRid;
      int n = table.length;
      for (int p = home(requestIdHash(i), n); ; p = p + 1 == n ? 0 : p + 1) {
        int v = table[p];
        if (v == 0 || sameRequestId(v - 1, i)) {
          table[p] = i + 1;
          return;
        }
      }
    }

    private boolean sameRequestId(int j, int i) {
      String t = text(j);
      if (t == null) return text(i) == null && ridHi[j] == ridHi[i] && ridLo[j] == ridLo[i];
      return t.equals(text(i));
    }

    int indexBySpanId(long id) {
      if (size == 0) return -1;
      int n = bySpan.length;
      for (int p = home(mix(id), n); ; p = p + 1 == n ? 0 : p + 1) {
        int v = bySpan[p];
        if (v == 0) return -1;
        if (spanId[v - 1] == id) return v - 1;
      }
    }

    int indexByRequestId(RequestIdKey key) {
      if (size == 0) return -1;
      int n = byRid.length;
      for (int p = home(key.hash, n); ; p = p + 1 == n ? 0 : p + 1) {
        int v = byRid[p];
        if (v == 0) return -1;
        if (matches(v - 1, key)) return v - 1;
      }
    }

    private boolean matches(int i, RequestIdKey key) {
      String t = text(i);
      if (key.uuid) return t == null && ridHi[i] == key.hi && ridLo[i] == key.lo;
      return key.text.equals(t);
    }

    InboundRequest revive(int i) {
      String rid = text(i);
      if (rid == null && (ridHi[i] | ridLo[i]) != 0L)
        rid = RequestIdCodec.toUuid(ridHi[i], ridLo[i]);
      int m = meta[i];
      @Nullable Object[] ts = tracestate;
      TraceContext context =
          TraceContext.newBuilder()
              .traceId(traceHi[i], traceLo[i])
              .spanId(spanId[i])
              .flags(m & FLAGS_MASK)
              .tracestate(ts == null ? null : (String) ts[i])
              .requestId(rid)
              .build();
      long e = end[i];
      long packed = times[i];
      long start;
      long delivered;
      if (packed >>> 32 == FAR) {
        long[] exactTimes = requireNonNull(requireNonNull(exact).get(i));
        start = exactTimes[0];
        delivered = exactTimes[1];
      } else {
        start = e - (packed >>> 32);
        long toDelivered = packed & FAR;
        delivered = toDelivered == NOT_DELIVERED ? 0L : e - toDelivered;
      }
      InboundRequest r =
          new InboundRequest(context, (String) requireNonNull(route[i]), rid, start, null);
      r.deliveredNanos = delivered;
      r.endNanos = e;
      r.linkedCalls = m >>> LINKED_SHIFT;
      r.ambiguous = (m & AMBIGUOUS_BIT) != 0;
      return r;
    }

    private void grow(int cap) {
      resize(Math.min(cap, Math.max(64, spanId.length + (spanId.length >> 1))));
    }

    private void resize(int n) {
      spanId = Arrays.copyOf(spanId, n);
      traceHi = Arrays.copyOf(traceHi, n);
      traceLo = Arrays.copyOf(traceLo, n);
      end = Arrays.copyOf(end, n);
      times = Arrays.copyOf(times, n);
      ridHi = Arrays.copyOf(ridHi, n);
      ridLo = Arrays.copyOf(ridLo, n);
      meta = Arrays.copyOf(meta, n);
      route = Arrays.copyOf(route, n);
      if (text != null) text = Arrays.copyOf(text, n);
      if (tracestate != null) tracestate = Arrays.copyOf(tracestate, n);
      int tableSize = tableSize(n);
      if (tableSize != bySpan.length) rehash(tableSize);
    }

    private void rehash(int tableSize) {
      bySpan = new int[tableSize];
      byRid = new int[tableSize];
      for (int i = 0; i < size; i++) {
        insert(bySpan, mix(spanId[i]), i);
        if (hasRequestId(i)) insertRequestId(i);
      }
    }
  }
}
