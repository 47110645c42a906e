package io.hoptrace.proxy.guard;

import io.hoptrace.config.Settings;
import io.undertow.Undertow;
import io.undertow.server.DefaultByteBufferPool;
import io.undertow.server.HttpHandler;
import io.undertow.server.protocol.http.HttpOpenListener;
import java.io.IOException;
import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.xnio.ChannelListener;
import org.xnio.ChannelListeners;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.StreamConnection;
import org.xnio.XnioWorker;
import org.xnio.channels.AcceptingChannel;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.ConduitReadableByteChannel;
import org.xnio.conduits.Conduits;
import org.xnio.conduits.StreamSinkConduit;
import org.xnio.conduits.StreamSourceConduit;

/**
 * The head guard: sits at the socket end of a connection's read side, under Undertow's HTTP/1.1
 * parser, and checks every request head's bytes as they are read ({@link HeadScanner}) before the
 * parser sees them. A head that breaks the rules never reaches the parser: this conduit answers it
 * itself on the raw connection (the status, {@code Connection: close}, {@code Proxy-Status}, a
 * one-line body, as {@link Refusals#refuse} does), writes the refusal's span line and counter, and
 * ends the connection (the parser reads end of stream and closes).
 *
 * <p>When the bad head follows complete requests in the same read, those are passed on first and
 * the answer waits for the parser's next read, which comes once their exchanges are done (Undertow
 * reads no further while an exchange runs, then resumes reads, which wakes it here; and pipelined
 * responses are not buffered: {@link ListenerLimits} turns {@code BUFFER_PIPELINED_DATA} off). So
 * answers never interleave.
 */
final class HeadGuardConduit extends AbstractStreamSourceConduit<StreamSourceConduit> {
  /** Bytes read and dropped after an answer, so that closing does not reset it away. */
  private static final int DRAIN_LIMIT = 256 * 1024;

  private final HeadScanner scanner;
  private final StreamSinkConduit socketSink;
  private final StreamConnection connection;
  private final Refusals refusals;
  // Set on the I/O thread; read by resumeReads, which Undertow may call from a worker thread.
  private volatile boolean pending;
  private boolean ended;
  private boolean off;

  private HeadGuardConduit(
      StreamSourceConduit next,
      StreamSinkConduit socketSink,
      StreamConnection connection,
      HeadScanner scanner,
      Refusals refusals) {
    super(next);
    this.socketSink = socketSink;
    this.connection = connection;
    this.scanner = scanner;
    this.refusals = refusals;
  }

  /** Puts a head guard at the socket end of {@code connection}'s read side. */
  static void install(StreamConnection connection, Settings.Limits limits, Refusals refusals) {
    var source = connection.getSourceChannel();
    source.setConduit(
        new HeadGuardConduit(
            source.getConduit(),
            connection.getSinkChannel().getConduit(),
            connection,
            new HeadScanner(limits.maxRequestLine(), limits.maxHeaderBytes(), limits.maxHeaders()),
            refusals));
  }

  /**
   * Binds an HTTP/1.1 listener on {@code worker} whose every connection gets a head guard before
   * Undertow's open listener sees it, from the first connection accepted: the guard is part of the
   * accept listener before accepting begins. (Installed into a listener Undertow had started, a
   * connection accepted in between would have met the parser unguarded.) Built as Undertow 2.4's
   * {@code Undertow.start()} builds an HTTP listener: its socket defaults, then {@code
   * socketOptions}; its open listener with {@code serverOptions}, over a buffer pool of {@link
   * ListenerLimits#BUFFER_SIZE} direct buffers.
   *
   * <p>It also counts the listener's open connections ({@link Bound#openConnections()}): one
   * increment when a connection is accepted, one decrement from its close listener. That replaces
   * Undertow's connector statistics, which cost every exchange two atomic increments, a max loop
   * and a completion listener, and every read and write an add to counters both I/O threads share.
   * XNIO (3.8.16) runs every close listener set on a connection, in the order set ({@code
   * StreamConnection.setCloseListener} merges a new one with the one before), so Undertow's own
   * (set after ours, by the open listener) and a tunnel's (set at its start) do not displace it;
   * and it runs a close listener set after the close at once. So the count drops once per
   * connection, whichever way it closes: by the client, a reset, a timeout, a refused head, a
   * tunnel's end.
   */
  static Bound listen(
      XnioWorker worker,
      InetSocketAddress address,
      OptionMap serverOptions,
      OptionMap socketOptions,
      HttpHandler root,
      Settings.Limits limits,
      Refusals refusals,
      @Nullable ConnectionFront front)
      throws IOException {
    HttpOpenListener open =
        new HttpOpenListener(
            new DefaultByteBufferPool(true, ListenerLimits.BUFFER_SIZE, -1, 4), serverOptions);
    open.setRootHandler(root);
    AtomicLong openConnections = new AtomicLong();
    ChannelListener<StreamConnection> closed = connection -> openConnections.decrementAndGet();
    ChannelListener<StreamConnection> guarded =
        connection -> {
          openConnections.incrementAndGet();
          connection.setCloseListener(closed); // first, so that it runs if the next steps close it
          install(connection, limits, refusals);
          if (front != null) {
            front.open(connection, open);
          } else {
            open.handleEvent(connection);
          }
        };
    OptionMap socket =
        OptionMap.builder()
            .set(Options.WORKER_IO_THREADS, worker.getIoThreadCount())
            .set(Options.TCP_NODELAY, true)
            .set(Options.REUSE_ADDRESSES, true)
            .set(Options.BALANCING_TOKENS, 1)
            .set(Options.BALANCING_CONNECTIONS, 2)
            .set(Options.BACKLOG, 1000)
            .addAll(socketOptions)
            .getMap();
    AcceptingChannel<StreamConnection> channel =
        worker.createStreamConnectionServer(
            address, ChannelListeners.openListenerAdapter(guarded), socket);
    channel.resumeAccepts();
    return new Bound(
        new Undertow.ListenerInfo("http", channel.getLocalAddress(), open, null, channel),
        channel,
        openConnections);
  }

  /**
   * A listener {@link #listen} bound: as Undertow describes it, its accepting channel, and the
   * number of its connections open now (accepted and not yet closed; read by any thread).
   */
  record Bound(
      Undertow.ListenerInfo info,
      AcceptingChannel<StreamConnection> channel,
      AtomicLong openConnections) {}

  /**
   * Stops checking on {@code connection}: its bytes are no longer HTTP heads (a protocol switch, as
   * after a WebSocket 101). Call on the connection's I/O thread, before the first byte of the new
   * protocol is read. Returns whether a head guard was found (none on a listener without one).
   */
  static boolean release(StreamConnection connection) {
    StreamSourceConduit conduit = connection.getSourceChannel().getConduit();
    // Undertow puts conduits of its own above ours (idle timeout, read-ahead data);
    // none offers its delegate, so each is asked by its one field holding the conduit below.
    for (int depth = 0; depth < 8; depth++) {
      if (conduit instanceof HeadGuardConduit guard) {
        guard.off = true;
        return true;
      }
      StreamSourceConduit below = below(conduit);
      if (below == null) return false;
      conduit = below;
    }
    return false;
  }

  private static @org.jspecify.annotations.Nullable StreamSourceConduit below(
      StreamSourceConduit conduit) {
    for (Class<?> c = conduit.getClass(); c != null; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (!StreamSourceConduit.class.isAssignableFrom(f.getType())
            && f.getType() != org.xnio.conduits.Conduit.class) {
          continue;
        }
        try {
          f.setAccessible(true);
          if (f.get(conduit) instanceof StreamSourceConduit next && next != conduit) return next;
        } catch (ReflectiveOperationException | RuntimeException e) {
          return null;
        }
      }
    }
    return null;
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    if (ended) return -1;
    if (pending) return answer(dst);
    if (off || scanner.done()) return next.read(dst);
    int start = dst.position();
    int n = next.read(dst);
    if (n <= 0) return n;
    int bad;
    try {
      bad = scanner.scan(dst, start, start + n);
    } catch (RuntimeException e) {
      // A bug here must not take the connection's bytes with it: stop checking, pass them on.
      off = true;
      return n;
    }
    if (bad < 0) return n;
    // Nothing of the bad head goes up: what came before it (whole requests) does.
    int headStart = scanner.headStart();
    int keep = headStart >= start ? headStart : start;
    dst.position(keep);
    pending = true;
    if (keep > start) return keep - start;
    return answer(dst);
  }

  /**
   * Undertow resumes reads when an exchange is done and it wants the next head. With a refused head
   * pending (hidden from it), no bytes are left to wake it: a wake-up stands in, and its read gets
   * the answer.
   */
  @Override
  public void resumeReads() {
    if (pending) {
      next.wakeupReads();
    } else {
      next.resumeReads();
    }
  }

  @Override
  public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
    long total = 0;
    for (int i = offs; i < offs + len; i++) {
      ByteBuffer dst = dsts[i];
      if (!dst.hasRemaining()) continue;
      int n = read(dst);
      if (n < 0) return total == 0 ? n : total;
      total += n;
      if (n == 0 || dst.hasRemaining()) break;
    }
    return total;
  }

  @Override
  public long transferTo(long position, long count, FileChannel target) throws IOException {
    return target.transferFrom(new ConduitReadableByteChannel(this), position, count);
  }

  @Override
  public long transferTo(long count, ByteBuffer throughBuffer, StreamSinkChannel target)
      throws IOException {
    return Conduits.transfer(this, count, throughBuffer, target);
  }

  /**
   * Answers the refused head on the raw connection, once: write, end the output, drop what the
   * client already sent, count, record; the caller then reads end of stream and closes.
   */
  private int answer(ByteBuffer scratch) {
    pending = false;
    ended = true;
    RefusalReason reason = scanner.reason();
    SocketAddress peer = connection.getPeerAddress();
    refusals.refusedHead(
        reason,
        scanner.detail(),
        scanner.method(),
        scanner.path(),
        peer instanceof InetSocketAddress address ? address : null);
    try {
      ByteBuffer out = ByteBuffer.wrap(ANSWERS.get(reason));
      for (int tries = 0; out.hasRemaining() && tries < 4; tries++) {
        if (socketSink.write(out) == 0) break;
      }
      socketSink.terminateWrites();
      socketSink.flush();
    } catch (IOException | RuntimeException e) {
      // the client is gone: nothing to answer; still counted and recorded
    }
    drain(scratch);
    return -1;
  }

  private void drain(ByteBuffer scratch) {
    int mark = scratch.position();
    int dropped = 0;
    try {
      while (scratch.hasRemaining() && dropped < DRAIN_LIMIT) {
        int n = next.read(scratch);
        scratch.position(mark);
        if (n <= 0) break;
        dropped += n;
      }
    } catch (IOException | RuntimeException e) {
      // gone
    }
    scratch.position(mark);
  }

  private static final java.util.Map<RefusalReason, byte[]> ANSWERS = answers();

  private static java.util.Map<RefusalReason, byte[]> answers() {
    java.util.EnumMap<RefusalReason, byte[]> answers = new java.util.EnumMap<>(RefusalReason.class);
    for (RefusalReason reason : RefusalReason.values())
      answers.put(reason, Refusals.rawAnswer(reason));
    return answers;
  }
}
