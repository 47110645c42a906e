package io.hoptrace.propagation;

import static java.util.Objects.requireNonNull;

import io.hoptrace.context.TraceContext;
import io.hoptrace.propagation.b3.B3MultiCodec;
import io.hoptrace.propagation.b3.B3SingleCodec;
import io.hoptrace.propagation.legacy.LegacyPairCodec;
import io.hoptrace.propagation.requestid.RequestIdCodec;
import io.hoptrace.propagation.w3c.TraceparentCodec;
import io.hoptrace.propagation.w3c.TracestateCodec;
import org.jspecify.annotations.Nullable;

/**
 * Reads the caller's trace context from whichever header carries it, in the order of DESIGN.md:
 * {@code traceparent} (+{@code tracestate}) > {@code b3} > {@code X-B3-*} > the legacy pair >
 * {@code X-Request-Id}.
 *
 * <p>The first format present decides, valid or not: an invalid value restarts the trace and a
 * lower-precedence header does not rescue it (W3C: an invalid traceparent means a new trace; see
 * RATIONALE.md). A format counts as present when its id header is present and not blank; the
 * sampling-only B3 forms carry no context and do not count. Immutable and thread-safe; build one
 * per configuration.
 */
public final class CompositeExtractor {
  final boolean b3;
  final @Nullable LegacyPairCodec legacy;
  final String requestIdHeader;
  final int tracestateMaxLength;
  final int requestIdMaxLength;

  CompositeExtractor(Builder b) {
    this.b3 = b.b3;
    this.legacy = b.legacy;
    this.requestIdHeader = b.requestIdHeader;
    this.tracestateMaxLength = b.tracestateMaxLength;
    this.requestIdMaxLength = b.requestIdMaxLength;
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /**
   * Extracts from {@code carrier}. {@code trusted} says whether the peer is inside the configured
   * trusted ranges: a valid context from an untrusted peer is not adopted but restarted, with
   * reason {@link RejectReason#UNTRUSTED_SOURCE}. Never throws on wire input.
   */
  public <C> Extraction extract(C carrier, HeaderGetter<C> getter, boolean trusted) {
    requireNonNull(carrier, "carrier");
    requireNonNull(getter, "getter");
    String rawRequestId = getter.get(carrier, requestIdHeader);
    String requestId = RequestIdCodec.parse(rawRequestId, requestIdMaxLength);

    Extraction e = fromContextHeaders(carrier, getter, trusted, requestId);
    if (e != null) return e;

    // No context header: a new trace, seeded from a trusted caller's UUID request id if any.
    RejectReason reason =
        rawRequestId != null && requestId == null ? RejectReason.INVALID_REQUEST_ID : null;
    boolean seeded = trusted && requestId != null && RequestIdCodec.isUuidTraceId(requestId);
    return new Extraction(
        ContextOutcome.STARTED,
        null,
        seeded ? Extraction.FORMAT_REQUEST_ID : null,
        null,
        reason,
        requestId,
        trusted);
  }

  /**
   * The parent a trusted caller's headers continue, for a hop that needs nothing more of them (the
   * outbound one: the app is local, so trusted, and only the parent and the request id are used):
   * {@code extract(carrier, getter, true).parent()}, without the {@link Extraction} when no context
   * header is present — an uninstrumented app's calls, the ones the correlator exists for (an
   * Extraction each was 30–50 B per outbound call, bench/README.md, "Allocation sites (s20)").
   *
   * @param requestId {@link #requestId} of the same carrier (the parent carries it)
   */
  public <C> @Nullable TraceContext trustedParent(
      C carrier, HeaderGetter<C> getter, @Nullable String requestId) {
    requireNonNull(carrier, "carrier");
    requireNonNull(getter, "getter");
    Extraction e = fromContextHeaders(carrier, getter, true, requestId);
    return e == null ? null : e.parent;
  }

  /** The valid request id of {@code carrier}, as {@code extract(…).requestId()}; null if none. */
  public <C> @Nullable String requestId(C carrier, HeaderGetter<C> getter) {
    return RequestIdCodec.parse(getter.get(carrier, requestIdHeader), requestIdMaxLength);
  }

  /** The first context format present decides (each step is null when its format is absent). */
  private <C> @Nullable Extraction fromContextHeaders(
      C carrier, HeaderGetter<C> getter, boolean trusted, @Nullable String requestId) {
    Extraction e = fromTraceparent(carrier, getter, trusted, requestId);
    if (e == null && b3) e = fromB3Single(carrier, getter, trusted, requestId);
    if (e == null && b3) e = fromB3Multi(carrier, getter, trusted, requestId);
    if (e == null) e = fromLegacyPair(carrier, getter, trusted, requestId);
    return e;
  }

  <C> @Nullable Extraction fromTraceparent(
      C carrier, HeaderGetter<C> getter, boolean trusted, @Nullable String requestId) {
    String traceparent = getter.get(carrier, TraceparentCodec.NAME);
    if (!isPresent(traceparent)) return null;
    // validate, then build once with tracestate and request id: one context, not two.
    int at = TraceparentCodec.validate(traceparent, 0, traceparent.length());
    if (at < 0) {
      return restarted(
          Extraction.FORMAT_TRACEPARENT,
          RejectReason.INVALID_TRACEPARENT,
          traceparent,
          requestId,
          trusted);
    }
    if (!trusted) {
      return restarted(
          Extraction.FORMAT_TRACEPARENT,
          RejectReason.UNTRUSTED_SOURCE,
          traceparent,
          requestId,
          false);
    }
    // tracestate is only read once traceparent is known valid (W3C §3.3).
    RejectReason reason = null;
    String tracestate = getter.get(carrier, TracestateCodec.NAME);
    String state = null;
    if (tracestate != null) {
      state = TracestateCodec.parse(tracestate, 0, tracestate.length(), tracestateMaxLength);
      if (state == null && !TracestateCodec.isValid(tracestate, 0, tracestate.length())) {
        reason = RejectReason.INVALID_TRACESTATE;
      }
    }
    TraceContext parent =
        TraceContext.newBuilder()
            .traceId(
                TraceparentCodec.traceIdHigh(traceparent, at),
                TraceparentCodec.traceIdLow(traceparent, at))
            .spanId(TraceparentCodec.parentId(traceparent, at))
            .flags(TraceparentCodec.flags(traceparent, at))
            .tracestate(state)
            .requestId(requestId)
            .build();
    return extracted(Extraction.FORMAT_TRACEPARENT, parent, reason, requestId);
  }

  <C> @Nullable Extraction fromB3Single(
      C carrier, HeaderGetter<C> getter, boolean trusted, @Nullable String requestId) {
    String single = getter.get(carrier, B3SingleCodec.NAME);
    if (!isPresent(single) || B3SingleCodec.isSamplingOnly(single)) return null;
    return decide(
        Extraction.FORMAT_B3,
        B3SingleCodec.parse(single),
        RejectReason.INVALID_B3,
        single,
        requestId,
        trusted);
  }

  <C> @Nullable Extraction fromB3Multi(
      C carrier, HeaderGetter<C> getter, boolean trusted, @Nullable String requestId) {
    String traceId = getter.get(carrier, B3MultiCodec.TRACE_ID);
    String spanId = getter.get(carrier, B3MultiCodec.SPAN_ID);
    if (!isPresent(traceId) && !isPresent(spanId)) return null; // sampled or flags alone: no ids
    String parentSpanId = getter.get(carrier, B3MultiCodec.PARENT_SPAN_ID);
    String sampled = getter.get(carrier, B3MultiCodec.SAMPLED);
    String flags = getter.get(carrier, B3MultiCodec.FLAGS);
    TraceContext parent = B3MultiCodec.parse(traceId, spanId, parentSpanId, sampled, flags);
    String raw =
        parent != null && trusted
            ? "" // not needed: only a restart logs the raw value
            : fields(
                B3MultiCodec.TRACE_ID, traceId,
                B3MultiCodec.SPAN_ID, spanId,
                B3MultiCodec.PARENT_SPAN_ID, parentSpanId,
                B3MultiCodec.SAMPLED, sampled);
    return decide(
        Extraction.FORMAT_B3_MULTI, parent, RejectReason.INVALID_B3_MULTI, raw, requestId, trusted);
  }

  <C> @Nullable Extraction fromLegacyPair(
      C carrier, HeaderGetter<C> getter, boolean trusted, @Nullable String requestId) {
    LegacyPairCodec legacy = this.legacy;
    if (legacy == null) return null;
    String traceId = getter.get(carrier, legacy.traceIdName());
    String spanId = getter.get(carrier, legacy.spanIdName());
    if (!isPresent(traceId) && !isPresent(spanId)) return null;
    TraceContext parent = LegacyPairCodec.parse(traceId, spanId);
    String raw =
        parent != null && trusted
            ? ""
            : fields(legacy.traceIdName(), traceId, legacy.spanIdName(), spanId);
    return decide(
        Extraction.FORMAT_LEGACY, parent, RejectReason.INVALID_LEGACY, raw, requestId, trusted);
  }

  Extraction decide(
      String format,
      @Nullable TraceContext parent,
      RejectReason invalid,
      String raw,
      @Nullable String requestId,
      boolean trusted) {
    if (parent == null) return restarted(format, invalid, raw, requestId, trusted);
    if (!trusted) return restarted(format, RejectReason.UNTRUSTED_SOURCE, raw, requestId, false);
    return extracted(format, parent.toBuilder().requestId(requestId).build(), null, requestId);
  }

  static Extraction extracted(
      String format,
      TraceContext parent,
      @Nullable RejectReason reason,
      @Nullable String requestId) {
    return new Extraction(ContextOutcome.EXTRACTED, parent, format, null, reason, requestId, false);
  }

  static Extraction restarted(
      String format, RejectReason reason, String raw, @Nullable String requestId, boolean trusted) {
    return new Extraction(
        ContextOutcome.RESTARTED, null, format, LogSafe.sanitize(raw), reason, requestId, trusted);
  }

  /** {@code name=value} pairs of the headers that were present, separated by a space. */
  static String fields(@Nullable String... namesAndValues) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i + 1 < namesAndValues.length; i += 2) {
      String value = namesAndValues[i + 1];
      if (value == null) continue;
      if (out.length() > 0) out.append(' ');
      out.append(namesAndValues[i]).append('=').append(value);
    }
    return out.toString();
  }

  static boolean isPresent(@Nullable String value) {
    if (value == null) return false;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c != ' ' && c != '\t') return true;
    }
    return false;
  }

  /** Options; every setter checks its input and throws {@link IllegalArgumentException}. */
  public static final class Builder {
    boolean b3 = true;
    @Nullable LegacyPairCodec legacy;
    String requestIdHeader = RequestIdCodec.NAME;
    int tracestateMaxLength = TracestateCodec.DEFAULT_MAX_LENGTH;
    int requestIdMaxLength = RequestIdCodec.DEFAULT_MAX_LENGTH;

    Builder() {}

    /** Whether {@code b3} and {@code X-B3-*} are read (default true). */
    public Builder b3(boolean b3) {
      this.b3 = b3;
      return this;
    }

    /** Reads this legacy pair after B3 (default: none). */
    public Builder legacyPair(String traceIdHeader, String spanIdHeader) {
      this.legacy = LegacyPairCodec.of(traceIdHeader, spanIdHeader);
      return this;
    }

    /** Reads no legacy pair (the default). */
    public Builder noLegacyPair() {
      this.legacy = null;
      return this;
    }

    /** The request id header (default {@code X-Request-Id}). */
    public Builder requestIdHeader(String name) {
      LegacyPairCodec.checkHeaderName("requestId.header", name);
      this.requestIdHeader = name;
      return this;
    }

    /** Longest tracestate propagated; longer is truncated by members (default and minimum 512). */
    public Builder tracestateMaxLength(int maxLength) {
      if (maxLength < TracestateCodec.MIN_MAX_LENGTH || maxLength > TracestateCodec.MAX_LENGTH) {
        throw new IllegalArgumentException(
            "tracestate.maxLength: "
                + maxLength
                + " (expected: "
                + TracestateCodec.MIN_MAX_LENGTH
                + ".."
                + TracestateCodec.MAX_LENGTH
                + ")");
      }
      this.tracestateMaxLength = maxLength;
      return this;
    }

    /** Longest request id accepted (default 128; at least 36 so that a UUID fits). */
    public Builder requestIdMaxLength(int maxLength) {
      if (maxLength < RequestIdCodec.UUID_LENGTH || maxLength > 8192) {
        throw new IllegalArgumentException(
            "requestId.maxLength: " + maxLength + " (expected: 36..8192)");
      }
      this.requestIdMaxLength = maxLength;
      return this;
    }

    public CompositeExtractor build() {
      return new CompositeExtractor(this);
    }
  }
}
