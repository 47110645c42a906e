package io.hoptrace.proxy.tcp;

import static java.nio.channels.SelectionKey.OP_CONNECT;
import static java.nio.channels.SelectionKey.OP_READ;
import static java.nio.channels.SelectionKey.OP_WRITE;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import org.jspecify.annotations.Nullable;

/**
 * One app connection and its upstream connection, relayed byte for byte.
 *
 * <p>Each direction has one pooled buffer, always in fill mode: bytes {@code [0, position)} are
 * read but not yet written. A side is read only while its direction's buffer has room, so a slow
 * reader stops the fast writer (TCP flow control does the rest) and memory stays at two buffers per
 * connection. An end of stream is passed on as a half-close once the buffer drains; the connection
 * closes when both directions have ended, or on the first I/O error (both sides).
 */
final class RelayConnection {
  static final ProtocolObserver DISABLED =
      new ProtocolObserver() {
        @Override
        public void onClientBytes(ByteBuffer chunk) {}

        @Override
        public void onServerBytes(ByteBuffer chunk) {}

        @Override
        public void onClose(@Nullable String error) {}
      };

  final TcpRelay relay;
  final SocketChannel client;
  final SocketChannel server;
  final String upstream;
  final ByteBuffer clientToServer;
  final ByteBuffer serverToClient;
  // Read-only views of the same memory, made once: the observer sees each chunk with no copy and
  // no allocation.
  final ByteBuffer clientToServerView;
  final ByteBuffer serverToClientView;
  ProtocolObserver observer = DISABLED;
  @Nullable SelectionKey clientKey;
  @Nullable SelectionKey serverKey;
  boolean connected;
  boolean clientEnded;
  boolean serverEnded;
  boolean serverOutputShut;
  boolean clientOutputShut;
  boolean closed;
  final long openedNanos = System.nanoTime();

  RelayConnection(TcpRelay relay, SocketChannel client, SocketChannel server, String upstream) {
    this.relay = relay;
    this.client = client;
    this.server = server;
    this.upstream = upstream;
    this.clientToServer = relay.pool.acquire();
    this.serverToClient = relay.pool.acquire();
    this.clientToServerView = clientToServer.asReadOnlyBuffer();
    this.serverToClientView = serverToClient.asReadOnlyBuffer();
  }

  void onReady(SelectionKey key) {
    if (closed) return;
    int ops = key.readyOps();
    if (key == serverKey) {
      if ((ops & OP_CONNECT) != 0 && !finishConnect()) return;
      if ((ops & OP_READ) != 0 && !serverToProxy()) return;
      if ((ops & OP_WRITE) != 0 && !proxyToServer()) return;
    } else {
      if ((ops & OP_READ) != 0 && !clientToProxy()) return;
      if ((ops & OP_WRITE) != 0 && !proxyToClient()) return;
    }
    afterIo();
  }

  /** Returns false when the connection was closed. */
  boolean finishConnect() {
    try {
      if (!server.finishConnect()) return true;
      connected = true;
      return true;
    } catch (IOException e) {
      close("connect " + upstream + ": " + TcpRelay.reason(e));
      return false;
    }
  }

  boolean clientToProxy() {
    int from = clientToServer.position();
    int n;
    try {
      n = client.read(clientToServer);
    } catch (IOException e) {
      close("client: " + TcpRelay.reason(e));
      return false;
    }
    if (n < 0) {
      clientEnded = true;
      return true;
    }
    if (n > 0) {
      try {
        clientToServerView.limit(from + n).position(from);
        observer.onClientBytes(clientToServerView);
      } catch (RuntimeException e) {
        disableObserver();
      }
      return proxyToServer();
    }
    return true;
  }

  boolean serverToProxy() {
    int from = serverToClient.position();
    int n;
    try {
      n = server.read(serverToClient);
    } catch (IOException e) {
      close("server: " + TcpRelay.reason(e));
      return false;
    }
    if (n < 0) {
      serverEnded = true;
      try {
        observer.onServerEnd();
      } catch (RuntimeException e) {
        disableObserver();
      }
      return true;
    }
    if (n > 0) {
      try {
        serverToClientView.limit(from + n).position(from);
        observer.onServerBytes(serverToClientView);
      } catch (RuntimeException e) {
        disableObserver();
      }
      return proxyToClient();
    }
    return true;
  }

  boolean proxyToServer() {
    if (clientToServer.position() == 0 || !connected) return true;
    clientToServer.flip();
    try {
      server.write(clientToServer);
    } catch (IOException e) {
      close("server: " + TcpRelay.reason(e));
      return false;
    } finally {
      clientToServer.compact();
    }
    return true;
  }

  boolean proxyToClient() {
    if (serverToClient.position() == 0) return true;
    serverToClient.flip();
    try {
      client.write(serverToClient);
    } catch (IOException e) {
      close("client: " + TcpRelay.reason(e));
      return false;
    } finally {
      serverToClient.compact();
    }
    return true;
  }

  /** Passes on ends of stream, closes when both directions are done, else re-arms interest. */
  void afterIo() {
    try {
      if (clientEnded && !serverOutputShut && clientToServer.position() == 0) {
        serverOutputShut = true;
        server.shutdownOutput();
      }
      if (serverEnded && !clientOutputShut && serverToClient.position() == 0) {
        clientOutputShut = true;
        client.shutdownOutput();
      }
    } catch (IOException e) {
      close("shutdown: " + TcpRelay.reason(e));
      return;
    }
    if (serverOutputShut && clientOutputShut) {
      close(null);
      return;
    }
    updateInterest();
  }

  void updateInterest() {
    SelectionKey c = clientKey;
    SelectionKey s = serverKey;
    if (c == null || s == null) return;
    int clientOps = 0;
    if (connected && !clientEnded && clientToServer.hasRemaining()) clientOps |= OP_READ;
    if (serverToClient.position() > 0) clientOps |= OP_WRITE;
    int serverOps;
    if (!connected) {
      serverOps = OP_CONNECT;
    } else {
      serverOps = 0;
      if (!serverEnded && serverToClient.hasRemaining()) serverOps |= OP_READ;
      if (clientToServer.position() > 0) serverOps |= OP_WRITE;
    }
    if (c.interestOps() != clientOps) c.interestOps(clientOps);
    if (s.interestOps() != serverOps) s.interestOps(serverOps);
  }

  void disableObserver() {
    // An observer bug must cost its spans, never the app's bytes.
    observer = DISABLED;
    relay.observerFailures.incrementAndGet();
  }

  /** Closes both sides, returns the buffers, then tells the observer. Idempotent. */
  void close(@Nullable String error) {
    if (closed) return;
    closed = true;
    if (clientKey != null) clientKey.cancel();
    if (serverKey != null) serverKey.cancel();
    TcpRelay.closeQuietly(client);
    TcpRelay.closeQuietly(server);
    relay.released(this);
    try {
      observer.onClose(error);
    } catch (RuntimeException e) {
      relay.observerFailures.incrementAndGet();
    }
  }
}
