package io.hoptrace.propagation.w3c;

import io.hoptrace.context.TraceContext;

/**
 * The W3C Trace Context Level 2 {@code traceresponse} response header: the same format as {@code
 * traceparent}, naming the span that served the request (this hop's SERVER span), so a caller can
 * find the trace its request joined or started.
 */
public final class TraceresponseCodec {
  public static final String NAME = "traceresponse";

  /** {@code 00-traceid-spanid-flags} naming {@code serverContext}'s span. */
  public static String toString(TraceContext serverContext) {
    return TraceparentCodec.toString(serverContext);
  }

  /** Writes into {@code dst} from index 0; returns the length written. */
  public static int write(TraceContext serverContext, char[] dst) {
    return TraceparentCodec.write(serverContext, dst);
  }

  private TraceresponseCodec() {}
}
