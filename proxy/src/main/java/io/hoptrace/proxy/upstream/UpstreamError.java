package io.hoptrace.proxy.upstream;

/** Why forwarding failed, with the status the client gets when no response has started yet. */
public enum UpstreamError {
  /** No connection to the upstream: refused, unreachable, or the connect timed out. */
  CONNECT(502, "connect"),
  /** The upstream closed or reset the connection before the response was complete. */
  RESET(502, "reset"),
  /**
   * The upstream's response head was longer than {@code upstream.max-response-head-bytes}: refused
   * unread, its connection closed.
   */
  RESPONSE_HEAD_TOO_LARGE(502, "response head too large"),
  /** The upstream did not answer (or went idle) within the configured time. */
  TIMEOUT(504, "timeout"),
  /** The client went away; nothing is answered. */
  CLIENT_ABORT(499, "client abort"),
  /**
   * hoptrace refused the request after forwarding had begun (its body broke the framing rules, see
   * {@link RequestBodyCheck}): the upstream request was aborted before it was complete, and the
   * client was answered the refusal. Counted as a refusal, not as an upstream error.
   */
  REFUSED(400, "refused");

  private final int status;
  private final String tagValue;

  UpstreamError(int status, String tagValue) {
    this.status = status;
    this.tagValue = tagValue;
  }

  /** The status answered to the client when the response has not started. */
  public int status() {
    return status;
  }

  /** The prefix of the span's {@code error} tag, and the metric label. */
  public String tagValue() {
    return tagValue;
  }
}
