package io.hoptrace.proxy.outbound;

import static java.util.Objects.requireNonNull;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Where one outbound request goes: the callee's host and port, and the named route it came through
 * (null on the forward-proxy port). A value with a record's accessors, equality and text; a class
 * only so that it keeps its {@link #authority()}, which every outbound request reads two to three
 * times (bench/README.md, "Allocation per request (s14)").
 */
public final class OutboundTarget {
  private final String host;
  private final int port;
  private final @Nullable String route;
  private final String authority;

  /**
   * @param host a host name or an address literal (an IPv6 literal without brackets)
   * @param port 1..65535
   * @param route the route name, or null for the forward proxy and CONNECT
   */
  public OutboundTarget(String host, int port, @Nullable String route) {
    requireNonNull(host, "host");
    if (host.isEmpty()) throw new IllegalArgumentException("host: \"\" (expected: a host)");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port: " + port + " (expected: 1..65535)");
    }
    this.host = host;
    this.port = port;
    this.route = route;
    this.authority = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }

  /** A host name or an address literal (an IPv6 literal without brackets). */
  public String host() {
    return host;
  }

  /** 1..65535. */
  public int port() {
    return port;
  }

  /** The route name, or null for the forward proxy and CONNECT. */
  public @Nullable String route() {
    return route;
  }

  /** {@code host:port}, with an IPv6 literal in brackets: the Host header and CONNECT authority. */
  public String authority() {
    return authority;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof OutboundTarget t
        && host.equals(t.host)
        && port == t.port
        && Objects.equals(route, t.route);
  }

  @Override
  public int hashCode() {
    return Objects.hash(host, port, route);
  }

  @Override
  public String toString() {
    return "OutboundTarget[host=" + host + ", port=" + port + ", route=" + route + "]";
  }

  /**
   * Parses an authority {@code host:port} or {@code [v6]:port}; null when malformed or the port is
   * missing and {@code defaultPort} is 0. Wire input: never throws.
   */
  public static @Nullable OutboundTarget parseAuthority(String authority, int defaultPort) {
    String host;
    String portText = null;
    if (authority.startsWith("[")) {
      int close = authority.indexOf(']');
      if (close < 0) return null;
      host = authority.substring(1, close);
      if (close + 1 < authority.length()) {
        if (authority.charAt(close + 1) != ':') return null;
        portText = authority.substring(close + 2);
      }
    } else {
      int colon = authority.lastIndexOf(':');
      if (colon >= 0 && authority.indexOf(':') != colon) return null; // bare IPv6: needs brackets
      host = colon < 0 ? authority : authority.substring(0, colon);
      if (colon >= 0) portText = authority.substring(colon + 1);
    }
    if (host.isEmpty() || !isHostText(host)) return null;
    int port = defaultPort;
    if (portText != null) port = parsePort(portText);
    if (port < 1) return null;
    return new OutboundTarget(host, port, null);
  }

  /** Letters, digits, '.', '-', '_' and ':' (for IPv6): nothing that could smuggle a request. */
  private static boolean isHostText(String host) {
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '.'
              || c == '-'
              || c == '_'
              || c == ':';
      if (!ok) return false;
    }
    return true;
  }

  /** 1..65535, or -1. */
  private static int parsePort(String s) {
    if (s.isEmpty() || s.length() > 5) return -1;
    int port = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') return -1;
      port = port * 10 + (c - '0');
    }
    return port >= 1 && port <= 65535 ? port : -1;
  }
}
