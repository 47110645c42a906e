package io.hoptrace.propagation;

/** Why incoming propagation input was not used: one counter per value. */
public enum RejectReason {
  /** {@code traceparent} present but invalid: the trace restarts. */
  INVALID_TRACEPARENT,
  /** {@code tracestate} invalid: dropped, while a valid traceparent is still extracted. */
  INVALID_TRACESTATE,
  /** {@code b3} present but invalid: the trace restarts. */
  INVALID_B3,
  /** {@code X-B3-TraceId} or {@code X-B3-SpanId} present but the set is invalid. */
  INVALID_B3_MULTI,
  /** The legacy pair present but invalid or incomplete. */
  INVALID_LEGACY,
  /** {@code X-Request-Id} present but invalid: ignored (a new one is generated). */
  INVALID_REQUEST_ID,
  /** A valid context from a source outside the trusted ranges: the trace restarts. */
  UNTRUSTED_SOURCE
}
