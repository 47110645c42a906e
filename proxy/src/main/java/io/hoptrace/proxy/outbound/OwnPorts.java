package io.hoptrace.proxy.outbound;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The ports this hoptrace listens on (inbound, outbound, routes, admin), filled in as listeners
 * bind: ports may be ephemeral, so they are only known after start. The loop guard refuses a target
 * that is one of them on an address of this host.
 */
public final class OwnPorts {
  private final Set<Integer> ports = ConcurrentHashMap.newKeySet();

  /** Records a bound port. */
  public void add(int port) {
    ports.add(port);
  }

  public boolean contains(int port) {
    return ports.contains(port);
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
    return ports.toString();
  }
}
