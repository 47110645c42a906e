package io.hoptrace.proxy.inbound;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import org.jspecify.annotations.Nullable;
import org.xnio.IoUtils;
import org.xnio.StreamConnection;

/**
 * One connection of the byte relay to the app, on one I/O thread: lent to one request at a time
 * ({@link #owner}), idle in its thread's pool in between ({@link ByteRelay.Loop}). Its read and
 * write readiness go to the request that holds it; while idle, a read means the app closed it (or
 * sent what nobody asked for), and it is closed.
 */
final class AppConnection {
  final StreamConnection connection;
  final @Nullable SocketAddress local;
  final @Nullable SocketAddress peer;
  private final ByteRelay.Loop loop;
  @Nullable RelayedConnection owner;
  int requests;
  long idleSince;
  private boolean closed;

  AppConnection(StreamConnection connection, ByteRelay.Loop loop) {
    this.connection = connection;
    this.loop = loop;
    this.local = connection.getLocalAddress();
    this.peer = connection.getPeerAddress();
    connection.getSourceChannel().setReadListener(channel -> readable());
    connection.getSinkChannel().setWriteListener(channel -> writable());
    connection.getSourceChannel().resumeReads();
  }

  private void readable() {
    RelayedConnection o = owner;
    if (o != null) {
      o.upReadable();
      return;
    }
    try {
      // idle: the app closed its side, or sent bytes nobody asked for
      int n = connection.getSourceChannel().read(ByteBuffer.allocate(1));
      if (n == 0) return;
    } catch (IOException e) {
      // reset: closed below
    }
    loop.idleClosed(this);
    close();
  }

  private void writable() {
    RelayedConnection o = owner;
    if (o != null) {
      o.upWritable();
    } else {
      connection.getSinkChannel().suspendWrites();
    }
  }

  boolean isOpen() {
    return !closed && connection.isOpen();
  }

  /** Closes it and gives its place back (once). */
  void close() {
    if (closed) return;
    closed = true;
    owner = null;
    IoUtils.safeClose(connection);
    loop.closed(this);
  }
}
