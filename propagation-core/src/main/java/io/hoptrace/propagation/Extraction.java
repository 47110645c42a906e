package io.hoptrace.propagation;

import io.hoptrace.context.Ids;
import io.hoptrace.context.TraceContext;
import io.hoptrace.propagation.requestid.RequestIdCodec;
import org.jspecify.annotations.Nullable;

/**
 * The result of {@link CompositeExtractor#extract}: what came in, what was made of it, and the
 * context of this hop's SERVER span. Immutable.
 */
public final class Extraction {
  public static final String FORMAT_TRACEPARENT = "traceparent";
  public static final String FORMAT_B3 = "b3";
  public static final String FORMAT_B3_MULTI = "x-b3";
  public static final String FORMAT_LEGACY = "legacy";
  public static final String FORMAT_REQUEST_ID = "x-request-id";

  final ContextOutcome outcome;
  final @Nullable TraceContext parent;
  final @Nullable String format;
  final @Nullable String rejected;
  final @Nullable RejectReason rejectReason;
  final @Nullable String requestId;
  final TraceContext serverContext;

  Extraction(
      ContextOutcome outcome,
      @Nullable TraceContext parent,
      @Nullable String format,
      @Nullable String rejected,
      @Nullable RejectReason rejectReason,
      @Nullable String requestId,
      boolean seedFromRequestId) {
    this.outcome = outcome;
    this.parent = parent;
    this.format = format;
    this.rejected = rejected;
    this.rejectReason = rejectReason;
    this.requestId = requestId;
    this.serverContext = serverContext(parent, requestId, seedFromRequestId);
  }

  static TraceContext serverContext(
      @Nullable TraceContext parent, @Nullable String requestId, boolean seedFromRequestId) {
    if (parent != null) return parent.newChild();
    if (seedFromRequestId && requestId != null && RequestIdCodec.isUuidTraceId(requestId)) {
      // Not flagged random: we cannot know how the caller made its UUID.
      return TraceContext.newBuilder()
          .traceId(
              RequestIdCodec.uuidToTraceIdHigh(requestId),
              RequestIdCodec.uuidToTraceIdLow(requestId))
          .spanId(Ids.newSpanId())
          .flags(TraceContext.FLAG_SAMPLED)
          .requestId(requestId)
          .build();
    }
    return TraceContext.newRoot(requestId);
  }

  /** Whether the caller's context was continued, a trace started, or one restarted. */
  public ContextOutcome outcome() {
    return outcome;
  }

  /**
   * The caller's context when {@link ContextOutcome#EXTRACTED}: its span id is the caller's span,
   * with the caller's flags, the validated tracestate and the request id. Null otherwise.
   */
  public @Nullable TraceContext parent() {
    return parent;
  }

  /**
   * Which header decided: {@link #FORMAT_TRACEPARENT}, {@link #FORMAT_B3}, {@link
   * #FORMAT_B3_MULTI}, {@link #FORMAT_LEGACY}, or {@link #FORMAT_REQUEST_ID} when a UUID request id
   * seeded the trace id. Null when nothing did.
   */
  public @Nullable String format() {
    return format;
  }

  /**
   * When {@link ContextOutcome#RESTARTED}: the offending raw value, safe for a log (control and
   * non-ASCII chars replaced by {@code ?}, at most 256 chars plus {@code ...}). Null otherwise.
   */
  public @Nullable String rejected() {
    return rejected;
  }

  /**
   * Why input was refused, for a counter: always set when {@link ContextOutcome#RESTARTED}; may be
   * {@link RejectReason#INVALID_TRACESTATE} when extracted, or {@link
   * RejectReason#INVALID_REQUEST_ID} when started. Null when nothing was refused.
   */
  public @Nullable RejectReason rejectReason() {
    return rejectReason;
  }

  /**
   * The valid incoming request id, whichever header gave the context; null when none or invalid.
   */
  public @Nullable String requestId() {
    return requestId;
  }

  /**
   * The context of this hop's SERVER span, computed once (the same instance on every call): a child
   * of {@link #parent()} when extracted; otherwise a new root whose trace id comes from a UUID
   * request id of a trusted caller, else random. It carries {@link #requestId()}.
   */
  public TraceContext newServerContext() {
    return serverContext;
  }

  @Override
  public String toString() {
    return "Extraction{"
        + outcome.tagValue()
        + (format != null ? ", format=" + format : "")
        + (rejectReason != null ? ", reason=" + rejectReason : "")
        + (rejected != null ? ", rejected=" + rejected : "")
        + ", server="
        + serverContext
        + "}";
  }
}
