package io.hoptrace.proxy.procfs;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/** Socket addresses from IP literals (no name lookup happens for a literal). */
final class TestAddresses {
  static InetSocketAddress at(String ipLiteral, int port) {
    try {
      return new InetSocketAddress(InetAddress.getAllByName(ipLiteral)[0], port);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(ipLiteral, e);
    }
  }

  private TestAddresses() {}
}
