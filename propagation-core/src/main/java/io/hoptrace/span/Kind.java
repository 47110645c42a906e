package io.hoptrace.span;

/** Which hop a span describes (Zipkin v2 {@code kind}). */
public enum Kind {
  /** The inbound hop: a caller's request to the app. */
  SERVER,
  /** The outbound hop: the app's call to a callee. */
  CLIENT,
  /** A message the app sent to a broker (only in spans the app reports itself). */
  PRODUCER,
  /** A message the app received from a broker (only in spans the app reports itself). */
  CONSUMER,
  /**
   * Work inside the app, e.g. an in-process cache (only in spans the app reports itself). Zipkin
   * has no name for it: the line has no {@code kind} key.
   */
  LOCAL
}
