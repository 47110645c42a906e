package io.hoptrace.proxy.outbound;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.xnio.ChannelListener;
import org.xnio.IoUtils;
import org.xnio.StreamConnection;
import org.xnio.XnioExecutor;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.channels.StreamSourceChannel;

/**
 * Relays bytes both ways between the app's upgraded CONNECT connection and the callee, counting
 * them. Both connections live on the same XNIO I/O thread (the callee's is opened from the app's
 * thread), so every callback here runs on that one thread and needs no lock.
 *
 * <p>Backpressure: each direction has one buffer; when the receiving side cannot take it all, reads
 * from the sending side stop until it can. Each direction ends on EOF by half-closing the other
 * side; the tunnel ends when both have, on any error, or after {@code idleTimeoutMillis} with no
 * byte either way (so a tunnel whose ends never close does not live for ever).
 *
 * <p>Also the inbound hop's WebSocket relay: there "app" is the caller's upgraded connection and
 * "callee" the connection to the app.
 */
public final class Tunnel {
  /** Called once, on the I/O thread, when the tunnel has closed. */
  public interface Listener {
    void closed(long bytesToCallee, long bytesToApp, @Nullable String error);
  }

  private static final int BUFFER_SIZE = 16 * 1024;

  private final StreamConnection app;
  private final StreamConnection callee;
  private final Listener listener;
  private final long idleTimeoutNanos;
  private final Pump appToCallee;
  private final Pump calleeToApp;
  private long lastActivityNanos = System.nanoTime();
  private XnioExecutor.@Nullable Key idleCheck;
  private boolean closed;

  public Tunnel(
      StreamConnection app, StreamConnection callee, long idleTimeoutMillis, Listener listener) {
    this.app = requireNonNull(app, "app");
    this.callee = requireNonNull(callee, "callee");
    this.listener = requireNonNull(listener, "listener");
    this.idleTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(idleTimeoutMillis);
    this.appToCallee = new Pump(app.getSourceChannel(), callee.getSinkChannel());
    this.calleeToApp = new Pump(callee.getSourceChannel(), app.getSinkChannel());
  }

  /**
   * Bytes already read from the callee (after a response head that was parsed), to be relayed to
   * the app first; at most 16 KiB, before {@link #start}.
   */
  public Tunnel calleeBytesFirst(ByteBuffer bytes) {
    calleeToApp.bytes += bytes.remaining();
    calleeToApp.buffer.put(bytes);
    return this;
  }

  /** Starts relaying; call on the connections' I/O thread. */
  public void start() {
    ChannelListener<StreamConnection> onClose = c -> close(null);
    // Adds to what runs at close: XNIO (3.8.16) merges a close listener with the one set before,
    // so the app connection's earlier ones still run when the tunnel ends (Undertow's, and the
    // head guard's open-connection count: OpenConnectionCountTest). Wrapping getCloseListener()
    // here would run them twice.
    app.setCloseListener(onClose);
    callee.setCloseListener(onClose);
    appToCallee.start();
    calleeToApp.start();
    scheduleIdleCheck(idleTimeoutNanos);
  }

  private void scheduleIdleCheck(long delayNanos) {
    if (idleTimeoutNanos <= 0) return;
    idleCheck = app.getIoThread().executeAfter(this::checkIdle, delayNanos, TimeUnit.NANOSECONDS);
  }

  private void checkIdle() {
    if (closed) return;
    long idle = System.nanoTime() - lastActivityNanos;
    if (idle >= idleTimeoutNanos) {
      close("idle for " + TimeUnit.NANOSECONDS.toMillis(idle) + "ms");
    } else {
      scheduleIdleCheck(idleTimeoutNanos - idle);
    }
  }

  private void close(@Nullable String error) {
    if (closed) return;
    closed = true;
    XnioExecutor.Key key = idleCheck;
    if (key != null) key.remove();
    IoUtils.safeClose(app, callee);
    listener.closed(appToCallee.bytes, calleeToApp.bytes, error);
  }

  private void halfClosed() {
    if (appToCallee.done && calleeToApp.done) close(null);
  }

  /** One direction. */
  private final class Pump implements ChannelListener<StreamSourceChannel> {
    final StreamSourceChannel source;
    final StreamSinkChannel sink;
    final ByteBuffer buffer = ByteBuffer.allocate(BUFFER_SIZE); // always in fill mode
    long bytes;
    boolean eof;
    boolean done;

    Pump(StreamSourceChannel source, StreamSinkChannel sink) {
      this.source = source;
      this.sink = sink;
    }

    void start() {
      source.getReadSetter().set(this);
      sink.getWriteSetter().set(ch -> onWritable());
      if (buffer.position() > 0) {
        sink.resumeWrites(); // what came first goes out first; reads resume once it has
      } else {
        source.resumeReads();
      }
    }

    @Override
    public void handleEvent(StreamSourceChannel channel) {
      try {
        pump();
      } catch (IOException e) {
        close(e.toString());
      }
    }

    private void onWritable() {
      try {
        if (!drain()) return;
        sink.suspendWrites();
        if (eof) {
          finish();
        } else {
          source.resumeReads();
          pump();
        }
      } catch (IOException e) {
        close(e.toString());
      }
    }

    private void pump() throws IOException {
      while (!closed) {
        int n = source.read(buffer);
        if (n > 0) {
          bytes += n;
          lastActivityNanos = System.nanoTime();
        }
        if (!drain()) {
          source.suspendReads();
          sink.resumeWrites();
          if (n < 0) eof = true;
          return;
        }
        if (n < 0) {
          eof = true;
          source.suspendReads();
          finish();
          return;
        }
        if (n == 0) return; // read listener stays armed
      }
    }

    /** Writes what the buffer holds; true when it is all written and flushed. */
    private boolean drain() throws IOException {
      if (buffer.position() > 0) {
        buffer.flip();
        sink.write(buffer);
        boolean all = !buffer.hasRemaining();
        buffer.compact();
        if (!all) return false;
      }
      return sink.flush();
    }

    private void finish() throws IOException {
      sink.shutdownWrites();
      if (!sink.flush()) {
        sink.resumeWrites();
        return;
      }
      done = true;
      halfClosed();
    }
  }
}
