package io.hoptrace.propagation;

import io.hoptrace.context.Ids;
import io.hoptrace.context.TraceContext;
import io.hoptrace.propagation.requestid.RequestIdCodec;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The result of {@link CompositeExtractor#extract}: what came in, what was made of it, and the
 * context of this hop's SERVER span. Immutable in what it answers: the SERVER span's context is
 * made on the first call that asks for it (a hop that does not, like the outbound one, makes none)
 * and every later call returns that same instance, whichever thread asks.
 */
public final class Extraction {
  private static final VarHandle SERVER_CONTEXT;

  static {
    try {
      SERVER_CONTEXT =
          MethodHandles.lookup()
              .findVarHandle(Extraction.class, "serverContext", TraceContext.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

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
  final boolean seedFromRequestId;

  // Made on the first call of newServerContext (either form), set once by compare-and-exchange
  // through SERVER_CONTEXT (toString reads it as it is).
  private volatile @Nullable TraceContext serverContext;

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
    this.seedFromRequestId = seedFromRequestId;
  }

  /**
   * The SERVER span's context: a child of {@code parent}, else a new root whose trace id comes from
   * the caller's UUID request id when {@code seedFromRequestId}, else random. It carries {@code
   * carried}: the request id it would carry anyway (see {@link #carriedRequestId}), or the one the
   * hop gave it when that is null.
   */
  static TraceContext serverContext(
      @Nullable TraceContext parent,
      @Nullable String requestId,
      boolean seedFromRequestId,
      @Nullable String carried) {
    if (parent != null) return parent.newChild(carried);
    if (seedFromRequestId && requestId != null && RequestIdCodec.isUuidTraceId(requestId)) {
      // Not flagged random: we cannot know how the caller made its UUID.
      return TraceContext.newBuilder()
          .traceId(
              RequestIdCodec.uuidToTraceIdHigh(requestId),
              RequestIdCodec.uuidToTraceIdLow(requestId))
          .spanId(Ids.newSpanId())
          .flags(TraceContext.FLAG_SAMPLED)
          .requestId(carried)
          .build();
    }
    return TraceContext.newRoot(carried);
  }

  /** The request id the SERVER span's context carries unless the hop gives it one: the parent's. */
  private @Nullable String carriedRequestId() {
    return parent != null ? parent.requestId() : requestId;
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
    TraceContext made = (TraceContext) SERVER_CONTEXT.getAcquire(this);
    if (made != null) return made;
    return settle(serverContext(parent, requestId, seedFromRequestId, carriedRequestId()));
  }

  /**
   * {@link #newServerContext()} for a hop that gives every request an id: when no valid request id
   * came ({@link #requestId()} is null), the context carries one from {@code newRequestId} instead
   * of none — made as that context, not as a copy of one without it. {@code newRequestId} is asked
   * only then, and only when the context is made.
   *
   * <p>Made once, like {@link #newServerContext()}: whichever of the two is called first decides,
   * and both then return that instance. One exception: when {@link #newServerContext()} was called
   * first and no request id came, this returns a copy of that context with a new id from {@code
   * newRequestId} on each call (as {@code newServerContext().withRequestId(…)} would).
   */
  public TraceContext newServerContext(Supplier<String> newRequestId) {
    TraceContext made = (TraceContext) SERVER_CONTEXT.getAcquire(this);
    if (made == null) {
      String carried = carriedRequestId();
      if (carried == null) carried = newRequestId.get();
      made = settle(serverContext(parent, requestId, seedFromRequestId, carried));
    }
    if (made.requestId() == null) return made.withRequestId(newRequestId.get());
    return made;
  }

  /** Sets the context if none is yet, returning whichever is kept. */
  private TraceContext settle(TraceContext made) {
    TraceContext witness = (TraceContext) SERVER_CONTEXT.compareAndExchange(this, null, made);
    return witness == null ? made : witness;
  }

  @Override
  public String toString() {
    return "Extraction{"
        + outcome.tagValue()
        + (format != null ? ", format=" + format : "")
        + (rejectReason != null ? ", reason=" + rejectReason : "")
        + (rejected != null ? ", rejected=" + rejected : "")
        + ", server="
        + (serverContext == null ? "(not made)" : serverContext)
        + "}";
  }
}
