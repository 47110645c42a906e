package io.hoptrace.proxy.guard;

import static java.util.Objects.requireNonNull;

import io.hoptrace.proxy.upstream.UpstreamFailure;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.ResponseCommitListener;
import java.util.Locale;

/**
 * Adds {@code Proxy-Status} (RFC 9209) to a 502 or 504 that hoptrace answered because the upstream
 * failed, so that the caller can tell a proxy error from the app's own 502: {@code hoptrace;
 * error=connection_refused; details="..."}. Works from the {@link UpstreamFailure} the forwarder
 * attaches, just before the response head is written.
 */
final class ProxyStatusHandler implements HttpHandler {
  private static final ResponseCommitListener ON_COMMIT = ProxyStatusHandler::beforeCommit;

  private final HttpHandler next;

  ProxyStatusHandler(HttpHandler next) {
    this.next = requireNonNull(next, "next");
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    exchange.addResponseCommitListener(ON_COMMIT);
    next.handleRequest(exchange);
  }

  private static void beforeCommit(HttpServerExchange exchange) {
    UpstreamFailure failure = exchange.getAttachment(UpstreamFailure.KEY);
    if (failure == null || exchange.getStatusCode() < 500) return;
    exchange
        .getResponseHeaders()
        .put(Refusals.PROXY_STATUS, Refusals.proxyStatus(errorType(failure), failure.message()));
  }

  /** The RFC 9209 §2.3 error type for a forwarding failure. */
  static String errorType(UpstreamFailure failure) {
    String message = failure.message().toLowerCase(Locale.ROOT);
    return switch (failure.kind()) {
      case CONNECT ->
          message.contains("timeout") || message.contains("timed out")
              ? "connection_timeout"
              : "connection_refused";
      case TIMEOUT -> "http_response_timeout";
      case RESPONSE_HEAD_TOO_LARGE -> "http_response_header_section_size";
      case RESET ->
          message.contains("reset") || message.contains("closed") || message.contains("eof")
              ? "connection_terminated"
              : "http_protocol_error";
      case CLIENT_ABORT, REFUSED -> "http_request_error";
    };
  }
}
