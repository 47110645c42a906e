package io.hoptrace.proxy.procfs;

import static java.util.Objects.requireNonNull;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * A TCP connection as seen from the app's side: local and remote address and port. Addresses are
 * held as two longs in IPv6 form, IPv4 as IPv4-mapped ({@code ::ffff:a.b.c.d}), so that a
 * connection matches whether the app's socket is {@code AF_INET} (row in {@code /proc/net/tcp}) or
 * a dual-stack {@code AF_INET6} one (row in {@code tcp6} with a mapped address), and whether Java
 * reports the peer as {@code Inet4Address} or not.
 */
public final class SocketKey {
  static final long V4_MAPPED_PREFIX = 0xFFFF_0000_0000L;

  final long localHi;
  final long localLo;
  final int localPort;
  final long remoteHi;
  final long remoteLo;
  final int remotePort;

  SocketKey(
      long localHi, long localLo, int localPort, long remoteHi, long remoteLo, int remotePort) {
    this.localHi = localHi;
    this.localLo = localLo;
    this.localPort = localPort;
    this.remoteHi = remoteHi;
    this.remoteLo = remoteLo;
    this.remotePort = remotePort;
  }

  /**
   * The key of a connection from the app's side. For the app's outbound call to a hoptrace
   * listener, {@code appSideLocal} is the app's ephemeral address (hoptrace's remote) and {@code
   * appSideRemote} the listener (hoptrace's local); for hoptrace's connection to the app, {@code
   * appSideLocal} is the app's address and port and {@code appSideRemote} hoptrace's ephemeral one.
   *
   * @throws IllegalArgumentException if an address is unresolved
   */
  public static SocketKey of(InetSocketAddress appSideLocal, InetSocketAddress appSideRemote) {
    InetAddress local = resolved(appSideLocal, "appSideLocal");
    InetAddress remote = resolved(appSideRemote, "appSideRemote");
    return new SocketKey(
        hi(local),
        lo(local),
        appSideLocal.getPort(),
        hi(remote),
        lo(remote),
        appSideRemote.getPort());
  }

  /** True when both addresses are IPv4 (or IPv4-mapped): the row may be in tcp or in tcp6. */
  boolean isV4() {
    return isV4(localHi, localLo) && isV4(remoteHi, remoteLo);
  }

  static boolean isV4(long hi, long lo) {
    return hi == 0 && (lo >>> 32) == 0xFFFFL;
  }

  boolean matches(long lHi, long lLo, int lPort, long rHi, long rLo, int rPort) {
    return lPort == localPort
        && rPort == remotePort
        && lLo == localLo
        && rLo == remoteLo
        && lHi == localHi
        && rHi == remoteHi;
  }

  private static InetAddress resolved(InetSocketAddress a, String name) {
    requireNonNull(a, name);
    InetAddress address = a.getAddress();
    if (address == null) {
      throw new IllegalArgumentException(name + ": " + a + " (expected: a resolved address)");
    }
    return address;
  }

  static long hi(InetAddress a) {
    if (a instanceof Inet4Address) {
      return 0;
    }
    byte[] b = a.getAddress();
    return bytesToLong(b, 0);
  }

  static long lo(InetAddress a) {
    byte[] b = a.getAddress();
    if (a instanceof Inet4Address) {
      return V4_MAPPED_PREFIX | (bytesToLong4(b) & 0xFFFF_FFFFL);
    }
    return bytesToLong(b, 8);
  }

  private static long bytesToLong4(byte[] b) {
    return ((b[0] & 0xFFL) << 24) | ((b[1] & 0xFFL) << 16) | ((b[2] & 0xFFL) << 8) | (b[3] & 0xFFL);
  }

  private static long bytesToLong(byte[] b, int off) {
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (b[off + i] & 0xFFL);
    }
    return v;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (o == this) {
      return true;
    }
    return o instanceof SocketKey that
        && matches(
            that.localHi,
            that.localLo,
            that.localPort,
            that.remoteHi,
            that.remoteLo,
            that.remotePort);
  }

  @Override
  public int hashCode() {
    int h = Long.hashCode(localLo);
    h = 31 * h + Long.hashCode(localHi);
    h = 31 * h + localPort;
    h = 31 * h + Long.hashCode(remoteLo);
    h = 31 * h + Long.hashCode(remoteHi);
    return 31 * h + remotePort;
  }

  @Override
  public String toString() {
    return address(localHi, localLo)
        + ":"
        + localPort
        + "->"
        + address(remoteHi, remoteLo)
        + ":"
        + remotePort;
  }

  static String address(long hi, long lo) {
    if (isV4(hi, lo)) {
      return ((lo >>> 24) & 0xFF)
          + "."
          + ((lo >>> 16) & 0xFF)
          + "."
          + ((lo >>> 8) & 0xFF)
          + "."
          + (lo & 0xFF);
    }
    return "[" + Long.toHexString(hi) + ":" + Long.toHexString(lo) + "]";
  }
}
