package io.hoptrace.propagation;

import static java.util.Objects.requireNonNull;

import io.hoptrace.context.TraceContext;
import io.hoptrace.propagation.b3.B3MultiCodec;
import io.hoptrace.propagation.b3.B3SingleCodec;
import io.hoptrace.propagation.legacy.LegacyPairCodec;
import io.hoptrace.propagation.requestid.RequestIdCodec;
import io.hoptrace.propagation.w3c.TraceparentCodec;
import io.hoptrace.propagation.w3c.TracestateCodec;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Writes a context to the app or downstream: first removes every trace header it knows, so no stale
 * or invalid value gets through, then writes {@code traceparent} always, {@code tracestate} when
 * the context has one, B3 and the legacy pair when enabled, and the request id. Immutable and
 * thread-safe.
 */
public final class Injector {
  /** How B3 is written, if at all. */
  public enum B3Style {
    NONE,
    SINGLE,
    MULTI
  }

  /**
   * The trace headers every injector removes before writing, whatever its options: the W3C pair,
   * {@code b3} and all of {@code X-B3-*}. Configured names (the legacy pair, the request id header)
   * are in {@link #managedHeaders()}.
   */
  public static final List<String> MANAGED_HEADERS =
      List.of(
          TraceparentCodec.NAME,
          TracestateCodec.NAME,
          B3SingleCodec.NAME,
          B3MultiCodec.TRACE_ID,
          B3MultiCodec.SPAN_ID,
          B3MultiCodec.PARENT_SPAN_ID,
          B3MultiCodec.SAMPLED,
          B3MultiCodec.FLAGS);

  final B3Style b3Style;
  final @Nullable LegacyPairCodec legacy;
  final String requestIdHeader;
  final List<String> managedHeaders;

  Injector(Builder b) {
    this.b3Style = b.b3Style;
    this.legacy = b.legacy;
    this.requestIdHeader = b.requestIdHeader;
    List<String> names = new ArrayList<>(MANAGED_HEADERS);
    if (legacy != null) names.addAll(legacy.names());
    names.add(requestIdHeader);
    this.managedHeaders = List.copyOf(names);
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /** Every header this injector removes or writes, including the configured ones. */
  public List<String> managedHeaders() {
    return managedHeaders;
  }

  /**
   * Replaces the trace headers of {@code carrier} with {@code context}'s. The request id header is
   * set to {@code context.requestId()}, or removed when it has none (an invalid incoming one must
   * not reach the app; callers generate one with {@link RequestIdCodec#newRequestId()}).
   *
   * <p>Returns the {@code traceparent} value written: the inbound hop answers its caller with the
   * same text as {@code traceresponse} (both name its SERVER span), without formatting it again.
   */
  public <C> String inject(TraceContext context, C carrier, HeaderSetter<C> setter) {
    requireNonNull(context, "context");
    requireNonNull(carrier, "carrier");
    requireNonNull(setter, "setter");
    for (int i = 0; i < managedHeaders.size(); i++) setter.remove(carrier, managedHeaders.get(i));

    String traceparent = TraceparentCodec.toString(context);
    setter.set(carrier, TraceparentCodec.NAME, traceparent);
    String tracestate = context.tracestate();
    if (tracestate != null) setter.set(carrier, TracestateCodec.NAME, tracestate);
    switch (b3Style) {
      case SINGLE -> setter.set(carrier, B3SingleCodec.NAME, B3SingleCodec.toString(context));
      case MULTI -> B3MultiCodec.inject(context, carrier, setter);
      case NONE -> {}
    }
    LegacyPairCodec legacy = this.legacy;
    if (legacy != null) legacy.inject(context, carrier, setter);
    String requestId = context.requestId();
    if (requestId != null) setter.set(carrier, requestIdHeader, requestId);
    return traceparent;
  }

  @Override
  public String toString() {
    return "Injector{b3=" + b3Style + ", legacy=" + legacy + ", requestId=" + requestIdHeader + "}";
  }

  /** Options; every setter checks its input and throws {@link IllegalArgumentException}. */
  public static final class Builder {
    B3Style b3Style = B3Style.NONE;
    @Nullable LegacyPairCodec legacy;
    String requestIdHeader = RequestIdCodec.NAME;

    Builder() {}

    /** Whether and how B3 is written (default {@link B3Style#NONE}). */
    public Builder b3(B3Style style) {
      this.b3Style = requireNonNull(style, "b3");
      return this;
    }

    /** Writes this legacy pair too (default: none). */
    public Builder legacyPair(String traceIdHeader, String spanIdHeader) {
      this.legacy = LegacyPairCodec.of(traceIdHeader, spanIdHeader);
      return this;
    }

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

    public Injector build() {
      return new Injector(this);
    }
  }
}
