package io.hoptrace.correlation;

import static java.util.Objects.requireNonNull;

import io.hoptrace.context.TraceContext;
import io.hoptrace.store.GenerationRing;
import io.hoptrace.store.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jspecify.annotations.Nullable;

/**
 * The inbound requests the correlator can link outbound calls to. Everything is held in {@link
 * GenerationRing}s, so memory stays bounded whatever the app does (requests that never finish,
 * millions of distinct request ids): each ring holds at most generations x capPerGeneration
 * entries, and an entry is forgotten (M-1)·T .. M·T after it was written.
 *
 * <ul>
 *   <li>by SERVER span id and by request id: every registered request, for exact {@code header}
 *       links. While it has not ended it is held as itself; when it ends it moves to {@link
 *       EndedRequests}, a compact record (ids, times, request id, route) in primitive arrays with
 *       the same generations and cap, and a lookup then returns a copy rebuilt from that record. It
 *       is found until that record's generation is dropped, (M-1)·T..M·T after it ended;
 *   <li>in flight at the app: delivered and not yet ended, keyed by span id. A request that never
 *       ends ages out with its generation. Its size comes from the ring's counters, O(M), so the
 *       common cases (zero or one in flight) never walk it;
 *   <li>recently finished: the last {@code recentCapacity} delivered requests that ended, in a
 *       fixed array, for fire-and-forget calls made just after the response (the grace window).
 * </ul>
 *
 * <p>Thread-safe. Times are {@link Ticker} readings from the same ticker as the rings.
 */
public final class InboundRegistry {
  private static final long NO_END = Long.MIN_VALUE;

  private final GenerationRing<Long, InboundRequest> bySpanId;
  private final GenerationRing<String, InboundRequest> byRequestId;
  private final GenerationRing<Long, InboundRequest> inFlight;
  private final EndedRequests ended;
  private final AtomicReferenceArray<InboundRequest> recent;
  private final AtomicLong recentCursor = new AtomicLong();
  // The latest end (in the ticker's order) of any request put in recent, NO_END before the first:
  // when even that is older than the grace window, a call finds nothing there without walking it.
  private final AtomicLong latestEnd = new AtomicLong(NO_END);
  private final long graceNanos;
  private final Ticker ticker;
  private final Listener listener;
  private final boolean valueTokens;

  /** The request delivered last: the sole one in flight in the common synchronous case. */
  private volatile @Nullable InboundRequest lastDelivered;

  InboundRegistry(Builder b) {
    this.ticker = b.ticker;
    this.bySpanId = ring(b);
    this.byRequestId = ring(b);
    this.inFlight = ring(b);
    this.ended = new EndedRequests(b.generations, b.period, b.capPerGeneration, b.ticker);
    this.recent = new AtomicReferenceArray<>(b.recentCapacity);
    this.graceNanos = b.grace.toNanos();
    this.listener = b.listener;
    this.valueTokens = b.valueTokens;
  }

  /**
   * Told when a request becomes in flight at the app and when a delivered request ends, after the
   * registry itself was updated: a learning rule counts requests and idle time with it. Called on
   * the proxy's I/O path: must be cheap, must not block or throw.
   */
  public interface Listener {
    Listener NONE = new Listener() {};

    default void delivered(InboundRequest request, long nanos) {}

    default void ended(InboundRequest request, long nanos) {}
  }

  private static <K> GenerationRing<K, InboundRequest> ring(Builder b) {
    return GenerationRing.newBuilder()
        .generations(b.generations)
        .period(b.period)
        .capPerGeneration(b.capPerGeneration)
        .ticker(b.ticker)
        .build();
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /**
   * Registers an inbound request whose SERVER span is {@code serverContext}. Always returns the
   * request, even when a full ring refused to index it (counted in {@link #refusedCount()}): the
   * SERVER span is written either way.
   */
  public InboundRequest begin(
      TraceContext serverContext,
      String routeKey,
      @Nullable String requestId,
      @Nullable Object connectionKey,
      long startNanos) {
    return begin(serverContext, routeKey, requestId, connectionKey, startNanos, null);
  }

  /**
   * As above, with the request's query string (without {@code ?}), or null: when the registry keeps
   * value tokens ({@link Builder#valueTokens}), the values of the route key's path and of the query
   * are hashed onto the request for the learned rule's value-sharing evidence. Nothing raw is kept.
   */
  public InboundRequest begin(
      TraceContext serverContext,
      String routeKey,
      @Nullable String requestId,
      @Nullable Object connectionKey,
      long startNanos,
      @Nullable String query) {
    InboundRequest r =
        new InboundRequest(serverContext, routeKey, requestId, nonZero(startNanos), connectionKey);
    if (valueTokens) {
      int space = routeKey.indexOf(' ');
      r.valueTokens = ValueTokens.of(routeKey.substring(space + 1), query);
    }
    long now =
        ticker.readAt(
            startNanos); // once for both rings (bench/README.md, "Request path CPU (s16)")
    bySpanId.putAt(r.spanIdKey(), r, now);
    // A request id reused by a caller (retries, fan-out) maps to the latest request.
    if (requestId != null) byRequestId.putAt(requestId, r, now);
    return r;
  }

  /** The request's headers were sent to the app: from now on it is in flight at the app. */
  public void delivered(InboundRequest r, long nanos) {
    requireNonNull(r, "r");
    if (!r.markDelivered(nonZero(nanos)) || r.isEnded()) return;
    // Refused by a full generation (counted): then it must not pose as the sole one either.
    if (!inFlight.putAt(r.spanIdKey(), r, ticker.readAt(nanos))) return;
    lastDelivered = r;
    // end() may have run between the check and the put; it removes after marking, so re-check.
    if (r.isEnded()) inFlight.remove(r.spanIdKey());
    listener.delivered(r, r.deliveredNanos);
  }

  /** The exchange ended (response sent, or failed). Idempotent. */
  public void end(InboundRequest r, long nanos) {
    requireNonNull(r, "r");
    if (!r.markEnded(nonZero(nanos))) return;
    long now = ticker.readAt(nanos); // once for the five ring operations below, not once each
    compact(r, now);
    if (!r.isDelivered()) return; // the app never saw it: it caused nothing
    inFlight.removeAt(r.spanIdKey(), now);
    latestEnd.accumulateAndGet(r.endNanos, InboundRegistry::later); // before it can be found
    int slot = (int) (recentCursor.getAndIncrement() % recent.length());
    recent.set(slot, r);
    listener.ended(r, r.endNanos);
  }

  /**
   * Replaces what the span-id and request-id rings hold for an ended request by a compact record:
   * written there first, then removed from the rings, so a concurrent lookup finds one or the
   * other. A request the rings never indexed (refused by a full generation) is not recorded; one
   * the compact store refuses (its generation full: counted) is forgotten, as a refused entry is:
   * the rings hold only requests that have not ended, so an overload never fills both.
   */
  private void compact(InboundRequest r, long now) {
    Long spanId = r.spanIdKey();
    if (bySpanId.getAt(spanId, now) != r) return;
    ended.add(r, now); // false when full: counted there
    bySpanId.removeAt(spanId, r, now);
    String requestId = r.requestId;
    if (requestId != null) byRequestId.removeAt(requestId, r, now);
  }

  /**
   * The request whose SERVER span id is {@code spanId}, while its generation lives, or null. For a
   * request that has ended, a copy rebuilt from its compact record: same context, route, request
   * id, times, and the linked-call count it had when it ended (calls linked to the copy are not
   * added to it).
   */
  public @Nullable InboundRequest findBySpanId(long spanId) {
    if (spanId == 0L) return null;
    InboundRequest r = bySpanId.get(spanId);
    return r != null ? r : ended.findBySpanId(spanId);
  }

  /**
   * The latest request registered with {@code requestId}, while its generation lives, or null (a
   * copy for a request that has ended, as {@link #findBySpanId}).
   */
  public @Nullable InboundRequest findByRequestId(String requestId) {
    requireNonNull(requestId, "requestId");
    InboundRequest live = byRequestId.get(requestId);
    InboundRequest done = ended.findByRequestId(requestId);
    if (live == null) return done;
    if (done == null) return live;
    return done.startNanos - live.startNanos > 0 ? done : live;
  }

  /** How many requests are in flight at the app (delivered, not ended, not aged out). O(M). */
  public int inFlightCount() {
    return inFlight.size();
  }

  /**
   * The request in flight at the app when it is the only one, found in O(1) when it is the one
   * delivered last (the synchronous case), else by a walk of the in-flight set; null when there is
   * not exactly one.
   */
  public @Nullable InboundRequest soleInFlight() {
    InboundRequest last = lastDelivered;
    if (last != null && last.isInFlightAtApp() && inFlightCount() == 1) return last;
    List<InboundRequest> two = inFlight(2);
    return two.size() == 1 ? two.get(0) : null;
  }

  /**
   * Up to {@code max} requests in flight at the app, newest generation first (weakly consistent).
   * Costs O(what it walks): call it only when more than one is in flight.
   */
  public List<InboundRequest> inFlight(int max) {
    List<InboundRequest> result = new ArrayList<>(Math.min(max, 16));
    if (max <= 0) return result;
    inFlight.forEachValueWhile(
        r -> {
          if (r.isInFlightAtApp()) result.add(r);
          return result.size() < max;
        });
    return result;
  }

  /**
   * Up to {@code max} delivered requests that ended within the grace window before {@code
   * nowNanos}, most recently ended first. O(recentCapacity), or O(1) when the latest end is already
   * older than the window (a call with nothing in flight long after the last request:
   * bench/README.md, "Outbound path (s17)").
   */
  public List<InboundRequest> recentlyFinished(long nowNanos, int max) {
    long cursor = recentCursor.get();
    if (cursor == 0) return List.of(); // nothing ever ended: the idle and the all-in-flight case
    long latest = latestEnd.get(); // set before the cursor moved: covers every entry there
    if (latest != NO_END && nowNanos - latest > graceNanos) return List.of();
    List<InboundRequest> result = new ArrayList<>();
    int n = recent.length();
    for (long i = cursor - 1; i >= 0 && i >= cursor - n && result.size() < max; i--) {
      InboundRequest r = recent.get((int) (i % n));
      if (r == null) continue;
      long sinceEnd = nowNanos - r.endNanos;
      if (sinceEnd >= 0 && sinceEnd <= graceNanos) result.add(r);
    }
    return result;
  }

  /** The later of two ticker readings (by difference: the ticker may wrap), NO_END as none. */
  private static long later(long a, long b) {
    return a == NO_END || b - a > 0 ? b : a;
  }

  /** How long after it ended a request may still be linked to a fire-and-forget call. */
  public Duration grace() {
    return Duration.ofNanos(graceNanos);
  }

  /** The ticker the registry's rings read; the proxy stamps events with it. */
  public Ticker ticker() {
    return ticker;
  }

  /** Requests indexed by span id (in flight or not, until aged out). O(M). */
  public int size() {
    return bySpanId.size() + ended.size();
  }

  /** Entries in all the registry's rings plus the recent array: what it holds in memory. */
  public long heldEntries() {
    return (long) bySpanId.size()
        + byRequestId.size()
        + inFlight.size()
        + ended.size()
        + recent.length();
  }

  /** The most entries one ring may hold: generations x capPerGeneration. */
  public long ringCapacity() {
    return (long) bySpanId.generations() * bySpanId.capPerGeneration();
  }

  /** Index writes refused by a full generation, over all rings (a metric: should stay 0). */
  public long refusedCount() {
    return bySpanId.refusedCount()
        + byRequestId.refusedCount()
        + inFlight.refusedCount()
        + ended.refusedCount();
  }

  /** Advances the rings if a period ended: for a proxy timer, so an idle registry frees memory. */
  public void advanceIfDue() {
    bySpanId.advanceIfDue();
    byRequestId.advanceIfDue();
    inFlight.advanceIfDue();
    ended.advanceIfDue();
  }

  /** For tests: the compact store of ended requests. */
  EndedRequests endedRequests() {
    return ended;
  }

  private static long nonZero(long nanos) {
    return nanos == 0L ? 1L : nanos;
  }

  /** Builds an {@link InboundRegistry}; {@link #build()} checks the settings. */
  public static final class Builder {
    int generations = 3;
    Duration period = Duration.ofSeconds(10);
    int capPerGeneration = 65_536;
    Duration grace = Duration.ofSeconds(1);
    int recentCapacity = 64;
    Ticker ticker = Ticker.system();
    Listener listener = Listener.NONE;
    boolean valueTokens;

    Builder() {}

    /**
     * Whether {@link #begin} hashes the values of each request's path and query onto it, for the
     * learned rule's value-sharing evidence (default false: no rule but that one reads them).
     */
    public Builder valueTokens(boolean valueTokens) {
      this.valueTokens = valueTokens;
      return this;
    }

    /** Told of deliveries and ends (default: nobody), e.g. a {@link LearnedRule}. */
    public Builder listener(Listener listener) {
      this.listener = requireNonNull(listener, "listener");
      return this;
    }

    /** M for every ring, at least 3 (default 3). */
    public Builder generations(int generations) {
      this.generations = generations;
      return this;
    }

    /**
     * T for every ring (default 10 s): a request is remembered, and counted in flight, for at least
     * (M-1)·T after it was registered or delivered.
     */
    public Builder period(Duration period) {
      this.period = requireNonNull(period, "period");
      return this;
    }

    /** The most entries one generation of one ring admits (default 65536). */
    public Builder capPerGeneration(int capPerGeneration) {
      this.capPerGeneration = capPerGeneration;
      return this;
    }

    /** How long after it ended a request may take a fire-and-forget call (default 1 s). */
    public Builder grace(Duration grace) {
      this.grace = requireNonNull(grace, "grace");
      return this;
    }

    /** How many recently finished requests are kept for the grace window, 1..4096 (default 64). */
    public Builder recentCapacity(int recentCapacity) {
      this.recentCapacity = recentCapacity;
      return this;
    }

    public Builder ticker(Ticker ticker) {
      this.ticker = requireNonNull(ticker, "ticker");
      return this;
    }

    /** Builds the registry; throws {@link IllegalArgumentException} naming a bad setting. */
    public InboundRegistry build() {
      if (grace.isNegative()) {
        throw new IllegalArgumentException("grace: " + grace + " (expected: >= 0)");
      }
      if (recentCapacity < 1 || recentCapacity > 4096) {
        throw new IllegalArgumentException(
            "recentCapacity: " + recentCapacity + " (expected: 1..4096)");
      }
      return new InboundRegistry(this); // the rings check generations, period and cap
    }
  }
}
