package io.hoptrace.proxy.relay;

import io.hoptrace.config.Settings;
import io.hoptrace.proxy.guard.ConnectionFront;
import io.hoptrace.proxy.guard.DrainHandler;
import io.hoptrace.proxy.guard.GuardHandlers;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.proxy.upstream.HopByHop;
import io.undertow.connector.ByteBufferPool;
import io.undertow.server.DefaultByteBufferPool;
import io.undertow.server.protocol.http.HttpOpenListener;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;
import org.xnio.ChannelListeners;
import org.xnio.IoFuture;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.StreamConnection;
import org.xnio.XnioExecutor;
import org.xnio.XnioIoThread;

/**
 * A hop as a byte relay: takes each connection its listener accepts (the head guard already under
 * it) and carries its plain HTTP/1.1 requests itself, reading each request head once as bytes and
 * writing the upstream's head from it, without building an exchange, a header map or an upstream
 * client request. Bodies with a Content-Length and every response framing (Content-Length, chunked,
 * close-delimited) pass through as they are. The hop's own work (its trace context, the fields it
 * adds, its span line) is its subclass's: {@code inbound.InboundRelay}, {@code
 * outbound.OutboundRelay}; the state machine is {@link RelayedConnection}'s.
 *
 * <p>A request it does not take as plain — an upgrade, {@code Expect}, a chunked body, another
 * version than 1.1, a target it does not take, {@code Connection} tokens other than {@code
 * keep-alive}/{@code close}, a head larger than its buffer — and any request while hoptrace sheds
 * load or drains, hands its connection, with the bytes read and not used, to the Undertow path for
 * good: that path answers it as it always does (refusals included). So the relay never answers a
 * refusal of its own.
 *
 * <p>Connections to each upstream are kept per I/O thread and lent to one request at a time, at
 * most {@code upstream.max-connections} open per upstream across threads (a request that finds them
 * all busy waits, up to {@code upstream.response-timeout}); the Undertow path keeps its own, under
 * the same cap. Timeouts are checked by one sweep per I/O thread, not a timer per request.
 */
public abstract class ByteRelay implements ConnectionFront {
  private static final OptionMap UPSTREAM_OPTIONS = OptionMap.create(Options.TCP_NODELAY, true);

  /**
   * The size of a connection's work buffers while its heads and bodies fit (nginx's page-sized
   * header buffer): a caller connection holds three, for its whole life, so at 64 connections the
   * listener's 16 KB buffers cost 3 MB and these 0.75. A head, request body or response larger than
   * this takes a listener buffer, which the connection keeps (bench/README.md "Small work buffers
   * (s32)").
   */
  static final int SMALL_BUFFER = 4096;

  /** Direct, kept once allocated (as the listeners' pools are): shared by every relay. */
  static final ByteBufferPool SMALL_BUFFERS = new DefaultByteBufferPool(true, SMALL_BUFFER, -1, 4);

  final ProxyMetrics metrics;
  final ProxyMetrics.Hop hop;
  final GuardHandlers guard;
  final @Nullable DrainHandler drain;
  final boolean underscoresAllowed;
  final boolean absoluteForm;
  final int maxConnections;
  final long connectTimeoutNanos;
  final long responseTimeoutNanos;
  final long idleTimeoutNanos;
  final long headerTimeoutNanos;
  final long noRequestTimeoutNanos;
  final long bodyMinRate;
  final long bodyRateGraceNanos;
  final int maxResponseHeadBytes;
  final int maxHeaders;

  /** Lower-case names left out of the request head: hop-by-hop, and those the hop writes. */
  final byte[][] requestDropped;

  /** Lower-case names left out of the response head: hop-by-hop and those the hop writes. */
  final byte[][] responseDropped;

  /** Lower-case names left out of a chunked response's trailer section: hop-by-hop. */
  final byte[][] trailerDropped;

  final AtomicInteger upstreamConnections = new AtomicInteger();
  final LongAdder retries = new LongAdder();
  final LongAdder handedOver = new LongAdder();
  final AtomicInteger waiters = new AtomicInteger();
  final LongAdder waits = new LongAdder();
  private final Map<XnioIoThread, Loop> loops = new ConcurrentHashMap<>();
  private volatile @Nullable BiConsumer<SocketAddress, SocketAddress> onUpstreamClosed;

  /**
   * @param hop which hop's metrics the requests count in
   * @param drain counts requests in flight so that shutdown waits for them; null: not drained
   * @param absoluteForm request targets are {@code http://host[:port]/path} (a forward proxy), not
   *     a path
   * @param requestDropped names (besides the hop-by-hop ones) left out of the upstream's head
   * @param responseDropped names (besides the hop-by-hop ones) left out of the caller's head
   */
  protected ByteRelay(
      Settings settings,
      ProxyMetrics.Hop hop,
      ProxyMetrics metrics,
      GuardHandlers guard,
      @Nullable DrainHandler drain,
      boolean absoluteForm,
      Set<String> requestDropped,
      Set<String> responseDropped) {
    this.metrics = metrics;
    this.hop = hop;
    this.guard = guard;
    this.drain = drain;
    this.absoluteForm = absoluteForm;
    this.underscoresAllowed =
        settings.limits().underscoreHeaders() == Settings.UnderscoreHeaders.ALLOW;
    this.maxConnections = settings.upstream().maxConnections();
    this.connectTimeoutNanos = nanos(settings.upstream().connectTimeout());
    this.responseTimeoutNanos = nanos(settings.upstream().responseTimeout());
    this.idleTimeoutNanos = nanos(settings.upstream().idleTimeout());
    this.headerTimeoutNanos = nanos(settings.limits().headerTimeout());
    this.noRequestTimeoutNanos = nanos(settings.limits().idleTimeout());
    this.bodyMinRate = settings.limits().bodyMinRate();
    this.bodyRateGraceNanos = settings.limits().bodyRateGrace().toNanos();
    this.maxResponseHeadBytes = settings.upstream().maxResponseHeadBytes();
    this.maxHeaders = settings.limits().maxHeaders();

    Set<String> request = new LinkedHashSet<>(HopByHop.fixedFields());
    request.addAll(requestDropped);
    this.requestDropped = names(request);
    Set<String> response = new LinkedHashSet<>(HopByHop.fixedFields());
    response.remove("transfer-encoding"); // the body is passed through with its framing
    response.addAll(responseDropped);
    this.responseDropped = names(response);
    this.trailerDropped = names(HopByHop.fixedFields());
  }

  /** A timeout in nanoseconds; zero or less: none. */
  private static long nanos(java.time.Duration d) {
    return d.isNegative() || d.isZero() ? Long.MAX_VALUE : d.toNanos();
  }

  private static byte[][] names(Set<String> names) {
    List<byte[]> out = new ArrayList<>();
    for (String n : names) out.add(n.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.US_ASCII));
    return out.toArray(new byte[0][]);
  }

  /**
   * Called with the upstream's side and hoptrace's side of every upstream connection the relay
   * closes (the process evidence forgets its key).
   */
  public void onUpstreamClosed(BiConsumer<SocketAddress, SocketAddress> listener) {
    this.onUpstreamClosed = listener;
  }

  /** The metrics the hop's requests count in. */
  public ProxyMetrics metrics() {
    return metrics;
  }

  /** Requests sent again on a new upstream connection after their kept one went stale. */
  public long retries() {
    return retries.sum();
  }

  /** Connections handed to the Undertow path. */
  public long handedOver() {
    return handedOver.sum();
  }

  /** Upstream connections the relay holds open now (or is opening). */
  public int upstreamConnections() {
    return upstreamConnections.get();
  }

  /** Requests that found upstream.max-connections open and waited for one: so far. */
  public long connectionWaits() {
    return waits.sum();
  }

  /** Requests waiting for an upstream connection now. */
  public int waitingForConnection() {
    return waiters.get();
  }

  @Override
  public void open(StreamConnection connection, HttpOpenListener undertow) {
    XnioIoThread thread = connection.getIoThread();
    if (Thread.currentThread() != thread) {
      thread.execute(() -> open(connection, undertow));
      return;
    }
    Loop loop = loops.computeIfAbsent(thread, Loop::new);
    connection(connection, undertow, loop).start();
  }

  /** The hop's connection for an accepted {@code connection}, not started yet. */
  protected abstract RelayedConnection connection(
      StreamConnection connection, HttpOpenListener undertow, Loop loop);

  private void upstreamClosed(@Nullable SocketAddress upSide, @Nullable SocketAddress proxySide) {
    upstreamConnections.decrementAndGet();
    BiConsumer<SocketAddress, SocketAddress> l = onUpstreamClosed;
    if (l != null && upSide != null && proxySide != null) l.accept(upSide, proxySide);
  }

  /**
   * One upstream (the app; a callee) and the relay's connections to it: how many are open across
   * threads (at most upstream.max-connections), how many requests wait for one, and each I/O
   * thread's pool of them.
   */
  public final class Upstream {
    final InetSocketAddress address;
    final AtomicInteger open = new AtomicInteger();
    final AtomicInteger waiting = new AtomicInteger();
    final Map<XnioIoThread, Pool> pools = new ConcurrentHashMap<>();

    public Upstream(InetSocketAddress address) {
      this.address = address;
    }

    /** This upstream's pool on {@code loop}'s thread. */
    Pool pool(Loop loop) {
      Pool p = pools.get(loop.thread);
      if (p == null) {
        p = new Pool(this, loop);
        pools.put(loop.thread, p);
        loop.pools.add(p);
      }
      return p;
    }

    /** Whether no connection to it is open, opening or awaited (its pools may be dropped). */
    public boolean unused() {
      return open.get() == 0 && waiting.get() == 0;
    }
  }

  /**
   * One I/O thread's share of the relay, touched on that thread only: its caller connections
   * (checked for their deadlines every {@code tickMillis} while there are any: one timer per thread
   * instead of one per request) and its pools.
   */
  public final class Loop implements Runnable {
    final XnioIoThread thread;
    final List<RelayedConnection> connections = new ArrayList<>();
    final List<Pool> pools = new ArrayList<>();
    final long tickMillis;
    boolean scheduled;

    Loop(XnioIoThread thread) {
      this.thread = thread;
      long shortest =
          Math.min(
              Math.min(Math.min(connectTimeoutNanos, responseTimeoutNanos), idleTimeoutNanos),
              Math.min(headerTimeoutNanos, noRequestTimeoutNanos));
      this.tickMillis = Math.max(10, Math.min(1000, TimeUnit.NANOSECONDS.toMillis(shortest) / 10));
    }

    void add(RelayedConnection c) {
      connections.add(c);
      if (!scheduled) schedule();
    }

    void remove(RelayedConnection c) {
      connections.remove(c);
    }

    void schedule() {
      scheduled = true;
      XnioExecutor.Key unused = thread.executeAfter(this, tickMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void run() {
      scheduled = false;
      long now = System.nanoTime();
      // Backwards: a check may close its connection, which removes it from the list.
      for (int i = connections.size() - 1; i >= 0; i--) {
        if (i < connections.size()) connections.get(i).check(now);
      }
      boolean idle = false;
      for (int i = pools.size() - 1; i >= 0; i--) {
        Pool p = pools.get(i);
        p.expire(now);
        if (!p.idle.isEmpty()) {
          idle = true;
        } else if (p.waitingHere.isEmpty() && p.upstream.unused()) {
          // nothing of it on this thread or elsewhere: forgotten here (made again if needed)
          pools.remove(i);
          p.upstream.pools.remove(thread, p);
        }
      }
      if (!connections.isEmpty() || idle) schedule();
    }
  }

  /**
   * One upstream's connections on one I/O thread, touched on that thread only: the idle ones, and
   * the requests waiting for one while {@code upstream.max-connections} are open.
   */
  final class Pool {
    final Upstream upstream;
    final Loop loop;
    final ArrayDeque<UpstreamConnection> idle = new ArrayDeque<>();
    final ArrayDeque<RelayedConnection> waitingHere = new ArrayDeque<>();
    volatile int waitingCount;

    Pool(Upstream upstream, Loop loop) {
      this.upstream = upstream;
      this.loop = loop;
    }

    /** A connection for {@code c}: an idle one (unless {@code fresh}), a new one, or a wait. */
    void acquire(RelayedConnection c, boolean fresh) {
      if (!fresh) {
        UpstreamConnection kept = takeIdle();
        if (kept != null) {
          c.lent(kept);
          return;
        }
      }
      if (reserve()) {
        connect(c);
        return;
      }
      waitingHere.addLast(c);
      waitingCount = waitingHere.size();
      upstream.waiting.incrementAndGet();
      waiters.incrementAndGet();
      waits.increment();
      c.waitingSince(System.nanoTime());
      // Idle connections on other threads hold places this request could use: one each closes.
      for (Pool other : upstream.pools.values()) {
        if (other != this) other.loop.thread.execute(other::shedIdle);
      }
    }

    /** {@code c} no longer waits (it ended, or timed out). */
    void withdraw(RelayedConnection c) {
      if (waitingHere.remove(c)) {
        waitingCount = waitingHere.size();
        upstream.waiting.decrementAndGet();
        waiters.decrementAndGet();
      }
    }

    /** A place for one more connection, if fewer than upstream.max-connections are open. */
    private boolean reserve() {
      while (true) {
        int open = upstream.open.get();
        if (open >= maxConnections) return false;
        if (upstream.open.compareAndSet(open, open + 1)) {
          upstreamConnections.incrementAndGet();
          return true;
        }
      }
    }

    private void connect(RelayedConnection c) {
      IoFuture<StreamConnection> future =
          loop.thread.openStreamConnection(
              upstream.address, ChannelListeners.nullChannelListener(), UPSTREAM_OPTIONS);
      c.connecting(future);
      future.addNotifier(
          (f, owner) -> {
            boolean wanted = owner.connectingTo(f);
            if (f.getStatus() == IoFuture.Status.DONE) {
              UpstreamConnection made;
              try {
                made = new UpstreamConnection(f.get(), this);
              } catch (IOException | RuntimeException e) {
                placeReturned();
                if (wanted) owner.connectFailed(e);
                return;
              }
              if (wanted) {
                owner.lent(made);
              } else {
                release(made, true); // its request gave up meanwhile: to the pool
              }
              return;
            }
            placeReturned();
            if (wanted) {
              IOException e = f.getStatus() == IoFuture.Status.FAILED ? f.getException() : null;
              owner.connectFailed(e != null ? e : new IOException("connect cancelled"));
            }
          },
          c);
    }

    /** A request is done with {@code c}: to a waiting request, to the pool, or closed. */
    void release(UpstreamConnection c, boolean reusable) {
      c.owner = null;
      if (!reusable || !c.isOpen()) {
        c.close();
        return;
      }
      RelayedConnection next = waitingHere.pollFirst();
      if (next != null) {
        waitingCount = waitingHere.size();
        upstream.waiting.decrementAndGet();
        waiters.decrementAndGet();
        next.lent(c);
        return;
      }
      if (upstream.waiting.get() > 0) {
        // Waiting on another thread (a connection cannot change threads): closed, and its place
        // goes to that request, which connects on its own thread.
        c.close();
        return;
      }
      c.idleSince = System.nanoTime();
      idle.addLast(c);
      if (!loop.scheduled) loop.schedule();
    }

    private @Nullable UpstreamConnection takeIdle() {
      long now = System.nanoTime();
      for (UpstreamConnection c; (c = idle.pollLast()) != null; ) {
        if (!c.isOpen()) continue;
        if (now - c.idleSince > idleTimeoutNanos) {
          c.close();
          continue;
        }
        return c;
      }
      return null;
    }

    /** Closes the connections idle longer than upstream.idle-timeout (oldest first). */
    void expire(long now) {
      for (UpstreamConnection c; (c = idle.peekFirst()) != null; ) {
        if (c.isOpen() && now - c.idleSince <= idleTimeoutNanos) break;
        idle.pollFirst();
        c.close();
      }
    }

    /** An idle connection saw the upstream close it. */
    void idleClosed(UpstreamConnection c) {
      idle.remove(c);
    }

    /** A connection closed: its place goes to a waiting request, if any. */
    void closed(UpstreamConnection c) {
      upstream.open.decrementAndGet();
      upstreamClosed(c.peer, c.local);
      wake();
    }

    /** A place taken for a connect that failed or was cancelled. */
    private void placeReturned() {
      upstream.open.decrementAndGet();
      upstreamConnections.decrementAndGet();
      wake();
    }

    /** Lets the threads with waiting requests connect them, now that a place may be free. */
    private void wake() {
      if (upstream.waiting.get() == 0) return;
      if (waitingCount > 0) {
        serveWaiting();
        return;
      }
      for (Pool other : upstream.pools.values()) {
        if (other.waitingCount > 0) {
          other.loop.thread.execute(other::serveWaiting);
          return;
        }
      }
    }

    private void serveWaiting() {
      RelayedConnection next;
      while ((next = waitingHere.peekFirst()) != null) {
        UpstreamConnection kept = takeIdle();
        if (kept == null && !reserve()) return;
        waitingHere.pollFirst();
        waitingCount = waitingHere.size();
        upstream.waiting.decrementAndGet();
        waiters.decrementAndGet();
        if (kept != null) {
          next.lent(kept);
        } else {
          connect(next);
        }
      }
    }

    /** Closes one idle connection when requests wait (on another thread) for a place. */
    private void shedIdle() {
      if (upstream.waiting.get() == 0) return;
      UpstreamConnection c = idle.pollFirst();
      if (c != null) c.close();
    }
  }
}
