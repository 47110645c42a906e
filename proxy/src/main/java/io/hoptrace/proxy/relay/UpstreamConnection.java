package io.hoptrace.proxy.relay;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import org.jspecify.annotations.Nullable;
import org.xnio.IoUtils;
import org.xnio.StreamConnection;

/**
 * One connection of the byte relay to an upstream (the app, inbound; a callee, outbound), on one
 * I/O thread: lent to one request at a time ({@link #owner}), idle in its thread's pool for that
 * upstream in between ({@link ByteRelay.Pool}). Its read and write readiness go to the request that
 * holds it; while idle, a read means the upstream closed it (or sent what nobody asked for), and it
 * is closed.
 */
final class UpstreamConnection {
  final StreamConnection connection;
  final @Nullable SocketAddress local;
  final @Nullable SocketAddress peer;
  private final ByteRelay.Pool pool;
  @Nullable RelayedConnection owner;
  int requests;
  long idleSince;
  private boolean closed;

  UpstreamConnection(StreamConnection connection, ByteRelay.Pool pool) {
    this.connection = connection;
    this.pool = pool;
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
      // idle: the upstream closed its side, or sent bytes nobody asked for
      int n = connection.getSourceChannel().read(ByteBuffer.allocate(1));
      if (n == 0) return;
    } catch (IOException e) {
      // reset: closed below
    }
    pool.idleClosed(this);
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
    pool.closed(this);
  }
}
