package io.hoptrace.config;

import static java.util.Objects.requireNonNull;

/** A host (name or address literal) and a port. */
public record HostPort(String host, int port) {
  public HostPort {
    requireNonNull(host, "host");
  }

  /** {@code host:port}, with an IPv6 literal in brackets. */
  @Override
  public String toString() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
