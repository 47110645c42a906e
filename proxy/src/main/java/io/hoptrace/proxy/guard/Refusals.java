package io.hoptrace.proxy.guard;

import static java.util.Objects.requireNonNull;

import io.hoptrace.context.TraceContext;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.span.EpochMicros;
import io.hoptrace.span.Kind;
import io.hoptrace.span.Span;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Protocols;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Answers, counts and records a refusal: the status with {@code Proxy-Status} and {@code
 * Connection: close}, the counter {@code hoptrace.refusals.<reason>}, and one span line with an
 * {@code error} tag. Nothing of the request is forwarded, and the connection is closed after the
 * answer, since what follows the refused head cannot be trusted to be where the client says.
 */
public final class Refusals {
  static final HttpString PROXY_STATUS = HttpString.tryFromString("Proxy-Status");
  private final String serviceName;
  private final Kind kind;
  private final Consumer<Span> spans;
  private final ProxyMetrics metrics;

  /**
   * Refusals answered on one listener.
   *
   * @param kind SERVER on the inbound listener, CLIENT on the outbound ones
   * @param spans writes one span line
   */
  public Refusals(String serviceName, Kind kind, Consumer<Span> spans, ProxyMetrics metrics) {
    this.serviceName = requireNonNull(serviceName, "serviceName");
    this.kind = requireNonNull(kind, "kind");
    this.spans = requireNonNull(spans, "spans");
    this.metrics = requireNonNull(metrics, "metrics");
  }

  /**
   * Counts a refusal whose span is the exchange's own: a chunked body refused (answered with {@link
   * #answer}, or cut) or a body too slow (cut).
   */
  public void count(RefusalType reason) {
    metrics.counter(reason.metricName()).inc();
  }

  /** Refuses {@code exchange}: answer, count, span. Call before anything was forwarded. */
  public void refuse(HttpServerExchange exchange, RefusalType reason, String detail) {
    long startNanos = System.nanoTime();
    Instant now = Instant.now();
    count(reason);
    writeSpan(exchange, reason, detail, now, startNanos);
    answer(exchange, reason, detail);
  }

  /**
   * The answer alone: status, {@code Connection: close}, {@code Proxy-Status}, the one-line body;
   * the exchange ends once it is written. For a refusal whose counter and span line are kept
   * elsewhere (a chunked body refused mid-way: {@link StrictChunkedConduit}).
   */
  void answer(HttpServerExchange exchange, RefusalType reason, String detail) {
    if (!exchange.isHttp11() && !exchange.isHttp10()) {
      exchange.setProtocol(Protocols.HTTP_1_1); // answer an HTTP/0.9 line in a version it reads
    }
    exchange.setStatusCode(reason.status());
    exchange.setPersistent(false);
    var headers = exchange.getResponseHeaders();
    headers.clear();
    headers.put(Headers.CONNECTION, "close");
    headers.put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
    headers.put(PROXY_STATUS, proxyStatus(reason.proxyStatusError(), reason.tagValue()));
    if (reason.status() == 503) headers.put(Headers.RETRY_AFTER, "1");
    String text =
        reason.detailInBody() && !detail.isEmpty()
            ? reason.description() + ": " + safe(detail)
            : reason.description();
    byte[] body = ("hoptrace: " + text + "\n").getBytes(StandardCharsets.UTF_8);
    headers.put(Headers.CONTENT_LENGTH, body.length);
    exchange.getResponseSender().send(java.nio.ByteBuffer.wrap(body));
  }

  /**
   * Counts and records a refusal answered below Undertow, on the raw connection ({@link
   * HeadGuardConduit}): the answer is already written; this is its counter and span line.
   *
   * @param method the request's method as far as it was read (may be empty)
   * @param path its target as far as it was read, without the query (may be empty)
   */
  void refusedHead(
      RefusalReason reason,
      String detail,
      String method,
      String path,
      @org.jspecify.annotations.Nullable InetSocketAddress peer) {
    long startNanos = System.nanoTime();
    Instant now = Instant.now();
    count(reason);
    writeSpan(method, path, peer, reason, detail, now, startNanos);
  }

  /** The answer {@link #refuse} gives, as bytes for a raw connection (HTTP/1.1, closing). */
  static byte[] rawAnswer(RefusalReason reason) {
    byte[] body = ("hoptrace: " + reason.description() + "\n").getBytes(StandardCharsets.UTF_8);
    String head =
        "HTTP/1.1 "
            + reason.status()
            + " "
            + io.undertow.util.StatusCodes.getReason(reason.status())
            + "\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + PROXY_STATUS
            + ": "
            + proxyStatus(reason.proxyStatusError(), reason.tagValue())
            + "\r\nContent-Length: "
            + body.length
            + "\r\n\r\n";
    byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
    byte[] all = java.util.Arrays.copyOf(headBytes, headBytes.length + body.length);
    System.arraycopy(body, 0, all, headBytes.length, body.length);
    return all;
  }

  private void writeSpan(
      HttpServerExchange exchange,
      RefusalType reason,
      String detail,
      Instant start,
      long startNanos) {
    writeSpan(
        exchange.getRequestMethod().toString(),
        exchange.getRequestPath(),
        exchange.getSourceAddress(),
        reason,
        detail,
        start,
        startNanos);
  }

  private void writeSpan(
      String rawMethod,
      String rawPath,
      @org.jspecify.annotations.Nullable InetSocketAddress peer,
      RefusalType reason,
      String detail,
      Instant start,
      long startNanos) {
    String method = safe(rawMethod);
    String path = safe(rawPath);
    Span.Builder span =
        Span.newBuilder()
            // A refused request is not trusted with a trace context: a new trace, said so below.
            .context(TraceContext.newRoot(null))
            .kind(kind)
            .name(method.isEmpty() ? "refused" : method.toLowerCase(Locale.ROOT) + " " + path)
            .timestampMicros(EpochMicros.of(start))
            .durationMicros(Math.max(1, (System.nanoTime() - startNanos) / 1000))
            .serviceName(serviceName);
    if (peer != null && peer.getAddress() != null) {
      span.remoteEndpoint(peer.getAddress().getHostAddress(), peer.getPort());
    }
    span.tag("http.method", method)
        .tag("http.path", path)
        .tag("http.status_code", Integer.toString(reason.status()))
        .tag("error", "refused: " + reason.tagValue() + (detail.isEmpty() ? "" : ": " + detail));
    if (kind == Kind.SERVER) {
      span.tag("hoptrace.context", "started");
    } else {
      span.tag("hoptrace.link", "root");
    }
    spans.accept(span.build());
  }

  /** {@code hoptrace; error=TYPE; details="..."} (RFC 9209 §2). */
  static String proxyStatus(String error, String details) {
    StringBuilder b = new StringBuilder("hoptrace; error=").append(error);
    b.append("; details=\"");
    int n = Math.min(details.length(), 200);
    for (int i = 0; i < n; i++) {
      char c = details.charAt(i);
      if (c < 0x20 || c >= 0x7f) {
        b.append('?');
      } else {
        if (c == '"' || c == '\\') b.append('\\');
        b.append(c);
      }
    }
    return b.append('"').toString();
  }

  /** Control characters percent-encoded: a refused path never reaches the span log raw. */
  static String safe(String text) {
    StringBuilder b = null;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        if (b == null) b = new StringBuilder(text.length() + 8).append(text, 0, i);
        b.append('%').append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 15, 16));
      } else if (b != null) {
        b.append(c);
      }
    }
    return b == null ? text : b.toString();
  }
}
