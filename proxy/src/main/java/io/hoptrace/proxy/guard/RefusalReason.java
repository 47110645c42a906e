package io.hoptrace.proxy.guard;

/**
 * Why a listener refused a request: the status it answers, the RFC 9209 {@code Proxy-Status} error
 * type, and the counter {@code hoptrace.refusals.<reason>} (Prometheus: {@code
 * hoptrace_refusals_<reason>_total}).
 */
public enum RefusalReason implements RefusalType {
  /** A request line that is not {@code method SP target SP HTTP/d.d}, or a bare CR in it. */
  BAD_REQUEST_LINE(400, "http_request_error", "malformed request line"),
  /**
   * A header line that breaks RFC 9112 §5: a name that is not a token, whitespace before the colon,
   * obs-fold, a line without a colon, a bare CR or LF, NUL or another control in a value.
   */
  BAD_HEADER(400, "http_request_error", "malformed header line"),
  /** Host missing (HTTP/1.1), on two lines, empty or not {@code host[:port]}. */
  BAD_HOST(400, "http_request_error", "missing or malformed Host"),
  /** Transfer-Encoding not ending in exactly one {@code chunked}, or on an HTTP/1.0 request. */
  BAD_TRANSFER_ENCODING(400, "http_request_error", "bad Transfer-Encoding"),
  /** A transfer coding other than {@code chunked} before the final {@code chunked}. */
  UNSUPPORTED_TRANSFER_CODING(501, "http_request_error", "unsupported transfer coding"),
  /** Content-Length that is not a plain decimal number that fits in 63 bits. */
  BAD_CONTENT_LENGTH(400, "http_request_error", "bad Content-Length"),
  /** A header name with an underscore while {@code limits.underscore-headers = reject}. */
  UNDERSCORE_HEADER(400, "http_request_error", "header name with an underscore"),
  /** A control character (CR, LF, NUL, ...) in the path or query, percent-encoded or not. */
  BAD_PATH(400, "http_request_error", "control character in the request target"),
  /** An HTTP version other than 1.0 and 1.1. */
  BAD_VERSION(505, "http_request_error", "HTTP version not supported"),
  /** A request line longer than {@code limits.max-request-line}. */
  REQUEST_LINE_TOO_LONG(414, "http_request_error", "request line too long"),
  /** Header lines over {@code limits.max-header-bytes} in total. */
  HEADERS_TOO_LARGE(431, "http_request_error", "header section too large"),
  /** More header lines than {@code limits.max-headers}. */
  TOO_MANY_HEADERS(431, "http_request_error", "too many header lines"),
  /** More open connections than {@code limits.max-connections}. */
  CONNECTION_LIMIT(503, "connection_limit_reached", "too many connections"),
  /** The heap still in use after GC is over {@code limits.shed-heap-ratio}. */
  OVERLOADED(503, "proxy_internal_error", "overloaded, retry later"),
  /**
   * Chunked framing that breaks RFC 9112 §7.1, also once forwarding has begun (the upstream request
   * is then aborted incomplete); cut instead when the app's response has already started.
   */
  BAD_CHUNKED_BODY(400, "http_request_error", "malformed chunked body"),
  /** The request body arrived slower than {@code limits.body-min-rate}: the connection is cut. */
  BODY_TOO_SLOW(408, "http_request_error", "request body too slow"),
  /** hoptrace is shutting down: a request arriving on a kept-alive connection while it drains. */
  DRAINING(503, "proxy_internal_error", "shutting down, retry");

  private final int status;
  private final String proxyStatusError;
  private final String description;

  RefusalReason(int status, String proxyStatusError, String description) {
    this.status = status;
    this.proxyStatusError = proxyStatusError;
    this.description = description;
  }

  @Override
  public int status() {
    return status;
  }

  @Override
  public String proxyStatusError() {
    return proxyStatusError;
  }

  @Override
  public String description() {
    return description;
  }

  /** The Dropwizard counter's name. */
  @Override
  public String metricName() {
    return "hoptrace.refusals." + tagValue();
  }
}
