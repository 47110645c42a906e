package io.hoptrace.proxy.guard;

import static java.util.Objects.requireNonNull;

import io.hoptrace.config.Settings;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Protocols;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Validates what Undertow's parser let through, before anything is forwarded: the HTTP version, the
 * request-line and header-section sizes, message framing (Transfer-Encoding, Content-Length),
 * control characters hidden by percent-encoding in the target, and header names with underscores.
 *
 * <p>The head guard ({@link HeadGuardConduit}) has already refused, below the parser, a malformed
 * request line or header line, an unknown version, sizes over the limits, a bad Host and bad
 * framing. The framing and size checks here repeat it as defence in depth (and cover connections
 * accepted before the head guard was installed): Undertow reads any Transfer-Encoding other than
 * {@code identity} as chunked (so {@code xchunked} or {@code chunked, gzip} would be).
 */
final class RequestGuardHandler implements HttpHandler {
  private final HttpHandler next;
  private final Refusals refusals;
  private final int maxRequestLine;
  private final int maxHeaderBytes;
  private final int maxHeaders;
  private final Settings.UnderscoreHeaders underscoreHeaders;

  RequestGuardHandler(Settings.Limits limits, Refusals refusals, HttpHandler next) {
    this.next = requireNonNull(next, "next");
    this.refusals = requireNonNull(refusals, "refusals");
    this.maxRequestLine = limits.maxRequestLine();
    this.maxHeaderBytes = limits.maxHeaderBytes();
    this.maxHeaders = limits.maxHeaders();
    this.underscoreHeaders = limits.underscoreHeaders();
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    HttpString protocol = exchange.getProtocol();
    if (!protocol.equals(Protocols.HTTP_1_1) && !protocol.equals(Protocols.HTTP_1_0)) {
      refusals.refuse(exchange, RefusalReason.BAD_VERSION, protocol.toString());
      return;
    }
    int line = requestLineLength(exchange);
    if (line > maxRequestLine) {
      refusals.refuse(exchange, RefusalReason.REQUEST_LINE_TOO_LONG, line + " bytes");
      return;
    }
    HeaderMap headers = exchange.getRequestHeaders();
    int count = 0;
    long bytes = 0;
    List<HttpString> underscored = null;
    // Undertow's cookie iteration and indexed reads: the for-each forms made an iterator for the
    // map and one per header (~60 B per request). fastIterate, like the map's iterator, also visits
    // a name left with no values.
    for (long c = headers.fastIterate(); c != -1L; c = headers.fiNext(c)) {
      HeaderValues values = headers.fiCurrent(c);
      HttpString name = values.getHeaderName();
      int n = values.size();
      for (int i = 0; i < n; i++) {
        count++;
        bytes += name.length() + 2 + values.get(i).length() + 2;
      }
      if (name.toString().indexOf('_') >= 0) {
        if (underscored == null) underscored = new ArrayList<>(2);
        underscored.add(name);
      }
    }
    if (count > maxHeaders) {
      refusals.refuse(exchange, RefusalReason.TOO_MANY_HEADERS, count + " lines");
      return;
    }
    if (bytes > maxHeaderBytes) {
      refusals.refuse(exchange, RefusalReason.HEADERS_TOO_LARGE, bytes + " bytes");
      return;
    }
    RefusalReason framing = framing(exchange, headers);
    if (framing != null) {
      refusals.refuse(exchange, framing, framingDetail(headers));
      return;
    }
    if (hasControl(exchange.getRequestURI()) || hasControl(exchange.getQueryString())) {
      refusals.refuse(exchange, RefusalReason.BAD_PATH, "");
      return;
    }
    if (underscored != null) {
      switch (underscoreHeaders) {
        case REJECT -> {
          refusals.refuse(exchange, RefusalReason.UNDERSCORE_HEADER, underscored.get(0).toString());
          return;
        }
        case DROP -> {
          for (HttpString name : underscored) headers.remove(name);
        }
        case ALLOW -> {}
      }
    }
    if (headers.contains(Headers.TRANSFER_ENCODING)) {
      try {
        boolean unused = StrictChunkedConduit.install(exchange, refusals);
      } catch (java.io.IOException e) {
        refusals.refuse(exchange, RefusalReason.BAD_CHUNKED_BODY, String.valueOf(e.getMessage()));
        return;
      }
    }
    next.handleRequest(exchange);
  }

  /** Method, space, target, space, version: what the client sent on its first line. */
  private static int requestLineLength(HttpServerExchange exchange) {
    String query = exchange.getQueryString();
    return exchange.getRequestMethod().length()
        + 1
        + exchange.getRequestURI().length()
        + (query.isEmpty() ? 0 : query.length() + 1)
        + 1
        + exchange.getProtocol().length();
  }

  /**
   * RFC 9112 §6.1 and §6.3, strictly: Transfer-Encoding only on HTTP/1.1, a list of tokens whose
   * last is {@code chunked} and which names {@code chunked} once (else 400; a chunked message with
   * another coding before it gets 501, as hoptrace decodes none); Content-Length only as plain
   * digits. Undertow has already refused both together and either one repeated.
   */
  static @Nullable RefusalReason framing(HttpServerExchange exchange, HeaderMap headers) {
    String te = headers.getFirst(Headers.TRANSFER_ENCODING);
    if (te != null) {
      if (!exchange.getProtocol().equals(Protocols.HTTP_1_1)) {
        return RefusalReason.BAD_TRANSFER_ENCODING;
      }
      return transferEncoding(te);
    }
    String cl = headers.getFirst(Headers.CONTENT_LENGTH);
    if (cl != null && !isContentLength(cl)) return RefusalReason.BAD_CONTENT_LENGTH;
    return null;
  }

  /** null when {@code value} is exactly one {@code chunked}, last, after optional other codings. */
  static @Nullable RefusalReason transferEncoding(String value) {
    int chunked = 0;
    boolean other = false;
    boolean lastIsChunked = false;
    int i = 0;
    int n = value.length();
    while (true) {
      while (i < n && isOws(value.charAt(i))) i++;
      int start = i;
      while (i < n && isTokenChar(value.charAt(i))) i++;
      int end = i;
      while (i < n && isOws(value.charAt(i))) i++;
      if (start == end) return RefusalReason.BAD_TRANSFER_ENCODING; // empty or non-token
      boolean isChunked = value.regionMatches(true, start, "chunked", 0, 7) && end - start == 7;
      if (isChunked) {
        chunked++;
      } else {
        other = true;
      }
      lastIsChunked = isChunked;
      if (i == n) break;
      if (value.charAt(i) != ',') return RefusalReason.BAD_TRANSFER_ENCODING; // quote, ;, VT...
      i++;
    }
    if (!lastIsChunked || chunked != 1) return RefusalReason.BAD_TRANSFER_ENCODING;
    return other ? RefusalReason.UNSUPPORTED_TRANSFER_CODING : null;
  }

  /** 1 to 18 decimal digits: no sign, no hex, no list, no overflow. */
  static boolean isContentLength(String value) {
    int n = value.length();
    if (n == 0 || n > 18) return false;
    for (int i = 0; i < n; i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') return false;
    }
    return true;
  }

  private static String framingDetail(HeaderMap headers) {
    String te = headers.getFirst(Headers.TRANSFER_ENCODING);
    String text =
        te != null
            ? "Transfer-Encoding: " + te
            : "Content-Length: " + headers.getFirst(Headers.CONTENT_LENGTH);
    return text.length() > 100 ? text.substring(0, 100) : text;
  }

  /** A raw control character, or one percent-encoded (%00-%1F, %7F). */
  static boolean hasControl(String target) {
    int n = target.length();
    for (int i = 0; i < n; i++) {
      char c = target.charAt(i);
      if (c < 0x20 || c == 0x7f) return true;
      if (c == '%' && i + 2 < n) {
        int hi = Character.digit(target.charAt(i + 1), 16);
        int lo = Character.digit(target.charAt(i + 2), 16);
        if (hi >= 0 && lo >= 0) {
          int decoded = hi * 16 + lo;
          if (decoded < 0x20 || decoded == 0x7f) return true;
        }
      }
    }
    return false;
  }

  private static boolean isOws(char c) {
    return c == ' ' || c == '\t';
  }

  /** RFC 9110 tchar. */
  static boolean isTokenChar(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || (c < 0x80 && "!#$%&'*+-.^_`|~".indexOf(c) >= 0);
  }
}
