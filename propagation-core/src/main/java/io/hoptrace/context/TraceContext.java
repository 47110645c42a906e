package io.hoptrace.context;

import org.jspecify.annotations.Nullable;

/**
 * One hop's position in a trace: the 128-bit trace id, this span's id, its parent's id, the trace
 * flags, the W3C tracestate as received (already validated and bounded by its codec), and the
 * request id. Immutable; ids are primitives and their hex text is computed once, lazily.
 *
 * <p>A parent id of zero means "no parent" (a root span). Zero is never a valid trace or span id.
 */
public final class TraceContext {
  /** W3C trace-flags bit 0. */
  public static final int FLAG_SAMPLED = 0x01;

  /** W3C Trace Context Level 2 trace-flags bit 1: the trace id's low 7 bytes are random. */
  public static final int FLAG_RANDOM = 0x02;

  final long traceIdHigh;
  final long traceIdLow;
  final long spanId;
  final long parentId;
  final int flags;
  final @Nullable String tracestate;
  final @Nullable String requestId;

  // Lazily computed; racy single-check is fine because the values are deterministic.
  @Nullable String traceIdString;
  @Nullable String spanIdString;
  int hashCode;

  TraceContext(Builder b) {
    this.traceIdHigh = b.traceIdHigh;
    this.traceIdLow = b.traceIdLow;
    this.spanId = b.spanId;
    this.parentId = b.parentId;
    this.flags = b.flags;
    this.tracestate = b.tracestate;
    this.requestId = b.requestId;
  }

  private TraceContext(TraceContext c, long spanId, long parentId, @Nullable String requestId) {
    this.traceIdHigh = c.traceIdHigh;
    this.traceIdLow = c.traceIdLow;
    this.spanId = spanId;
    this.parentId = parentId;
    this.flags = c.flags;
    this.tracestate = c.tracestate;
    this.requestId = requestId;
  }

  private TraceContext(long traceIdHigh, long traceIdLow, long spanId, @Nullable String requestId) {
    this.traceIdHigh = traceIdHigh;
    this.traceIdLow = traceIdLow;
    this.spanId = spanId;
    this.parentId = 0L;
    this.flags = FLAG_SAMPLED | FLAG_RANDOM;
    this.tracestate = null;
    this.requestId = requestId;
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /**
   * This context with {@code requestId}: {@code toBuilder().requestId(requestId).build()} without
   * the builder (the request path does it for every request that came without an id).
   */
  public TraceContext withRequestId(@Nullable String requestId) {
    return new TraceContext(this, spanId, parentId, requestId);
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.traceIdHigh = traceIdHigh;
    b.traceIdLow = traceIdLow;
    b.spanId = spanId;
    b.parentId = parentId;
    b.flags = flags;
    b.tracestate = tracestate;
    b.requestId = requestId;
    return b;
  }

  /**
   * A child of this context: same trace, flags, tracestate and request id, a new span id, and this
   * span as its parent.
   */
  public TraceContext newChild() {
    return new TraceContext(this, Ids.newSpanId(), spanId, requestId);
  }

  /**
   * {@link #newChild()} carrying {@code requestId} instead of this context's: {@code
   * newChild().toBuilder().requestId(requestId).build()} as one object (the outbound hop's CLIENT
   * span and the inbound SERVER span of a request that came without an id).
   */
  public TraceContext newChild(@Nullable String requestId) {
    return new TraceContext(this, Ids.newSpanId(), spanId, requestId);
  }

  /**
   * A new root context: random 128-bit trace id (flags sampled and random), new span id, no parent.
   */
  public static TraceContext newRoot(@Nullable String requestId) {
    // Made directly: the ids are non-zero by construction (Ids), the builder's checks hold.
    return new TraceContext(Ids.newTraceIdHigh(), Ids.newTraceIdLow(), Ids.newSpanId(), requestId);
  }

  public long traceIdHigh() {
    return traceIdHigh;
  }

  public long traceIdLow() {
    return traceIdLow;
  }

  public long spanId() {
    return spanId;
  }

  /** The parent span id, or zero for a root span. */
  public long parentId() {
    return parentId;
  }

  public boolean hasParent() {
    return parentId != 0L;
  }

  /** W3C trace-flags as an unsigned byte. */
  public int flags() {
    return flags;
  }

  public boolean sampled() {
    return (flags & FLAG_SAMPLED) != 0;
  }

  public boolean random() {
    return (flags & FLAG_RANDOM) != 0;
  }

  /** The W3C tracestate to propagate, or null when none was received. */
  public @Nullable String tracestate() {
    return tracestate;
  }

  /** The request id (X-Request-Id) this trace carries, or null. */
  public @Nullable String requestId() {
    return requestId;
  }

  /** 32 lowercase hex chars. */
  public String traceIdString() {
    String s = traceIdString;
    if (s == null) traceIdString = s = HexCodec.toHex(traceIdHigh, traceIdLow);
    return s;
  }

  /** 16 lowercase hex chars. */
  public String spanIdString() {
    String s = spanIdString;
    if (s == null) spanIdString = s = HexCodec.toHex(spanId);
    return s;
  }

  /** 16 lowercase hex chars, or null for a root span. */
  public @Nullable String parentIdString() {
    return parentId == 0L ? null : HexCodec.toHex(parentId);
  }

  /** Same trace id and span id: the identity of a span. */
  @Override
  public boolean equals(@Nullable Object o) {
    if (o == this) return true;
    if (!(o instanceof TraceContext that)) return false;
    return traceIdHigh == that.traceIdHigh
        && traceIdLow == that.traceIdLow
        && spanId == that.spanId;
  }

  @Override
  public int hashCode() {
    int h = hashCode;
    if (h == 0) {
      h = 1000003;
      h ^= Long.hashCode(traceIdHigh);
      h *= 1000003;
      h ^= Long.hashCode(traceIdLow);
      h *= 1000003;
      h ^= Long.hashCode(spanId);
      hashCode = h;
    }
    return h;
  }

  /** traceparent-like text, for logs and test failures. */
  @Override
  public String toString() {
    return traceIdString() + "/" + spanIdString() + (hasParent() ? "<" + parentIdString() : "");
  }

  /** Builds a {@link TraceContext}; {@link #build()} checks the invariants. */
  public static final class Builder {
    long traceIdHigh;
    long traceIdLow;
    long spanId;
    long parentId;
    int flags = FLAG_SAMPLED;
    @Nullable String tracestate;
    @Nullable String requestId;

    Builder() {}

    public Builder traceId(long high, long low) {
      this.traceIdHigh = high;
      this.traceIdLow = low;
      return this;
    }

    public Builder spanId(long spanId) {
      this.spanId = spanId;
      return this;
    }

    /** Zero means no parent. */
    public Builder parentId(long parentId) {
      this.parentId = parentId;
      return this;
    }

    public Builder flags(int flags) {
      this.flags = flags & 0xff;
      return this;
    }

    public Builder sampled(boolean sampled) {
      this.flags = sampled ? flags | FLAG_SAMPLED : flags & ~FLAG_SAMPLED;
      return this;
    }

    public Builder tracestate(@Nullable String tracestate) {
      this.tracestate = tracestate;
      return this;
    }

    public Builder requestId(@Nullable String requestId) {
      this.requestId = requestId;
      return this;
    }

    /**
     * Builds the value; throws {@link IllegalArgumentException} when the trace id or span id is
     * zero.
     */
    public TraceContext build() {
      if (traceIdHigh == 0L && traceIdLow == 0L) {
        throw new IllegalArgumentException("traceId: 0 (expected: non-zero)");
      }
      if (spanId == 0L) throw new IllegalArgumentException("spanId: 0 (expected: non-zero)");
      return new TraceContext(this);
    }
  }
}
