package io.hoptrace.proxy.tcp;

import static java.util.Objects.requireNonNull;

/**
 * One {@code tcp-routes.<name>} entry: where hoptrace listens, where it relays to, and what the
 * bytes are. Immutable; {@link #of} checks every field the way a bad setting should fail: with the
 * key, the value and what was expected.
 */
public final class TcpRoute {
  final String name;
  final String listenHost;
  final int listenPort;
  final String upstreamHost;
  final int upstreamPort;
  final TcpProtocol protocol;

  TcpRoute(
      String name,
      String listenHost,
      int listenPort,
      String upstreamHost,
      int upstreamPort,
      TcpProtocol protocol) {
    this.name = name;
    this.listenHost = listenHost;
    this.listenPort = listenPort;
    this.upstreamHost = upstreamHost;
    this.upstreamPort = upstreamPort;
    this.protocol = protocol;
  }

  /**
   * A route named {@code name} (the key under {@code tcp-routes}). {@code listenPort} 0 binds an
   * ephemeral port ({@link TcpRelay#port(String)} tells which). {@code upstream} is {@code
   * host:port} or {@code [ipv6]:port}.
   */
  public static TcpRoute of(
      String name, String listenHost, int listenPort, String upstream, TcpProtocol protocol) {
    requireNonNull(name, "name");
    requireNonNull(listenHost, "listenHost");
    requireNonNull(upstream, "upstream");
    requireNonNull(protocol, "protocol");
    String key = "tcp-routes." + name;
    if (name.isEmpty()) throw new IllegalArgumentException("tcp-routes: \"\" (expected: a name)");
    if (listenPort < 0 || listenPort > 65535) {
      throw new IllegalArgumentException(
          key + ".listen: " + listenPort + " (expected: 0..65535, 0 for an ephemeral port)");
    }
    int colon = upstream.lastIndexOf(':');
    String host = colon > 0 ? upstream.substring(0, colon) : "";
    if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
    int port = colon > 0 ? parsePort(upstream, colon + 1) : -1;
    if (host.isEmpty() || port < 1) {
      throw new IllegalArgumentException(
          key + ".upstream: \"" + upstream + "\" (expected: host:port with port 1..65535)");
    }
    return new TcpRoute(name, listenHost, listenPort, host, port, protocol);
  }

  private static int parsePort(String s, int begin) {
    if (begin == s.length() || s.length() - begin > 5) return -1;
    int port = 0;
    for (int i = begin; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') return -1;
      port = port * 10 + (c - '0');
    }
    return port <= 65535 ? port : -1;
  }

  public String name() {
    return name;
  }

  public String listenHost() {
    return listenHost;
  }

  public int listenPort() {
    return listenPort;
  }

  public String upstreamHost() {
    return upstreamHost;
  }

  public int upstreamPort() {
    return upstreamPort;
  }

  public TcpProtocol protocol() {
    return protocol;
  }

  @Override
  public String toString() {
    return "tcp-routes."
        + name
        + " {listen = "
        + listenHost
        + ":"
        + listenPort
        + ", upstream = \""
        + upstreamHost
        + ":"
        + upstreamPort
        + "\", protocol = "
        + protocol.settingName()
        + "}";
  }
}
