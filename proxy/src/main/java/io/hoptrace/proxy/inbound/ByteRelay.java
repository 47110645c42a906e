package io.hoptrace.proxy.inbound;

import io.hoptrace.config.HostPort;
import io.hoptrace.config.Settings;
import io.hoptrace.correlation.InboundRegistry;
import io.hoptrace.propagation.CompositeExtractor;
import io.hoptrace.propagation.Injector;
import io.hoptrace.propagation.w3c.TraceresponseCodec;
import io.hoptrace.proxy.guard.ConnectionFront;
import io.hoptrace.proxy.guard.DrainHandler;
import io.hoptrace.proxy.guard.GuardHandlers;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.proxy.spanlog.SpanLogWriter;
import io.hoptrace.proxy.upstream.HopByHop;
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
 * The inbound hop as a byte relay ({@code inbound.engine = relay}): takes each connection the
 * inbound listener accepts (the head guard already under it) and carries its plain HTTP/1.1
 * requests itself, reading each request head once as bytes and writing the app's head from it — the
 * same trace context, registry entries, forwarding fields, response fields, span line and metrics
 * as the Undertow path ({@link InboundHandlers}), without building an exchange, a header map or an
 * upstream client request. Bodies with a Content-Length and every response framing (Content-Length,
 * chunked, close-delimited) pass through as they are.
 *
 * <p>A request it does not take as plain — an upgrade, {@code Expect}, a chunked body, another
 * version than 1.1, a target that is not a plain path, {@code Connection} tokens other than {@code
 * keep-alive}/{@code close}, a head larger than its buffer — and any request while hoptrace sheds
 * load or drains, hands its connection, with the bytes read and not used, to the Undertow path for
 * good: that path answers it as it always does (refusals included). So the relay never answers a
 * refusal of its own.
 *
 * <p>Connections to the app are kept per I/O thread and lent to one request at a time, at most
 * {@code upstream.max-connections} open across threads (a request that finds them all busy waits,
 * up to {@code upstream.response-timeout}); the Undertow path keeps its own, under the same cap.
 * Timeouts are checked by one sweep per I/O thread, not a timer per request.
 */
public final class ByteRelay implements ConnectionFront {
  private static final OptionMap UPSTREAM_OPTIONS = OptionMap.create(Options.TCP_NODELAY, true);

  final Settings settings;
  final CompositeExtractor extractor;
  final Injector injector;
  final InboundRegistry registry;
  final SpanLogWriter spanLog;
  final ProxyMetrics metrics;
  final GuardHandlers guard;
  final DrainHandler drain;
  final HostPort app;
  final String serviceName;
  final RouteKeys routeKeys = new RouteKeys();
  final ConnectionKeys connectionKeys = new ConnectionKeys();
  final boolean bindConnections;
  final boolean traceresponse;
  final @Nullable String respondRequestId;
  final boolean underscoresAllowed;
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

  /**
   * Lower-case names left out of the request head: hop-by-hop, trace fields, and rewritten ones.
   */
  final byte[][] requestDropped;

  /** Lower-case names left out of the response head: hop-by-hop and the fields hoptrace sets. */
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

  public ByteRelay(
      Settings settings,
      CompositeExtractor extractor,
      Injector injector,
      InboundRegistry registry,
      SpanLogWriter spanLog,
      ProxyMetrics metrics,
      GuardHandlers guard,
      DrainHandler drain) {
    this.settings = settings;
    this.extractor = extractor;
    this.injector = injector;
    this.registry = registry;
    this.spanLog = spanLog;
    this.metrics = metrics;
    this.guard = guard;
    this.drain = drain;
    this.app = settings.app();
    this.serviceName = settings.service();
    this.bindConnections = settings.procfs().enabled();
    this.traceresponse = settings.response().traceresponse();
    this.respondRequestId =
        settings.response().requestId() ? settings.propagation().requestIdHeader() : null;
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
    request.addAll(injector.managedHeaders());
    request.add("x-forwarded-for");
    request.add("x-forwarded-proto");
    request.add("x-forwarded-host");
    request.add("via");
    this.requestDropped = names(request);
    Set<String> response = new LinkedHashSet<>(HopByHop.fixedFields());
    response.remove("transfer-encoding"); // the body is passed through with its framing
    if (traceresponse) response.add(TraceresponseCodec.NAME);
    if (respondRequestId != null) response.add(respondRequestId);
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
   * Called with the app side and hoptrace's side of every upstream connection the relay closes (the
   * process evidence forgets its key).
   */
  public void onUpstreamClosed(BiConsumer<SocketAddress, SocketAddress> listener) {
    this.onUpstreamClosed = listener;
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
    new RelayedConnection(this, connection, undertow, loop).start();
  }

  private void upstreamClosed(@Nullable SocketAddress appSide, @Nullable SocketAddress proxySide) {
    upstreamConnections.decrementAndGet();
    BiConsumer<SocketAddress, SocketAddress> l = onUpstreamClosed;
    if (l != null && appSide != null && proxySide != null) l.accept(appSide, proxySide);
  }

  InetSocketAddress appAddress() {
    return new InetSocketAddress(app.host(), app.port());
  }

  /**
   * One I/O thread's share of the relay, touched on that thread only: its caller connections
   * (checked for their deadlines every {@code tickMillis} while there are any: one timer per thread
   * instead of one per request), its idle connections to the app, and its requests waiting for one
   * while {@code upstream.max-connections} are open.
   */
  final class Loop implements Runnable {
    final XnioIoThread thread;
    final List<RelayedConnection> connections = new ArrayList<>();
    final ArrayDeque<AppConnection> idle = new ArrayDeque<>();
    final ArrayDeque<RelayedConnection> waiting = new ArrayDeque<>();
    volatile int waitingHere;
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
      withdraw(c);
    }

    /**
     * An app connection for {@code c}: an idle one (unless {@code fresh}), a new one, or a wait.
     */
    void acquire(RelayedConnection c, boolean fresh) {
      if (!fresh) {
        AppConnection kept = takeIdle();
        if (kept != null) {
          c.lent(kept);
          return;
        }
      }
      if (reserve()) {
        connect(c);
        return;
      }
      waiting.addLast(c);
      waitingHere = waiting.size();
      waiters.incrementAndGet();
      waits.increment();
      c.waitingSince(System.nanoTime());
      // Idle connections on other threads hold places this request could use: one each closes.
      for (Loop other : loops.values()) {
        if (other != this) other.thread.execute(other::shedIdle);
      }
    }

    /** {@code c} no longer waits (it ended, or timed out). */
    void withdraw(RelayedConnection c) {
      if (waiting.remove(c)) {
        waitingHere = waiting.size();
        waiters.decrementAndGet();
      }
    }

    /** A place for one more connection, if fewer than upstream.max-connections are open. */
    private boolean reserve() {
      while (true) {
        int open = upstreamConnections.get();
        if (open >= maxConnections) return false;
        if (upstreamConnections.compareAndSet(open, open + 1)) return true;
      }
    }

    private void connect(RelayedConnection c) {
      IoFuture<StreamConnection> future =
          thread.openStreamConnection(
              appAddress(), ChannelListeners.nullChannelListener(), UPSTREAM_OPTIONS);
      c.connecting(future);
      future.addNotifier(
          (f, owner) -> {
            boolean wanted = owner.connectingTo(f);
            if (f.getStatus() == IoFuture.Status.DONE) {
              AppConnection made;
              try {
                made = new AppConnection(f.get(), this);
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
    void release(AppConnection c, boolean reusable) {
      c.owner = null;
      if (!reusable || !c.isOpen()) {
        c.close();
        return;
      }
      RelayedConnection next = waiting.pollFirst();
      if (next != null) {
        waitingHere = waiting.size();
        waiters.decrementAndGet();
        next.lent(c);
        return;
      }
      if (waiters.get() > 0) {
        // Waiting on another thread (a connection cannot change threads): closed, and its place
        // goes to that request, which connects on its own thread.
        c.close();
        return;
      }
      c.idleSince = System.nanoTime();
      idle.addLast(c);
      if (!scheduled) schedule();
    }

    private @Nullable AppConnection takeIdle() {
      long now = System.nanoTime();
      for (AppConnection c; (c = idle.pollLast()) != null; ) {
        if (!c.isOpen()) continue;
        if (now - c.idleSince > idleTimeoutNanos) {
          c.close();
          continue;
        }
        return c;
      }
      return null;
    }

    /** An idle connection saw the app close it. */
    void idleClosed(AppConnection c) {
      idle.remove(c);
    }

    /** A connection closed: its place goes to a waiting request, if any. */
    void closed(AppConnection c) {
      upstreamClosed(c.peer, c.local);
      wake();
    }

    /** A place taken for a connect that failed or was cancelled. */
    private void placeReturned() {
      upstreamConnections.decrementAndGet();
      wake();
    }

    /** Lets the threads with waiting requests connect them, now that a place may be free. */
    private void wake() {
      if (waiters.get() == 0) return;
      if (waitingHere > 0) {
        serveWaiting();
        return;
      }
      for (Loop other : loops.values()) {
        if (other.waitingHere > 0) {
          other.thread.execute(other::serveWaiting);
          return;
        }
      }
    }

    private void serveWaiting() {
      RelayedConnection next;
      while ((next = waiting.peekFirst()) != null) {
        AppConnection kept = takeIdle();
        if (kept == null && !reserve()) return;
        waiting.pollFirst();
        waitingHere = waiting.size();
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
      if (waiters.get() == 0) return;
      AppConnection c = idle.pollFirst();
      if (c != null) c.close();
    }

    private void schedule() {
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
      for (AppConnection c; (c = idle.peekFirst()) != null; ) {
        if (c.isOpen() && now - c.idleSince <= idleTimeoutNanos) break;
        idle.pollFirst();
        c.close();
      }
      if (!connections.isEmpty() || !idle.isEmpty()) schedule();
    }
  }
}
