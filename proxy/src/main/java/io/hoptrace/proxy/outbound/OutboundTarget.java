package io.hoptrace.proxy.outbound;

import static java.util.Objects.requireNonNull;

import io.hoptrace.config.HostPort;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Where one outbound request goes: the callee's host and port, and the named route it came through
 * (null on the forward-proxy port). A value with a record's accessors, equality and text; a class
 * only so that it keeps what every outbound request to it derives from it: its {@link
 * #authority()}, read two to three times (bench/README.md, "Allocation per request (s14)"), its
 * {@link #hostPort()} for the forwarder, and for an address literal its {@link #literalAddresses()}
 * and their first one's text (what the loop guard and the span line took per request: "Outbound
 * path (s17)"). A forward-proxy target is kept per authority ({@code AbsoluteFormHandler}) and a
 * route's for the listener's life, so these are made once per callee, not per request.
 */
public final class OutboundTarget {
  private final String host;
  private final int port;
  private final @Nullable String route;
  private final String authority;
  private final HostPort hostPort;
  private final boolean addressLiteral;
  // For an address literal: what InetAddress.getAllByName gives for it (no name lookup), else null.
  private final @Nullable List<InetAddress> literalAddresses;
  private final @Nullable String firstLiteralText;

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
    this.hostPort = new HostPort(host, port);
    this.addressLiteral = isAddressLiteral(host);
    this.literalAddresses = addressLiteral && parsedWithoutLookup(host) ? allByName(host) : null;
    this.firstLiteralText =
        literalAddresses == null || literalAddresses.isEmpty()
            ? null
            : literalAddresses.get(0).getHostAddress();
  }

  /**
   * Whether {@link InetAddress#getAllByName} takes {@code host} (an {@link #isAddressLiteral}) as a
   * literal, never as a name to look up: a dotted quad, or text with a colon that starts as an IPv6
   * literal can (a hex digit or a colon), which it parses or rejects. Other text with a colon is
   * left to the resolver, each time, as before.
   */
  private static boolean parsedWithoutLookup(String host) {
    return host.indexOf(':') < 0
        || host.charAt(0) == ':'
        || Character.digit(host.charAt(0), 16) >= 0;
  }

  /**
   * {@code getAllByName}: a literal is parsed (no lookup), a name looked up; text it rejects, or a
   * name that does not resolve, has no address.
   */
  private static List<InetAddress> allByName(String host) {
    try {
      return List.of(InetAddress.getAllByName(host));
    } catch (UnknownHostException e) {
      return List.of();
    }
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

  /**
   * The Host header a proxy gives a request to this target (RFC 9112 §3.2.2): its {@link
   * #authority()}, without the port when it is 80.
   */
  public String hostHeader() {
    if (port != 80) return authority;
    return host.indexOf(':') >= 0 ? "[" + host + "]" : host;
  }

  /** The host and port as the {@link io.hoptrace.proxy.upstream.Forwarder} takes them. */
  public HostPort hostPort() {
    return hostPort;
  }

  /** Whether the host is an address literal: nothing to resolve ({@link #isAddressLiteral}). */
  public boolean addressLiteral() {
    return addressLiteral;
  }

  /**
   * For an address literal, its addresses as {@link InetAddress#getAllByName} gives them (one, or
   * none if it rejects the text); null for a host name, which must be resolved when it is used.
   */
  public @Nullable List<InetAddress> literalAddresses() {
    return literalAddresses;
  }

  /**
   * Its addresses: a literal's as parsed, a name's looked up each time (it blocks: off the I/O
   * thread); none for a name that does not resolve.
   */
  public List<InetAddress> addresses() {
    List<InetAddress> literal = literalAddresses;
    return literal != null ? literal : allByName(host);
  }

  /**
   * The text ({@link InetAddress#getHostAddress}) of {@code address} when it is this literal's
   * first address (the one the loop guard attaches), else {@code address.getHostAddress()}.
   */
  public String addressText(InetAddress address) {
    List<InetAddress> literal = literalAddresses;
    String text = firstLiteralText;
    if (text != null && literal != null && literal.get(0).equals(address)) return text;
    return address.getHostAddress();
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

  /**
   * True for a host that {@link java.net.InetAddress#getAllByName} parses without a name lookup: a
   * dotted-quad IPv4 address (each part 0-255) or an IPv6 literal (a colon; brackets are already
   * stripped). Anything else counts as a name.
   */
  static boolean isAddressLiteral(String host) {
    if (host.indexOf(':') >= 0) return true;
    int parts = 0;
    int value = -1;
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      if (c == '.') {
        if (value < 0) return false;
        parts++;
        value = -1;
      } else if (c >= '0' && c <= '9') {
        value = (value < 0 ? 0 : value * 10) + (c - '0');
        if (value > 255) return false;
      } else {
        return false;
      }
    }
    return value >= 0 && parts == 3;
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
