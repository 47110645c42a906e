package io.hoptrace.proxy.upstream;

import static java.util.Objects.requireNonNull;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;
import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.xnio.IoUtils;

/** A failed forward, attached to the exchange for the span and the metrics. */
public record UpstreamFailure(UpstreamError kind, String message) {
  private static final byte[] BAD_GATEWAY = "502 Bad Gateway\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] GATEWAY_TIMEOUT =
      "504 Gateway Timeout\n".getBytes(StandardCharsets.US_ASCII);

  /** Set on the exchange when forwarding failed. */
  public static final AttachmentKey<UpstreamFailure> KEY =
      AttachmentKey.create(UpstreamFailure.class);

  public UpstreamFailure {
    requireNonNull(kind, "kind");
    requireNonNull(message, "message");
  }

  /** The span's {@code error} tag, e.g. {@code connect: Connection refused}. */
  public String errorTag() {
    return kind.tagValue() + ": " + message;
  }

  /**
   * Attaches this failure to an exchange whose response has not started and answers it: the client
   * gone cuts its connection, anything else answers 502 (504 on a timeout) with a short text body.
   * Both upstream transports end a failed exchange this way. IO thread only.
   */
  void answer(HttpServerExchange exchange, ForwardHooks hooks) {
    exchange.putAttachment(KEY, this);
    if (kind == UpstreamError.CLIENT_ABORT) {
      IoUtils.safeClose(exchange.getConnection());
      exchange.endExchange();
      return;
    }
    // Don't read the rest of a body nobody will take just to keep the connection.
    if (!exchange.isRequestComplete()) exchange.setPersistent(false);
    exchange.setStatusCode(kind.status());
    HeaderMap headers = exchange.getResponseHeaders();
    headers.clear();
    headers.put(Headers.CONTENT_TYPE, "text/plain");
    ByteBuffer body = body();
    headers.put(Headers.CONTENT_LENGTH, body.remaining());
    hooks.proxyToClientHeaders(exchange, headers);
    exchange.getResponseSender().send(body);
  }

  /** The short text body of hoptrace's answer to this failure (502 or 504), read-only. */
  public ByteBuffer body() {
    return ByteBuffer.wrap(kind == UpstreamError.TIMEOUT ? GATEWAY_TIMEOUT : BAD_GATEWAY)
        .asReadOnlyBuffer();
  }

  /** The message of a {@link UpstreamError#RESPONSE_HEAD_TOO_LARGE} failure, either client's. */
  public static String headTooLarge(int maxHeadBytes) {
    return "over " + maxHeadBytes + " bytes (upstream.max-response-head-bytes)";
  }

  /** The message of a failure's root cause, or its class name when it has none. */
  public static String rootMessage(Throwable failure) {
    Throwable root = failure;
    while (root.getCause() != null && root.getCause() != root) root = root.getCause();
    String m = root.getMessage();
    return m == null || m.isEmpty() ? root.getClass().getSimpleName() : m;
  }
}
