package io.hoptrace.correlation;

import static java.util.Objects.requireNonNull;

import io.hoptrace.context.TraceContext;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import org.jspecify.annotations.Nullable;

/**
 * One inbound request as the correlator sees it: registered by {@link InboundRegistry#begin}, then
 * marked delivered (its headers reached the app) and ended. The identity fields are final; the
 * three that change later (delivered, ended, linked calls) are atomic, so the inbound and outbound
 * paths can read and write them from any thread.
 *
 * <p>Times are {@link io.hoptrace.store.Ticker} readings in nanoseconds; 0 means "not yet" (the
 * registry nudges a genuine reading of 0 to 1).
 */
public final class InboundRequest {
  private static final AtomicLongFieldUpdater<InboundRequest> END =
      AtomicLongFieldUpdater.newUpdater(InboundRequest.class, "endNanos");
  private static final AtomicLongFieldUpdater<InboundRequest> DELIVERED =
      AtomicLongFieldUpdater.newUpdater(InboundRequest.class, "deliveredNanos");
  private static final AtomicIntegerFieldUpdater<InboundRequest> LINKED =
      AtomicIntegerFieldUpdater.newUpdater(InboundRequest.class, "linkedCalls");

  final TraceContext context;
  final String routeKey;
  final @Nullable String requestId;
  final long startNanos;

  /**
   * The values its path and query carry, hashed ({@link ValueTokens}); empty unless the registry
   * was built to keep them ({@link InboundRegistry.Builder#valueTokens}).
   */
  long[] valueTokens = ValueTokens.NONE;

  /**
   * Set at {@link InboundRegistry#begin} or later by {@link #bindConnection}: the proxy learns
   * which upstream connection carries the request only once its client has picked one, after {@code
   * begin}. Volatile: written on the proxy's client thread, read on the outbound path.
   */
  volatile @Nullable Object connectionKey;

  volatile long deliveredNanos;
  volatile long endNanos;
  volatile int linkedCalls;

  /** When the last outbound call was linked to this request (ticker), or 0 while none was. */
  volatile long lastLinkedNanos;

  /**
   * Set once this request was one of several candidates of an inferred decision: from then on its
   * linked calls are not known exactly, so a learner must not take its call count as a sample.
   */
  volatile boolean ambiguous;

  /**
   * Owned by the {@link CandidateRule} (the learned rule keeps its belief about how many calls this
   * request has made here); null until the rule sets it.
   */
  volatile @Nullable Object ruleState;

  /**
   * The span id as the rings' key, boxed once for the request's five ring operations (two puts, a
   * get, two removes: each boxed its own {@code Long} before); made on first use, so a copy rebuilt
   * from an ended record never makes one. Racy single-check: any two are equal.
   */
  private @Nullable Long spanIdKey;

  InboundRequest(
      TraceContext context,
      String routeKey,
      @Nullable String requestId,
      long startNanos,
      @Nullable Object connectionKey) {
    this.context = requireNonNull(context, "context");
    this.routeKey = requireNonNull(routeKey, "routeKey");
    this.requestId = requestId;
    this.startNanos = startNanos;
    this.connectionKey = connectionKey;
  }

  /** The SERVER span id, boxed once per request (the in-flight rings' key). */
  Long spanIdKey() {
    Long k = spanIdKey;
    if (k == null) spanIdKey = k = context.spanId();
    return k;
  }

  /** The SERVER span's context: what the app was given as its traceparent. */
  public TraceContext context() {
    return context;
  }

  /** The route, e.g. {@code GET /orders/{id}}: whatever key the proxy groups requests by. */
  public String routeKey() {
    return routeKey;
  }

  /** The request id the app was given (X-Request-Id), or null. */
  public @Nullable String requestId() {
    return requestId;
  }

  public long startNanos() {
    return startNanos;
  }

  /**
   * The connection that carries the request to the app (for /proc socket ownership: the proxy
   * stores the app's side of it), or null when not tracked or not known yet.
   */
  public @Nullable Object connectionKey() {
    return connectionKey;
  }

  /**
   * Records the connection carrying the request to the app, once the proxy's client has chosen it
   * (before the request is sent, so before the app can call out on its behalf). Thread-safe.
   */
  public void bindConnection(Object connectionKey) {
    this.connectionKey = requireNonNull(connectionKey, "connectionKey");
  }

  /** When the request headers were sent to the app, or 0 while not yet. */
  public long deliveredNanos() {
    return deliveredNanos;
  }

  /** When the exchange ended, or 0 while in flight. */
  public long endNanos() {
    return endNanos;
  }

  public boolean isDelivered() {
    return deliveredNanos != 0L;
  }

  public boolean isEnded() {
    return endNanos != 0L;
  }

  /**
   * Delivered to the app and not ended: only such a request can be the cause of an outbound call.
   */
  public boolean isInFlightAtApp() {
    return deliveredNanos != 0L && endNanos == 0L;
  }

  /** How many outbound calls have been linked to this request so far. */
  public int linkedCalls() {
    return linkedCalls;
  }

  /** When the last outbound call was linked to this request, or 0 while none was. */
  public long lastLinkedNanos() {
    return lastLinkedNanos;
  }

  /**
   * True once this request competed with others for an inferred call: its linked calls may then
   * include calls of other requests, or miss some of its own.
   */
  public boolean ambiguous() {
    return ambiguous;
  }

  /** Sets the delivery time once; false if it was already set. */
  boolean markDelivered(long nanos) {
    return DELIVERED.compareAndSet(this, 0L, nanos);
  }

  /** Sets the end time once; false if it was already set. */
  boolean markEnded(long nanos) {
    return END.compareAndSet(this, 0L, nanos);
  }

  int incrementLinkedCalls() {
    return LINKED.incrementAndGet(this);
  }

  int decrementLinkedCalls() {
    return LINKED.decrementAndGet(this);
  }

  @Override
  public String toString() {
    return "InboundRequest(" + routeKey + " " + context + (isEnded() ? " ended" : "") + ")";
  }
}
