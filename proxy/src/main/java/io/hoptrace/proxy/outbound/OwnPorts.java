package io.hoptrace.proxy.outbound;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Arrays;
import java.util.List;

/**
 * The ports this hoptrace listens on (inbound, outbound, routes, admin), filled in as listeners
 * bind: ports may be ephemeral, so they are only known after start. The loop guard refuses a target
 * that is one of them on an address of this host.
 */
public final class OwnPorts {
  // Copied on add (a few, at start-up); read by the loop guard per request without boxing the port.
  private volatile int[] ports = new int[0];

  /** Records a bound port. */
  public synchronized void add(int port) {
    if (contains(port)) return;
    int[] more = Arrays.copyOf(ports, ports.length + 1);
    more[more.length - 1] = port;
    ports = more;
  }

  public boolean contains(int port) {
    for (int p : ports) {
      if (p == port) return true;
    }
    return false;
  }

  /**
   * Whether a target at {@code port} on any of {@code addresses} is one of these listeners: the
   * loop guard's test.
   */
  boolean isOwn(int port, List<InetAddress> addresses) {
    if (!contains(port)) return false;
    for (InetAddress address : addresses) {
      if (isThisHost(address)) return true;
    }
    return false;
  }

  /** Whether {@code address} reaches this host: loopback, the wildcard, or an interface's. */
  static boolean isThisHost(InetAddress address) {
    if (address.isLoopbackAddress() || address.isAnyLocalAddress()) return true;
    try {
      return NetworkInterface.getByInetAddress(address) != null;
    } catch (SocketException e) {
      return false; // cannot tell: the upstream connection will say whether it reaches anything
    }
  }

  @Override
  public String toString() {
    return Arrays.toString(ports);
  }
}
