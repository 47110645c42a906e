// JBoss, Home of Professional Open Source.
// Copyright 2025 Red Hat, Inc., and individual contributors
// as indicated by the @author tags.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
//  Unless required by applicable law or agreed to in writing, software
//  distributed under the License is distributed on an "AS IS" BASIS,
//  WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
//  See the License for the specific language governing permissions and
//  limitations under the License.
//
// Modified by hoptrace: see the class comment. (Undertow's header as line comments: Error Prone's
// AlmostJavadoc check refuses the "@author" above in a block comment.)
package io.undertow.server.handlers;

import io.undertow.server.HandlerWrapper;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.NetworkUtils;
import io.undertow.util.Protocols;
import io.undertow.util.StatusCodes;
import java.lang.ref.WeakReference;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Handler which check if Host header is properly formed and present.
 *
 * <p><b>hoptrace's copy of Undertow 2.4.4.Final's class</b> ({@link #PATCHED_FOR_UNDERTOW}), same
 * package and name, so that it replaces the original: {@code HttpReadListener} wraps every
 * request's root handler in {@link #WRAPPER} with no option to turn it off, and the original spent
 * ~1 µs and ~350 bytes per request on a valid {@code Host: 127.0.0.1:8080} (a {@code Matcher} of
 * the IPv4 {@code Pattern}, two {@code substring}s, {@code Integer.parseInt} on the port: hoptrace
 * bench/README.md, "Host header check (s17)"). The shaded jar leaves Undertow's own copy out
 * (proxy/pom.xml, bench/jmh/pom.xml); on the test classpath proxy/target/classes comes first.
 *
 * <p>What changed, and only that; every input gives the same outcome as 2.4.4 (the same status,
 * reason phrase and {@code Connection: close}, or the next handler), which {@code
 * HostHeaderHandlerDifferentialTest} checks against the original loaded from the undertow-core jar:
 *
 * <ul>
 *   <li>the port is checked in place ({@link #validPort}) instead of {@code
 *       Integer.parseInt(substring(...))} in a try/catch: the same strings are accepted (an
 *       optional sign, then {@link Character#digit(char, int)} digits, value 1..65535);
 *   <li>the IPv4 dotted quad is checked by hand ({@link #isIp4Exact}), accepting exactly what
 *       {@code NetworkUtils.IP4_EXACT} accepts, instead of a {@code Matcher} per request;
 *   <li>the host part is {@code headerValue[0, hostEnd)} instead of a {@code substring}, except in
 *       the rare IP-literal ({@code [...]}) branch, kept as it was (with the IPv6 regex);
 *   <li>the absolute-form check ({@code getRequestURI().contains(host)}) compares regions in place;
 *   <li>the value's checks are a public static method, {@link #valueCheck}, returning what
 *       handleRequest answers: hoptrace's head guard (io.hoptrace.proxy.guard.HeadScanner) asks it
 *       for an IP-literal Host, so that a Host this class would refuse with a bare 400 (no span
 *       line, no counter) is refused visibly first, as {@code bad_host}.
 *   <li>{@link #WRAPPER} hands out the same handler again for the same root handler (held weakly)
 *       instead of a new one per request (s18: bench/README.md, "Same-loop allocation (s18)").
 * </ul>
 *
 * <p>Written from 2.4.4.Final's own bytecode ({@code javap -c -p} of the undertow-core jar; no
 * sources jar offline), which differs from later sources: 2.4.4 does not refuse an empty Host up
 * front (it passes, except with an absolute-form target).
 *
 * <p>Re-review this file against the new version's original whenever undertow.version changes: the
 * build refuses another version until {@link #PATCHED_FOR_UNDERTOW} and the enforcer rule in
 * proxy/pom.xml say it was done.
 *
 * @author baranowb
 */
public class HostHeaderHandler implements HttpHandler {

  /** The Undertow version whose original this copy replaces (checked by the build and a test). */
  static final String PATCHED_FOR_UNDERTOW = "2.4.4.Final";

  public static final HandlerWrapper WRAPPER = new Wrapper();
  // hoptrace: how many root handlers' wrappers WRAPPER keeps (see Wrapper).
  static final int WRAPPERS_KEPT = 4;

  public static final String STATUS_NO_HOST_HEADER = "No Host Header";
  public static final String STATUS_TOO_MANY_HOST_HEADERS = "Only One Host Header Allowed";
  public static final String STATUS_MALFORMED_PORT = "Host Header Malformed Port";
  public static final String STATUS_MALFORMED_IP_LITERAL = "Host Header Malformed IP-Literal";
  public static final String STATUS_MALFORMED_IP_LITERAL_BAD_CHARS = "Host Header Bad Characters";
  public static final String STATUS_HOST_NO_MATCH = "URI Host Header NO MATCH";
  // hoptrace: valueCheck's refusals (~index), in VALUE_REFUSALS' order.
  private static final int MALFORMED_IP_LITERAL = 0;
  private static final int MALFORMED_PORT = 1;
  private static final int BAD_CHARS = 2;

  /** The reason phrases of {@link #valueCheck}'s refusals, by {@code ~result}. */
  public static final List<String> VALUE_REFUSALS =
      List.of(
          STATUS_MALFORMED_IP_LITERAL,
          STATUS_MALFORMED_PORT,
          STATUS_MALFORMED_IP_LITERAL_BAD_CHARS);

  private static final Pattern IP6_EXACT = Pattern.compile(NetworkUtils.IP6_EXACT);
  private static final boolean[] ALLOWED_REGNAME_CHARACTERS = new boolean[256];
  private static final boolean[] HEX_CHARACTERS = new boolean[256];
  // ALLOWED_REGNAME_CHARACTERS with ':' as well
  private static final boolean[] ALLOWED_IPv_FUTURE_CHARACTERS = new boolean[256];

  static {
    // reg-name = *( unreserved / pct-encoded / sub-delims )
    // ALPHA / DIGIT / "-" / "." / "_" / "~" , %%, and "!" / "$" / "&" / "'" / "(" / ")" / "*" /
    // "+" / "," / ";" / "="
    for (int i = 0; i < ALLOWED_REGNAME_CHARACTERS.length; ++i) {
      if ((i >= '0' && i <= '9') || (i >= 'a' && i <= 'z') || (i >= 'A' && i <= 'Z')) {
        ALLOWED_REGNAME_CHARACTERS[i] = true;
        ALLOWED_IPv_FUTURE_CHARACTERS[i] = true;
      } else {
        switch (i) {
          case '-', '.', '_', '~', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=' -> {
            ALLOWED_REGNAME_CHARACTERS[i] = true;
            ALLOWED_IPv_FUTURE_CHARACTERS[i] = true;
          }
          default -> {
            ALLOWED_REGNAME_CHARACTERS[i] = false;
            ALLOWED_IPv_FUTURE_CHARACTERS[i] = false;
          }
        }
      }
    }
    ALLOWED_IPv_FUTURE_CHARACTERS[':'] = true;
    for (int i = 0; i < HEX_CHARACTERS.length; ++i) {
      HEX_CHARACTERS[i] =
          (i >= '0' && i <= '9') || (i >= 'a' && i <= 'f') || (i >= 'A' && i <= 'F');
    }
  }

  private final HttpHandler next;

  public HostHeaderHandler(HttpHandler next) {
    this.next = next;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    // 400 if in case of no Host header or more than one:
    // https://datatracker.ietf.org/doc/html/rfc7230#section-5.4
    // 400 if value violate rules. Host = uri-host [ ":" port ]
    // uri-host https://datatracker.ietf.org/doc/html/rfc3986#section-3.2.2
    // port https://datatracker.ietf.org/doc/html/rfc3986#section-3.2.3
    final HeaderValues headerValues = exchange.getRequestHeaders().get(Headers.HOST);
    final HttpString protocol = exchange.getProtocol();

    if (protocol.equals(Protocols.HTTP_0_9) || protocol.equals(Protocols.HTTP_1_0)) {
      if (headerValues == null) {
        next.handleRequest(exchange);
        return;
      }
    }
    if (headerValues == null || headerValues.size() == 0) {
      terminate(exchange, STATUS_NO_HOST_HEADER);
      return;
    } else if (headerValues.size() > 1) {
      terminate(exchange, STATUS_TOO_MANY_HOST_HEADERS);
      return;
    }

    final String headerValue = headerValues.element();
    // hoptrace: the value's checks are valueCheck (hoptrace's head guard calls it too)
    final int hostEnd = valueCheck(headerValue);
    if (hostEnd < 0) {
      terminate(exchange, VALUE_REFUSALS.get(~hostEnd));
      return;
    }
    // NOTE: at this point if userinfo("@") was present in host, it would have failed
    // we need only to check if Host header value is contained within URI if its absolute or
    // authority
    if (exchange.isHostIncludedInRequestURI()) {
      if (!contains(exchange.getRequestURI(), headerValue, hostEnd)) {
        terminate(exchange, STATUS_HOST_NO_MATCH);
        return;
      }
      if (hostEnd == 0) {
        terminate(exchange, STATUS_HOST_NO_MATCH);
        return;
      }
    }

    next.handleRequest(exchange);
  }

  /**
   * hoptrace: the checks of a Host value, {@code uri-host [ ":" port ]}, as 2.4.4's {@code
   * handleRequest} ran them inline (moved here unchanged but for the return): the end of the host
   * part ({@code value[0, hostEnd)}, 0 or more) when the value passes, else {@code ~i} with {@code
   * i} the index of the refusal's reason phrase in {@link #VALUE_REFUSALS}. hoptrace's head guard
   * calls it for an IP-literal Host, so that those it would refuse are refused visibly first.
   */
  public static int valueCheck(String headerValue) {
    // uri-host [ ":" port ]: an IP-literal contains ':' too, so the port is the part after the
    // last ':' only when that ':' follows the last ']'.
    final int rightBracketIndex = headerValue.lastIndexOf(']');
    final int lastColonIndex = headerValue.lastIndexOf(':');

    // hoptrace: the host is headerValue[0, hostEnd) (2.4.4: a substring, hostHeaderURI)
    final int hostEnd;
    if (rightBracketIndex < lastColonIndex) {
      // IP-literal = "[" ( IPv6address / IPvFuture ) "]" - without right bracket
      if (rightBracketIndex == -1 && headerValue.startsWith("[")) {
        return ~MALFORMED_IP_LITERAL;
      }
      if (!validPort(headerValue, lastColonIndex + 1)) {
        return ~MALFORMED_PORT;
      }
      hostEnd = lastColonIndex;
    } else {
      hostEnd = headerValue.length();
    }

    // 2.4.4: hostHeaderURI.indexOf('[') == 0
    final boolean hostStartsWithBracket = hostEnd > 0 && headerValue.charAt(0) == '[';
    if (rightBracketIndex > 0 && !hostStartsWithBracket) {
      // 1:2:4]*
      return ~MALFORMED_IP_LITERAL;
    } else if (rightBracketIndex > 0) {
      // IPv6 or IPFuture, as in 2.4.4 (rare: substrings and the IPv6 regex kept)
      // IP-literal = "[" ( IPv6address / IPvFuture ) "]"
      // IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
      final String hostHeaderURI = headerValue.substring(0, hostEnd);
      final String debracked = hostHeaderURI.substring(1, hostHeaderURI.length() - 1);
      if (debracked.startsWith("v")) {
        final int dotIndex = debracked.indexOf(".");
        if (dotIndex < 2) {
          // we need at least one HEX
          return ~MALFORMED_IP_LITERAL;
        }
        final String hex = debracked.substring(1, dotIndex);
        for (int i = 0; i < hex.length(); i++) {
          final char c1 = hex.charAt(i);
          if (!HEX_CHARACTERS[c1]) {
            return ~BAD_CHARS;
          }
        }
        if (dotIndex + 1 >= debracked.length()) {
          // we need some character behind dot.
          return ~MALFORMED_IP_LITERAL;
        }
        for (int i = dotIndex + 1; i < debracked.length(); i++) {
          final char c = debracked.charAt(i);
          if (!ALLOWED_IPv_FUTURE_CHARACTERS[c]) {
            return ~BAD_CHARS;
          }
        }
      } else {
        // This will match IPv6 and IPv6 with embedded IPv4
        if (!IP6_EXACT.matcher(debracked).matches()) {
          return ~MALFORMED_IP_LITERAL;
        }
      }
    } else if (isIp4Exact(headerValue, hostEnd)) {
      // IPv4. Only a shortcut: a dotted quad is digits and dots, which the reg-name loop below
      // accepts as well (so does it 256.1.1.1, a valid reg-name).
    } else {
      // registered name can contain . and digits, so it technically overlap IPv4.
      // at this point we can really only check if its valid char or percent encoding.
      // (A char above 255 throws ArrayIndexOutOfBoundsException here, as in 2.4.4.)
      for (int index = 0; index < hostEnd; index++) {
        final char c = headerValue.charAt(index);
        if (c == '%') {
          // we need at least two more that are HEX
          if (index + 2 < hostEnd) {
            char c1 = headerValue.charAt(++index);
            char c2 = headerValue.charAt(++index);
            if (!(HEX_CHARACTERS[c1] && HEX_CHARACTERS[c2])) {
              return ~BAD_CHARS;
            }
          } else {
            // we dont have at least two chars(hex), so its not proper percent escape
            return ~MALFORMED_IP_LITERAL;
          }
        } else if (!ALLOWED_REGNAME_CHARACTERS[c]) {
          return ~BAD_CHARS;
        }
      }
    }
    return hostEnd;
  }

  /**
   * Whether {@code Integer.parseInt(value.substring(from))} would return 1..65535, without the
   * substring or the exception: an optional sign, then one or more {@link Character#digit(char,
   * int)} digits (any Unicode decimal digit, as parseInt takes), value 1..65535. A '-' can only
   * give a value of 0 or less (or a NumberFormatException): invalid either way.
   */
  static boolean validPort(String value, int from) {
    final int end = value.length();
    int i = from;
    if (i >= end) return false;
    final char first = value.charAt(i);
    if (first < '0') { // parseInt's test for a sign
      if (first != '+') return false; // '-' or not a sign
      if (++i == end) return false; // a lone sign
    }
    int port = 0;
    for (; i < end; i++) {
      final int digit = Character.digit(value.charAt(i), 10);
      if (digit < 0) return false;
      port = port * 10 + digit;
      if (port > 65535) return false; // out of range, or parseInt's overflow: the same outcome
    }
    return port > 0;
  }

  /**
   * Whether {@code value[0, end)} matches {@code NetworkUtils.IP4_EXACT}: four dot-separated octets
   * of ASCII digits, each one or two digits (leading zeros allowed: "01", "00"), or three digits
   * from 100 to 255 (so "012" and "256" are not octets).
   */
  static boolean isIp4Exact(String value, int end) {
    int i = 0;
    for (int octet = 0; octet < 4; octet++) {
      if (octet > 0) {
        if (i >= end || value.charAt(i) != '.') return false;
        i++;
      }
      final int start = i;
      while (i < end && i - start < 4 && isAsciiDigit(value.charAt(i))) i++;
      switch (i - start) {
        case 1, 2 -> {}
        case 3 -> {
          final char c0 = value.charAt(start);
          final char c1 = value.charAt(start + 1);
          final char c2 = value.charAt(start + 2);
          final boolean octetValue =
              c0 == '1' || (c0 == '2' && (c1 < '5' || (c1 == '5' && c2 <= '5')));
          if (!octetValue) return false;
        }
        default -> {
          return false; // none, or four or more digits
        }
      }
    }
    return i == end;
  }

  private static boolean isAsciiDigit(char c) {
    return c >= '0' && c <= '9';
  }

  /** {@code uri.contains(value.substring(0, end))} without the substring. */
  private static boolean contains(String uri, String value, int end) {
    for (int i = 0, last = uri.length() - end; i <= last; i++) {
      if (uri.regionMatches(i, value, 0, end)) return true;
    }
    return false;
  }

  private void terminate(final HttpServerExchange exchange, final String message) {
    exchange.setStatusCode(StatusCodes.BAD_REQUEST);
    exchange.setResponseContentLength(0);
    exchange.getResponseHeaders().add(Headers.CONNECTION, Headers.CLOSE.toString());
    exchange.setReasonPhrase(message);
    exchange.endExchange();
  }

  /**
   * hoptrace: {@code HttpReadListener} wraps the connection's root handler on every request, and a
   * listener's root handler does not change; the handler is stateless but for {@code next}, so the
   * wrappers of the last {@value #KEPT} root handlers are handed out again instead of a new one per
   * request (16 bytes). Held weakly, so that no stopped server's handlers stay reachable from here:
   * a collected one is made again on its listener's next request.
   */
  private static final class Wrapper implements HandlerWrapper {
    static final int KEPT = WRAPPERS_KEPT;

    private static final class Kept extends WeakReference<HostHeaderHandler> {
      Kept(HostHeaderHandler handler) {
        super(handler);
      }
    }

    // Most recent first; replaced, never changed (read without a lock on any IO thread).
    private volatile Kept[] kept = new Kept[0];

    @Override
    public HttpHandler wrap(HttpHandler handler) {
      Kept[] k = kept;
      for (Kept ref : k) {
        HostHeaderHandler h = ref.get();
        if (h != null && h.next == handler) return h;
      }
      HostHeaderHandler made = new HostHeaderHandler(handler);
      Kept[] more = new Kept[KEPT];
      int n = 0;
      more[n++] = new Kept(made);
      for (Kept ref : k) {
        if (n == KEPT) break;
        if (ref.get() != null) more[n++] = ref;
      }
      kept = Arrays.copyOf(more, n);
      return made;
    }
  }
}
