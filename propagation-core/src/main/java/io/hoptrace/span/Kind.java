package io.hoptrace.span;

/** Which hop a span describes (Zipkin v2 {@code kind}). */
public enum Kind {
  /** The inbound hop: a caller's request to the app. */
  SERVER,
  /** The outbound hop: the app's call to a callee. */
  CLIENT
}
