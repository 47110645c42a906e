package io.hoptrace.proxy.inbound;

import io.hoptrace.proxy.CallerAddress;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Protocols;

/**
 * Stage 3: tells the app who really called: appends the caller to {@code X-Forwarded-For}, the
 * scheme to {@code X-Forwarded-Proto}, the requested host to {@code X-Forwarded-Host}, and this
 * proxy to {@code Via} (RFC 9110 §7.6.3) — each appended to what earlier proxies wrote.
 */
final class ForwardedHeadersHandler implements HttpHandler {
  static final HttpString X_FORWARDED_FOR = HttpString.tryFromString("X-Forwarded-For");
  static final HttpString X_FORWARDED_PROTO = HttpString.tryFromString("X-Forwarded-Proto");
  static final HttpString X_FORWARDED_HOST = HttpString.tryFromString("X-Forwarded-Host");

  private static final String VIA_1_1 = "1.1 hoptrace";
  private static final String VIA_1_0 = "1.0 hoptrace";

  private final HttpHandler next;

  ForwardedHeadersHandler(HttpHandler next) {
    this.next = next;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    HeaderMap headers = exchange.getRequestHeaders();
    InboundExchange state = exchange.getAttachment(InboundExchange.KEY);
    String peer = (state != null ? state.caller : CallerAddress.of(exchange)).ip;
    if (peer != null) append(headers, X_FORWARDED_FOR, peer);
    append(headers, X_FORWARDED_PROTO, exchange.getRequestScheme());
    String host = headers.getFirst(Headers.HOST);
    if (host != null) append(headers, X_FORWARDED_HOST, host);
    append(headers, Headers.VIA, via(exchange));
    next.handleRequest(exchange);
  }

  /** {@code 1.1 hoptrace}: the protocol version received and this proxy's pseudonym. */
  static String via(HttpServerExchange exchange) {
    HttpString received = exchange.getProtocol();
    if (Protocols.HTTP_1_1.equals(received)) return VIA_1_1; // nearly always: no String built
    if (Protocols.HTTP_1_0.equals(received)) return VIA_1_0;
    String protocol = received.toString(); // HTTP/2.0
    int slash = protocol.indexOf('/');
    return (slash >= 0 ? protocol.substring(slash + 1) : protocol) + " hoptrace";
  }

  /** Joins onto every existing line as one comma-separated list. */
  static void append(HeaderMap headers, HttpString name, String value) {
    var existing = headers.get(name);
    if (existing == null || existing.isEmpty()) {
      headers.put(name, value);
    } else {
      String joined = String.join(", ", existing) + ", " + value;
      headers.put(name, joined);
    }
  }
}
