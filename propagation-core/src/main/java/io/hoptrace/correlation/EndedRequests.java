package io.hoptrace.correlation;

import static java.util.Objects.requireNonNull;

import io.hoptrace.context.TraceContext;
import io.hoptrace.propagation.requestid.RequestIdCodec;
import io.hoptrace.store.Ticker;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * The inbound requests that have ended, as compact records, for {@code header} links made after the
 * response (DESIGN.md "The generation ring"): the same M generations of period T and the same cap
 * per generation as the registry's rings, but each generation is a set of primitive arrays instead
 * of a map of objects. A record holds the SERVER span's trace id, span id and flags, the request's
 * times and linked-call count, and three Strings: the request id (none when it is a canonical
 * lowercase UUID, kept as two longs), the route key (shared between requests of a route) and the
 * tracestate received (usually none). No reference to the request, its exchange, its connection or
 * the rule's state: about 100 bytes per request against ~340 in the maps.
 *
 * <p>An entry lives (M-1)·T..M·T after it was written (when the request ended), like a ring entry.
 * Entries are never removed one by one: a generation is dropped whole, so the hash tables are open
 * addressing with no deletions.
 *
 * <p>Thread-safe: one lock for writes and reads (the writes are one per ended request; the reads
 * only on the header path after the in-flight maps missed).
 */
final class EndedRequests {
  private static final int FLAGS_MASK = 0xff;
  private static final int AMBIGUOUS_BIT = 1 << 8;
  private static final int LINKED_SHIFT = 9;
  private static final int LINKED_MAX = (1 << (32 - LINKED_SHIFT - 1)) - 1;

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
    advanceIfDue();
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
    long now = ticker.read();
    if (now - nextAdvanceAt < 0) return;
    long periods = (now - nextAdvanceAt) / periodNanos + 1;
    long steps = Math.min(periods, generations);
    for (long i = 0; i < steps; i++) {
      // Sized for as many records as the generation before took: under a steady rate the arrays
      // then never grow (growing copied every record ~2 times, bench/README.md, "Allocation per
      // request (s14)"); after an idle period the next one starts small again.
      int expected = Math.min(cap, slots[slot(epoch)].size);
      epoch++;
      slots[slot(epoch)] = new Gen(expected);
    }
    nextAdvanceAt += periods * periodNanos;
  }

  private int slot(long e) {
    return (int) Math.floorMod(e, (long) generations);
  }

  /** For tests: the arrays one generation keeps, to check what they can reference. */
  Object[] retainedArraysOfCurrentGeneration() {
    synchronized (this) {
      Gen g = slots[slot(epoch)];
      return new Object[] {
        g.spanId,
        g.traceHi,
        g.traceLo,
        g.start,
        g.delivered,
        g.end,
        g.ridHi,
        g.ridLo,
        g.meta,
        g.ridHash,
        g.strings,
        g.bySpan,
        g.byRid
      };
    }
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
      this.hash = uuid ? mix(hi ^ lo) : text.hashCode();
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

  private static int mix(long x) {
    x *= 0x9E3779B97F4A7C15L;
    return (int) (x ^ (x >>> 32));
  }

  /** One generation: dense records in arrival order, plus two hash indexes into them. */
  private static final class Gen {
    int size;
    long[] spanId = new long[0];
    long[] traceHi = new long[0];
    long[] traceLo = new long[0];
    long[] start = new long[0];
    long[] delivered = new long[0];
    long[] end = new long[0];
    long[] ridHi = new long[0];
    long[] ridLo = new long[0];
    int[] meta = new int[0];
    int[] ridHash = new int[0];

    /** Per record: request id (null when none or kept as a UUID), route key, tracestate. */
    @Nullable Object[] strings = new Object[0];

    /** Open addressing, index + 1 (0 = empty); power-of-two sizes, at most 3/4 full. */
    int[] bySpan = new int[0];

    int[] byRid = new int[0];

    Gen(int expected) {
      if (expected > 0) resize(expected);
    }

    void add(InboundRequest r, int cap) {
      if (size == spanId.length) grow(cap);
      int i = size++;
      TraceContext c = r.context;
      spanId[i] = c.spanId();
      traceHi[i] = c.traceIdHigh();
      traceLo[i] = c.traceIdLow();
      start[i] = r.startNanos;
      delivered[i] = r.deliveredNanos;
      end[i] = r.endNanos;
      int linked = Math.min(Math.max(r.linkedCalls, 0), LINKED_MAX);
      meta[i] =
          (c.flags() & FLAGS_MASK) | (r.ambiguous ? AMBIGUOUS_BIT : 0) | (linked << LINKED_SHIFT);
      String rid = r.requestId;
      strings[3 * i + 1] = r.routeKey;
      strings[3 * i + 2] = c.tracestate();
      insert(bySpan, mix(c.spanId()), i);
      if (rid != null) {
        // As RequestIdKey, without one per request.
        long hi = 0L;
        long lo = 0L;
        if (isCanonicalUuid(rid)) {
          hi = RequestIdCodec.uuidToTraceIdHigh(rid);
          lo = RequestIdCodec.uuidToTraceIdLow(rid);
        }
        boolean uuid = (hi | lo) != 0L; // all zero stays text: zero means "none" here
        if (uuid) {
          ridHi[i] = hi;
          ridLo[i] = lo;
        } else {
          strings[3 * i] = rid;
        }
        ridHash[i] = uuid ? mix(hi ^ lo) : rid.hashCode();
        insertRequestId(i);
      }
    }

    /** Puts record {@code i} in {@code table} under {@code hash} (span ids are unique). */
    private static void insert(int[] table, int hash, int i) {
      int mask = table.length - 1;
      for (int p = hash & mask; ; p = (p + 1) & mask) {
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
      int hash = ridHash[i];
      int mask = table.length - 1;
      for (int p = hash & mask; ; p = (p + 1) & mask) {
        int v = table[p];
        if (v == 0 || (ridHash[v - 1] == hash && sameRequestId(v - 1, i))) {
          table[p] = i + 1;
          return;
        }
      }
    }

    private boolean sameRequestId(int j, int i) {
      Object text = strings[3 * j];
      if (text == null)
        return strings[3 * i] == null && ridHi[j] == ridHi[i] && ridLo[j] == ridLo[i];
      return text.equals(strings[3 * i]);
    }

    int indexBySpanId(long id) {
      if (size == 0) return -1;
      int mask = bySpan.length - 1;
      for (int p = mix(id) & mask; ; p = (p + 1) & mask) {
        int v = bySpan[p];
        if (v == 0) return -1;
        if (spanId[v - 1] == id) return v - 1;
      }
    }

    int indexByRequestId(RequestIdKey key) {
      if (size == 0) return -1;
      int mask = byRid.length - 1;
      for (int p = key.hash & mask; ; p = (p + 1) & mask) {
        int v = byRid[p];
        if (v == 0) return -1;
        if (ridHash[v - 1] == key.hash && matches(v - 1, key)) return v - 1;
      }
    }

    private boolean matches(int i, RequestIdKey key) {
      Object text = strings[3 * i];
      if (key.uuid) return text == null && ridHi[i] == key.hi && ridLo[i] == key.lo;
      return key.text.equals(text);
    }

    InboundRequest revive(int i) {
      String rid = (String) strings[3 * i];
      if (rid == null && (ridHi[i] | ridLo[i]) != 0L)
        rid = RequestIdCodec.toUuid(ridHi[i], ridLo[i]);
      int m = meta[i];
      TraceContext context =
          TraceContext.newBuilder()
              .traceId(traceHi[i], traceLo[i])
              .spanId(spanId[i])
              .flags(m & FLAGS_MASK)
              .tracestate((String) strings[3 * i + 2])
              .requestId(rid)
              .build();
      InboundRequest r =
          new InboundRequest(
              context, (String) requireNonNull(strings[3 * i + 1]), rid, start[i], null);
      r.deliveredNanos = delivered[i];
      r.endNanos = end[i];
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
      start = Arrays.copyOf(start, n);
      delivered = Arrays.copyOf(delivered, n);
      end = Arrays.copyOf(end, n);
      ridHi = Arrays.copyOf(ridHi, n);
      ridLo = Arrays.copyOf(ridLo, n);
      meta = Arrays.copyOf(meta, n);
      ridHash = Arrays.copyOf(ridHash, n);
      strings = Arrays.copyOf(strings, 3 * n);
      // At most 3/4 full: linear probing stays short, and the tables cost 5-11 bytes a record.
      int tableSize = Integer.highestOneBit(n + n / 3 + 1) << 1; // > n: never full
      if (tableSize != bySpan.length) rehash(tableSize);
    }

    private void rehash(int tableSize) {
      bySpan = new int[tableSize];
      byRid = new int[tableSize];
      for (int i = 0; i < size; i++) {
        insert(bySpan, mix(spanId[i]), i);
        if (strings[3 * i] != null || (ridHi[i] | ridLo[i]) != 0L) insertRequestId(i);
      }
    }
  }
}
