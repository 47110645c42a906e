package io.hoptrace.proxy.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * A loopback port that refuses connections for as long as this is open: a socket bound to it and
 * never listening.
 *
 * <p>A port taken from a {@code ServerSocket} and closed before the test is only free, not
 * refusing: a listener started meanwhile, or an outgoing connection's ephemeral port (a TCP
 * self-connect, when the code under test connects to it from the same range), can take it, and the
 * test then reads a 200 where it expects a 502 (it happened in CI). A bound socket keeps the port
 * from both, and, not listening, appears in no listening table ({@code /proc/net/tcp} lists it
 * nowhere).
 *
 * <pre>{@code
 * try (RefusedPort refused = new RefusedPort()) {
 *   start("app", "127.0.0.1:" + refused.port());
 *   ...
 * }
 * }</pre>
 */
public final class RefusedPort implements AutoCloseable {
  private final Socket socket = new Socket();

  public RefusedPort() {
    try {
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    } catch (IOException e) {
      close();
      throw new UncheckedIOException("binding a loopback port", e);
    }
  }

  public int port() {
    return socket.getLocalPort();
  }

  public InetSocketAddress address() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), port());
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // Closing a bound, unconnected socket has nothing to flush.
    }
  }
}
