package io.hoptrace.proxy.upstream;

import io.hoptrace.config.HostPort;
import io.hoptrace.config.Settings;
import io.undertow.client.ClientCallback;
import io.undertow.client.ClientConnection;
import io.undertow.client.ClientExchange;
import io.undertow.client.ClientRequest;
import io.undertow.client.ClientResponse;
import io.undertow.client.http.CachedPeerHttpClient;
import io.undertow.client.http.ResponseHeadLimit;
import io.undertow.conduits.FixedLengthStreamSourceConduit;
import io.undertow.connector.ByteBufferPool;
import io.undertow.connector.PooledByteBuffer;
import io.undertow.server.AbstractServerConnection;
import io.undertow.server.ExchangeCompletionListener;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpAttachments;
import io.undertow.util.Attachable;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import io.undertow.util.Protocols;
import io.undertow.util.SameThreadExecutor;
import java.io.IOException;
import java.lang.reflect.Field;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;
import org.xnio.ChannelListener;
import org.xnio.ChannelListeners;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.StreamConnection;
import org.xnio.XnioExecutor;
import org.xnio.XnioIoThread;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.channels.StreamSourceChannel;
import org.xnio.conduits.AbstractConduit;
import org.xnio.conduits.ConduitStreamSourceChannel;
import org.xnio.conduits.StreamSourceConduit;

/**
 * Forwards with Undertow's own HTTP/1.1 client, driven from the IO thread that serves the exchange
 * ({@code upstream.client = same-loop}): the upstream connection is registered with that same
 * thread, so a request and its answer never hop between event loops (the Jetty transport costs two
 * hand-overs and wake-ups per request, bench/README.md "Same-loop upstream (s14)").
 *
 * <p>Connections are pooled per IO thread and per target, keep-alive, one exchange at a time on
 * each; one idle longer than {@code upstream.idle-timeout} is closed when next looked at. At most
 * {@code upstream.max-connections} are open per target across all IO threads (busy, idle and
 * connecting): a request that finds none idle on its thread and no room waits, oldest first, for
 * one to be handed back (on its thread) or closed (then it connects), within {@code
 * upstream.response-timeout} (else 504); idle ones on other threads are closed to make room. Waits
 * are counted ({@link #connectionWaits()}). Requests handed to Jetty count against Jetty's own cap
 * of the same size, not this one.
 *
 * <p>Bodies are copied through one pooled buffer per direction, read only when the other side has
 * taken the last one (backpressure both ways); request bodies stream as they came (Content-Length
 * or chunked), responses byte for byte (no decoding, nothing added); the trailers of a chunked body
 * go along both ways, less hop-by-hop fields. Undertow's client adds {@code X-Forwarded-Proto}; it
 * is put back to what the client sent before the request is written.
 *
 * <p>Handed to the Jetty transport instead, per request, what this one does not carry: {@code
 * Expect} (Undertow's client has no 100-continue hand-shake for a proxied body), targets given by
 * host name (resolving would block the IO thread; Jetty resolves off it) and request targets of
 * {@value #MAX_PATH} characters or more (the client writes the request line into one buffer).
 *
 * <p>A bodiless request with an idempotent method (GET, HEAD, OPTIONS, TRACE, PUT, DELETE) whose
 * pooled connection fails before any byte of the response (reset, closed, end of stream: the app
 * closed it as idle just as the request went out) is sent again, once, on a new connection, as
 * nginx ({@code proxy_next_upstream error}) and Go's transport do; counted ({@link #retries()}). A
 * new connection's failure, a timeout, a request with a body or another method is answered 502/504
 * as before: the app may have acted on it.
 *
 * <p>Threading: everything here runs on the exchange's IO thread, which also owns every connection
 * in that thread's pool; nothing is shared between threads but the set of open connections (closed
 * on shutdown).
 */
public final class SameLoopForwarder implements Forwarder, AutoCloseable {
  static final int MAX_PATH = 8 * 1024;
  private static final OptionMap OPTIONS = OptionMap.create(Options.TCP_NODELAY, true);
  // The conduit under a connection's response-body conduit (see closeDelimited()).
  private static final @Nullable Field CONDUIT_NEXT = conduitNext();
  // The socket under Undertow's HTTP/1.1 client connection (see Upstream).
  private static final @Nullable Field CLIENT_SOCKET = clientSocket();

  private final Forwarder fallback;
  private final long connectTimeoutMillis;
  private final long responseTimeoutMillis;
  private final long idleTimeoutMillis;
  private final int maxConnections;
  private final int maxResponseHeadBytes;
  // Each IO thread's idle connections.
  private final Map<XnioIoThread, Pool> pools = new ConcurrentHashMap<>();
  // Each target's open connections and waiting requests; changed inside compute() only.
  private final Map<HostPort, Budget> budgets = new ConcurrentHashMap<>();
  private final LongAdder waits = new LongAdder();
  private final LongAdder retries = new LongAdder();
  private final Set<ClientConnection> open = ConcurrentHashMap.newKeySet();
  private volatile @Nullable BiConsumer<SocketAddress, SocketAddress> closeListener;

  /**
   * @param fallback forwards what this transport hands on (see the class comment)
   */
  public SameLoopForwarder(Settings.Upstream settings, Forwarder fallback) {
    this.fallback = fallback;
    this.connectTimeoutMillis = settings.connectTimeout().toMillis();
    this.responseTimeoutMillis = settings.responseTimeout().toMillis();
    this.idleTimeoutMillis = settings.idleTimeout().toMillis();
    this.maxConnections = settings.maxConnections();
    this.maxResponseHeadBytes = settings.maxResponseHeadBytes();
  }

  /** Requests so far that found {@code upstream.max-connections} open and waited for one. */
  public long connectionWaits() {
    return waits.sum();
  }

  /**
   * Requests sent again on a new connection after their pooled one failed (see the class comment).
   */
  public long retries() {
    return retries.sum();
  }

  /** Requests waiting for a connection now. */
  public long waitingForConnection() {
    long n = 0;
    for (Budget b : budgets.values()) n += b.waiters;
    return n;
  }

  /**
   * Tells {@code listener} (local address, upstream's address) when an upstream connection of this
   * transport closes. Called on an IO thread.
   */
  public void onConnectionClosed(BiConsumer<SocketAddress, SocketAddress> listener) {
    this.closeListener = listener;
  }

  @Override
  public void forward(HttpServerExchange exchange, HostPort target, ForwardHooks hooks) {
    if (!carries(exchange, target)) {
      fallback.forward(exchange, target, hooks);
      return;
    }
    // The relay is the dispatched task itself: no lambda per request.
    exchange.dispatch(SameThreadExecutor.INSTANCE, new Relay(exchange, target, hooks));
  }

  /** Whether this transport carries the exchange (see the class comment), else Jetty does. */
  private static boolean carries(HttpServerExchange exchange, HostPort target) {
    return !exchange.getRequestHeaders().contains(Headers.EXPECT)
        && isLiteral(target.host())
        && exchange.getRequestURI().length() + exchange.getQueryString().length() < MAX_PATH;
  }

  /** An IPv4 or IPv6 literal, or localhost: no resolver on the IO thread. */
  static boolean isLiteral(String host) {
    if (host.equals("localhost") || host.indexOf(':') >= 0) return true;
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      if ((c < '0' || c > '9') && c != '.') return false;
    }
    return !host.isEmpty();
  }

  @Override
  public void close() {
    for (ClientConnection c : open) IoUtils.safeClose(c);
    open.clear();
  }

  private static URI uri(HostPort target) {
    try {
      return new URI("http", null, target.host(), target.port(), null, null, null);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("bad upstream " + target, e);
    }
  }

  /**
   * A pooled upstream connection with what its close must report.
   *
   * <p>While idle it is also the read listener of its socket, in front of the client's own. When
   * the client reads a response head together with the first body bytes, it pushes the bytes back
   * and queues a read wake-up for them; the relay has read them by the time the wake-up runs, so
   * the client's listener, which watches an idle connection for the upstream's close, would make a
   * {@code read} that finds nothing: one system call per request (bench/README "I/O loop (s15)").
   * The first wake-up after the connection goes idle is skipped; the socket's read interest stays
   * on and epoll is level-triggered, so a close or stray bytes that were really there are reported
   * again on the next select and reach the client's listener then. The next request on the
   * connection puts the client's listener back.
   */
  private static final class Upstream implements ChannelListener<ConduitStreamSourceChannel> {
    final ClientConnection connection;
    final @Nullable SocketAddress local;
    final @Nullable SocketAddress remote;
    // Null if the client's socket cannot be reached (another Undertow): no skipping then.
    final @Nullable ConduitStreamSourceChannel source;
    long idleSince;
    boolean skipWakeup;
    @Nullable ChannelListener<? super ConduitStreamSourceChannel> idleListener;

    Upstream(ClientConnection connection) {
      this.connection = connection;
      this.local = connection.getLocalAddress();
      this.remote = connection.getPeerAddress();
      this.source = sourceOf(connection);
    }

    /** The connection goes idle: stand in front of the client's listener until the next use. */
    void idle() {
      ConduitStreamSourceChannel s = source;
      if (s == null) return;
      ChannelListener<? super ConduitStreamSourceChannel> current = s.getReadListener();
      if (current == this) return;
      idleListener = current;
      skipWakeup = true;
      s.setReadListener(this);
    }

    @Override
    public void handleEvent(ConduitStreamSourceChannel channel) {
      if (skipWakeup) {
        skipWakeup = false;
        return;
      }
      ChannelListener<? super ConduitStreamSourceChannel> next = idleListener;
      if (next == null) {
        channel.suspendReads();
      } else {
        ChannelListeners.invokeChannelListener(channel, next);
      }
    }
  }

  /** The IO thread's pool (the calling thread's: the pool is touched on it only). */
  private Pool pool(XnioIoThread thread) {
    Pool pool = pools.get(thread);
    return pool != null ? pool : pools.computeIfAbsent(thread, Pool::new);
  }

  /**
   * The idle connections of one IO thread, per target; touched on that thread only. A sweep every
   * idle-timeout while any are idle closes the expired ones and forgets targets with none.
   */
  private final class Pool {
    final XnioIoThread thread;
    final Map<HostPort, ArrayDeque<Upstream>> idle = new HashMap<>();
    final long idleNanos = TimeUnit.MILLISECONDS.toNanos(idleTimeoutMillis);
    boolean sweeping;
    // The relays' timers on this thread: to the response headers, and idle while relaying a body.
    final Deadlines responseDeadlines;
    final Deadlines idleDeadlines;

    Pool(XnioIoThread thread) {
      this.thread = thread;
      this.responseDeadlines = new Deadlines(thread, responseTimeoutMillis, false);
      this.idleDeadlines = new Deadlines(thread, idleTimeoutMillis, true);
    }

    @Nullable Upstream take(HostPort target) {
      ArrayDeque<Upstream> connections = idle.get(target);
      if (connections == null) return null;
      long now = System.nanoTime();
      Upstream found = null;
      for (Upstream u; found == null && (u = connections.pollLast()) != null; ) {
        if (!u.connection.isOpen()) continue;
        if (now - u.idleSince > idleNanos) {
          IoUtils.safeClose(u.connection);
          continue;
        }
        found = u;
      }
      if (connections.isEmpty()) idle.remove(target);
      return found;
    }

    void offer(HostPort target, Upstream upstream) {
      if (!upstream.connection.isOpen()) return;
      if (hasWaiters(target)) {
        Relay waiter = takeWaiter(target, thread);
        if (waiter != null) {
          waiter.handOver(upstream);
        } else {
          // Waiting on another thread: closed, its place goes to the oldest waiter (which
          // connects on its own thread).
          IoUtils.safeClose(upstream.connection);
        }
        return;
      }
      ArrayDeque<Upstream> connections = idle.computeIfAbsent(target, t -> new ArrayDeque<>());
      upstream.idleSince = System.nanoTime();
      upstream.idle();
      connections.addLast(upstream);
      if (!sweeping) scheduleSweep();
    }

    /** Closes one idle connection to {@code target} if a request (on another thread) waits. */
    void shed(HostPort target) {
      if (!hasWaiters(target)) return;
      ArrayDeque<Upstream> connections = idle.get(target);
      Upstream u = connections == null ? null : connections.pollFirst();
      if (connections != null && connections.isEmpty()) idle.remove(target);
      if (u != null) IoUtils.safeClose(u.connection);
    }

    private void scheduleSweep() {
      sweeping = true;
      var unused = thread.executeAfter(this::sweep, idleTimeoutMillis, TimeUnit.MILLISECONDS);
    }

    private void sweep() {
      sweeping = false;
      long now = System.nanoTime();
      for (Iterator<ArrayDeque<Upstream>> it = idle.values().iterator(); it.hasNext(); ) {
        ArrayDeque<Upstream> connections = it.next();
        connections.removeIf(
            u -> {
              if (!u.connection.isOpen()) return true;
              if (now - u.idleSince < idleNanos) return false;
              IoUtils.safeClose(u.connection);
              return true;
            });
        if (connections.isEmpty()) it.remove();
      }
      if (!idle.isEmpty()) scheduleSweep();
    }
  }

  /**
   * The relays of one IO thread waiting for one kind of timeout, all of the same length: so they
   * time out in the order they were added, a list in that order does (oldest first), and one XNIO
   * timer at a time, set for the oldest one's deadline, serves them all. A relay joins at the tail
   * and leaves from anywhere (its fields link it). Instead of an XNIO timer per request (its key, a
   * TreeMap entry, a lambda, and a locked TreeMap insert and removal: bench/README.md, "Same-loop
   * allocation (s18)"); the deadlines are the same. Touched on its thread only.
   */
  private static final class Deadlines implements Runnable {
    final XnioIoThread thread;
    final long millis;
    final long nanos;
    final boolean idle;
    @Nullable Relay head;
    @Nullable Relay tail;
    boolean scheduled; // an XNIO timer is set (for the head's deadline or earlier)
    boolean running; // in run(), which sets the next timer itself

    Deadlines(XnioIoThread thread, long millis, boolean idle) {
      this.thread = thread;
      this.millis = millis;
      this.nanos = TimeUnit.MILLISECONDS.toNanos(millis);
      this.idle = idle;
    }

    /** Starts {@code relay}'s timer: it times out {@link #millis} from now unless removed. */
    void add(Relay relay) {
      relay.deadline = System.nanoTime() + nanos;
      relay.deadlines = this;
      relay.prevDeadline = tail;
      relay.nextDeadline = null;
      if (tail == null) {
        head = relay;
      } else {
        tail.nextDeadline = relay;
      }
      tail = relay;
      if (!scheduled && !running) schedule(millis);
    }

    /** Stops {@code relay}'s timer (it is in this list). */
    void remove(Relay relay) {
      Relay prev = relay.prevDeadline;
      Relay next = relay.nextDeadline;
      if (prev == null) {
        head = next;
      } else {
        prev.nextDeadline = next;
      }
      if (next == null) {
        tail = prev;
      } else {
        next.prevDeadline = prev;
      }
      relay.prevDeadline = null;
      relay.nextDeadline = null;
      relay.deadlines = null;
    }

    /** The timer: times out every relay past its deadline, then waits for the next oldest. */
    @Override
    public void run() {
      scheduled = false;
      running = true;
      long now = System.nanoTime();
      try {
        for (Relay r; (r = head) != null && r.deadline - now <= 0; ) {
          remove(r);
          r.timedOut(idle); // may add relays (at the tail: later deadlines) or remove any
        }
      } finally {
        running = false;
        Relay next = head;
        if (next != null) {
          // XNIO counts whole milliseconds: rounded up, so not early (and if it is, run again).
          schedule(Math.max(1, TimeUnit.NANOSECONDS.toMillis(next.deadline - now + 999_999)));
        }
      }
    }

    private void schedule(long delayMillis) {
      scheduled = true;
      var unused = thread.executeAfter(this, delayMillis, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * One target's connections across all IO threads: how many are open (or connecting), and the
   * requests waiting for one, oldest first. Changed only inside {@code budgets.compute}.
   */
  private static final class Budget {
    int open;
    final ArrayDeque<Relay> waiting = new ArrayDeque<>();
    volatile int waiters;
  }

  /**
   * Takes a place for a new connection to the relay's target, or queues the relay: true if taken.
   */
  private boolean openOrWait(Relay relay) {
    boolean[] taken = {false};
    budgets.compute(
        relay.target,
        (t, b) -> {
          Budget budget = b != null ? b : new Budget();
          if (budget.open < maxConnections) {
            budget.open++;
            taken[0] = true;
          } else {
            budget.waiting.addLast(relay);
            budget.waiters = budget.waiting.size();
          }
          return budget;
        });
    return taken[0];
  }

  /**
   * A connection to {@code target} closed (or failed to open): its place goes to the oldest waiting
   * request, on that request's thread, else it is free.
   */
  private void released(HostPort target) {
    Relay[] next = {null};
    budgets.computeIfPresent(
        target,
        (t, b) -> {
          Relay waiter = b.waiting.pollFirst();
          b.waiters = b.waiting.size();
          if (waiter != null) {
            next[0] = waiter;
            return b;
          }
          b.open--;
          return b.open <= 0 ? null : b;
        });
    Relay waiter = next[0];
    if (waiter != null) waiter.ioThread.execute(waiter::placeGiven);
  }

  /** The relay no longer waits (it ended). */
  private void withdraw(Relay relay) {
    budgets.computeIfPresent(
        relay.target,
        (t, b) -> {
          b.waiting.remove(relay);
          b.waiters = b.waiting.size();
          return b.open <= 0 && b.waiting.isEmpty() ? null : b;
        });
  }

  private boolean hasWaiters(HostPort target) {
    Budget b = budgets.get(target);
    return b != null && b.waiters > 0;
  }

  /** The oldest request waiting for {@code target} on {@code thread}, taken out of the queue. */
  private @Nullable Relay takeWaiter(HostPort target, XnioIoThread thread) {
    Relay[] found = {null};
    budgets.computeIfPresent(
        target,
        (t, b) -> {
          for (Iterator<Relay> it = b.waiting.iterator(); it.hasNext(); ) {
            Relay r = it.next();
            if (r.ioThread == thread) {
              it.remove();
              found[0] = r;
              break;
            }
          }
          b.waiters = b.waiting.size();
          return b;
        });
    return found[0];
  }

  private Upstream opened(ClientConnection connection, HostPort target) {
    Upstream upstream = new Upstream(connection);
    open.add(connection);
    connection.addCloseListener(
        c -> {
          open.remove(c);
          released(target);
          BiConsumer<SocketAddress, SocketAddress> listener = closeListener;
          if (listener != null && upstream.local != null && upstream.remote != null) {
            listener.accept(upstream.local, upstream.remote);
          }
        });
    return upstream;
  }

  /** One forwarded exchange. IO thread only. */
  private final class Relay
      implements ClientCallback<ClientExchange>, ExchangeCompletionListener, Runnable {
    final HttpServerExchange exchange;
    final XnioIoThread ioThread;
    final Pool pool; // ioThread's
    final HostPort target;
    final ForwardHooks hooks;
    final ByteBufferPool buffers;
    final boolean hasBody;
    final @Nullable RequestBodyCheck check;
    final @Nullable HeaderValues clientForwardedProto;
    final ClientRequest request = new ClientRequest();
    // The Connection tokens of the client's request and of the upstream's response.
    Set<String> requestTokens = Set.of();
    Set<String> responseTokens = Set.of();

    @Nullable Upstream upstream;
    @Nullable ClientExchange upstreamExchange;
    // The timer running, if any (the response's or the idle one): a place in one of the pool's
    // deadline lists.
    @Nullable Deadlines deadlines;
    @Nullable Relay prevDeadline;
    @Nullable Relay nextDeadline;
    long deadline;
    boolean waiting; // for a place among upstream.max-connections
    boolean connected;
    boolean reused; // the connection came from the pool (or was handed over)
    boolean retried;
    boolean headersCopied;
    boolean requestSent;
    boolean closeDelimited;
    boolean failing;
    boolean ended;
    // Bumped on every byte moved; the idle timer fires only when it stood still.
    long progress;
    long progressAtTick;

    @Nullable StreamSourceChannel clientBody;
    @Nullable StreamSinkChannel upstreamBody;
    @Nullable PooledByteBuffer requestBuffer;
    boolean requestPending; // requestBuffer holds bytes not yet written upstream

    @Nullable StreamSourceChannel responseSource;
    boolean responseListening; // a read listener of ours is set on responseSource
    @Nullable StreamSinkChannel sink;
    @Nullable PooledByteBuffer responseBuffer;
    boolean responsePending;

    Relay(HttpServerExchange exchange, HostPort target, ForwardHooks hooks) {
      this.exchange = exchange;
      this.ioThread = exchange.getIoThread();
      this.pool = pool(ioThread);
      this.target = target;
      this.hooks = hooks;
      this.buffers = exchange.getConnection().getByteBufferPool();
      this.hasBody =
          exchange.getRequestContentLength() > 0
              || exchange.getRequestHeaders().contains(Headers.TRANSFER_ENCODING);
      this.check = hasBody ? exchange.getAttachment(RequestBodyCheck.KEY) : null;
      this.clientForwardedProto = exchange.getRequestHeaders().get(Headers.X_FORWARDED_PROTO);
    }

    /** Dispatched after the handler returned: starts the relay. */
    @Override
    public void run() {
      start();
    }

    void start() {
      String uri = exchange.getRequestURI(); // raw, as the client sent it
      if (exchange.isHostIncludedInRequestURI()) { // absolute-form: the target decides
        int slash = uri.indexOf('/', uri.indexOf("://") + 3);
        uri = slash < 0 ? "/" : uri.substring(slash);
      }
      String query = exchange.getQueryString();
      request.setMethod(exchange.getRequestMethod());
      request.setPath(query.isEmpty() ? uri : uri + "?" + query);
      request.setProtocol(Protocols.HTTP_1_1);
      HeaderMap clientHeaders = exchange.getRequestHeaders();
      HeaderValues connection = clientHeaders.get(Headers.CONNECTION);
      Set<String> tokens = HopByHop.connectionTokensOf(connection);
      requestTokens = tokens;
      // Undertow honours only a bare "Connection: close"; "close, X-Foo" must close as well.
      if (tokens.contains("close")) exchange.setPersistent(false);
      HeaderMap headers = request.getRequestHeaders();
      HopByHop.copyEndToEnd(clientHeaders, tokens, headers);
      if (!headers.contains(Headers.HOST)) headers.put(Headers.HOST, hostHeader());
      if (hasBody && !headers.contains(Headers.CONTENT_LENGTH)) {
        headers.put(Headers.TRANSFER_ENCODING, Headers.CHUNKED.toString());
      }
      hooks.proxyToServerHeaders(exchange, headers);
      if (check != null) check.armed(true);

      // If the exchange ends first (the client went away), stop the upstream side too. Added
      // after the hop's own listeners, so it runs before them and they see the failure.
      exchange.addExchangeCompleteListener(this);
      // Time to the response headers, connecting included (as the Jetty transport counts it).
      pool.responseDeadlines.add(this);
      if (!hasBody) keepClientReadInterest(exchange);
      Upstream idle = pool.take(target);
      if (idle != null) {
        send(idle, true);
      } else if (openOrWait(this)) {
        connect();
      } else {
        waiting = true;
        waits.increment();
        // Idle connections elsewhere hold places this request could use: close one each.
        for (Pool p : pools.values()) {
          if (p.thread != ioThread) p.thread.execute(() -> p.shed(target));
        }
      }
    }

    /** Its timer ran out: the response's (see start) or the idle one (see armIdle). */
    void timedOut(boolean idle) {
      if (idle) {
        if (ended) return;
        if (progress == progressAtTick) {
          fail(UpstreamError.TIMEOUT, "idle for " + idleTimeoutMillis + "ms");
        } else {
          armIdle();
        }
      } else if (waiting) {
        fail(
            UpstreamError.TIMEOUT,
            "no upstream connection free in "
                + responseTimeoutMillis
                + "ms (upstream.max-connections = "
                + maxConnections
                + " open)");
      } else if (connected) {
        fail(UpstreamError.TIMEOUT, "no response in " + responseTimeoutMillis + "ms");
      } else {
        fail(UpstreamError.CONNECT, "connect timed out");
      }
    }

    /**
     * The exchange completed: if it ended first (the client went away), the upstream side stops
     * too. The relay is the listener itself, not a lambda made per request.
     */
    @Override
    public void exchangeEvent(HttpServerExchange ex, ExchangeCompletionListener.NextListener next) {
      try {
        if (!ended) {
          if (ex.getAttachment(UpstreamFailure.KEY) == null) {
            ex.putAttachment(
                UpstreamFailure.KEY,
                new UpstreamFailure(UpstreamError.CLIENT_ABORT, "connection closed"));
          }
          finishWithoutResponse();
        }
      } finally {
        next.proceed();
      }
    }

    /** A place among upstream.max-connections was handed to this waiting request. */
    void placeGiven() {
      if (ended || !waiting) {
        released(target); // pass it on
        return;
      }
      waiting = false;
      connect();
    }

    /** A connection handed back on this thread goes to this waiting request. */
    void handOver(Upstream connection) {
      if (ended || !waiting) {
        pool.offer(target, connection);
        return;
      }
      waiting = false;
      send(connection, true);
    }

    private String hostHeader() {
      String host = target.host();
      if (host.indexOf(':') >= 0 && !host.startsWith("[")) host = "[" + host + "]";
      return target.port() == 80 ? host : host + ":" + target.port();
    }

    private void connect() {
      XnioExecutor.Key connectTimer =
          ioThread.executeAfter(
              () -> {
                if (!connected) fail(UpstreamError.CONNECT, "connect timed out");
              },
              connectTimeoutMillis,
              TimeUnit.MILLISECONDS);
      // Undertow's client, with each connection's peer address read once (CachedPeerHttpClient).
      CachedPeerHttpClient.connect(
          new ClientCallback<ClientConnection>() {
            @Override
            public void completed(ClientConnection connection) {
              connectTimer.remove();
              Upstream opened = opened(connection, target);
              if (ended) {
                // Connected after all: keep it for the next request.
                pool.offer(target, opened);
                return;
              }
              send(opened, false);
            }

            @Override
            public void failed(IOException e) {
              connectTimer.remove();
              released(target);
              fail(UpstreamError.CONNECT, UpstreamFailure.rootMessage(e));
            }
          },
          uri(target),
          ioThread,
          buffers,
          OPTIONS,
          maxResponseHeadBytes);
    }

    private void send(Upstream chosen, boolean pooled) {
      upstream = chosen;
      connected = true;
      reused = pooled;
      chosen.connection.sendRequest(request, this);
    }

    /**
     * The connection failed before any byte of the response: sent again on a new connection if that
     * is safe (see the class comment), else 502. Or its head went past {@code
     * upstream.max-response-head-bytes} ({@link ResponseHeadLimit}): 502 at once.
     */
    private void failedBeforeResponse(IOException e) {
      if (ended || failing) return;
      // Not sent again: the app's answer would be as long the second time.
      if (e instanceof ResponseHeadLimit.TooLarge tooLarge) {
        fail(
            UpstreamError.RESPONSE_HEAD_TOO_LARGE,
            UpstreamFailure.headTooLarge(tooLarge.maxHeadBytes()));
        return;
      }
      if (reused
          && !retried
          && !hasBody
          && !headersCopied
          && !exchange.isResponseStarted()
          && idempotent(exchange.getRequestMethod())) {
        retry();
        return;
      }
      fail(UpstreamError.RESET, UpstreamFailure.rootMessage(e));
    }

    /** Drops the stale connection and sends the request again on a new one, within the timeout. */
    private void retry() {
      retried = true;
      retries.increment();
      Upstream stale = upstream;
      upstream = null;
      upstreamExchange = null;
      connected = false;
      reused = false;
      // Closing it may call back (its exchange's listeners): ignored, that exchange is abandoned.
      // Nothing else of it calls back later: its response listener failed (the call that got
      // here), or it never had one (its sendRequest failed).
      failing = true;
      if (stale != null) abort(stale);
      failing = false;
      if (ended) return;
      if (openOrWait(this)) {
        connect();
      } else {
        waiting = true;
        waits.increment();
      }
    }

    /**
     * The request is about to be written on the connection (its headers first); or, called again
     * with the same exchange, its response has come (the relay is its own response listener).
     */
    @Override
    public void completed(ClientExchange result) {
      if (result == upstreamExchange) {
        onResponse(result);
        return;
      }
      Upstream u = upstream;
      if (ended || u == null || result.getConnection() != u.connection) return;
      upstreamExchange = result;
      // Undertow's client sets X-Forwarded-Proto: put back what the client sent, or nothing.
      HeaderMap headers = result.getRequest().getRequestHeaders();
      headers.remove(Headers.X_FORWARDED_PROTO);
      HeaderValues proto = clientForwardedProto;
      if (proto != null) headers.addAll(Headers.X_FORWARDED_PROTO, proto);
      hooks.proxyToServerConnection(exchange, u.local, u.remote);
      result.setResponseListener(this); // completed(result) again, or failed

      if (hasBody) {
        clientBody = exchange.getRequestChannel();
        StreamSinkChannel out = result.getRequestChannel();
        upstreamBody = out;
        // The head goes now, as Jetty sends it: the app sees the request before its body arrives
        // (the client writes it on the first write or flush). A head that does not fit the socket
        // at once goes out ahead of the first body bytes.
        try {
          var unused = out.flush();
        } catch (IOException e) {
          requestFailed(e);
          return;
        }
        pumpRequest();
      } else {
        requestSent = true;
      }
      hooks.proxyToServerCommitted(exchange);
    }

    /** The request could not be sent on the connection, or its response not read. */
    @Override
    public void failed(IOException e) {
      failedBeforeResponse(e);
    }

    /** Moves the client's body upstream until one side has to wait. */
    private void pumpRequest() {
      StreamSourceChannel in = clientBody;
      StreamSinkChannel out = upstreamBody;
      if (ended || requestSent || in == null || out == null) return;
      PooledByteBuffer pooled = requestBuffer;
      if (pooled == null) {
        pooled = buffers.allocate();
        requestBuffer = pooled;
      }
      ByteBuffer buffer = pooled.getBuffer();
      while (true) {
        if (requestPending) {
          try {
            while (buffer.hasRemaining()) {
              if (out.write(buffer) == 0) {
                in.suspendReads();
                out.getWriteSetter()
                    .set(
                        ch -> {
                          ch.suspendWrites();
                          pumpRequest();
                        });
                out.resumeWrites();
                return;
              }
              progress++;
            }
          } catch (IOException e) {
            requestFailed(e);
            return;
          }
          requestPending = false;
        }
        buffer.clear();
        int n;
        try {
          n = in.read(buffer);
        } catch (IOException e) {
          fail(UpstreamError.CLIENT_ABORT, UpstreamFailure.rootMessage(e));
          return;
        }
        RequestBodyCheck c = check;
        if (n <= 0 && c != null && c.violation() != null) {
          // The body broke its framing and stops here (read as its end, or as nothing more):
          // the upstream must never see it complete.
          refuse(c);
          return;
        }
        if (n == 0) {
          in.getReadSetter().set(ch -> pumpRequest());
          in.resumeReads();
          return;
        }
        if (n < 0) {
          in.suspendReads();
          in.getReadSetter().set(null);
          releaseRequestBuffer();
          ClientExchange x = upstreamExchange;
          if (x != null) passTrailers(exchange, requestTokens, x);
          endRequestBody(out);
          return;
        }
        progress++;
        buffer.flip();
        requestPending = true;
      }
    }

    /**
     * Passes the trailers of a chunked body on, less hop-by-hop fields (by the message's connection
     * tokens). Undertow names them alike on both sides: what a chunk decoder received is attached
     * to its exchange (the server's, or the client's) as REQUEST_TRAILERS, and a chunk encoder
     * writes the RESPONSE_TRAILERS of its exchange in the last chunk.
     */
    private static void passTrailers(
        Attachable received, Set<String> connectionTokens, Attachable toSend) {
      HeaderMap trailers =
          HopByHop.endToEndTrailers(
              received.getAttachment(HttpAttachments.REQUEST_TRAILERS), connectionTokens);
      if (trailers != null) toSend.putAttachment(HttpAttachments.RESPONSE_TRAILERS, trailers);
    }

    private void endRequestBody(StreamSinkChannel out) {
      try {
        out.shutdownWrites();
        if (out.flush()) {
          requestDone();
          return;
        }
      } catch (IOException e) {
        requestFailed(e);
        return;
      }
      out.getWriteSetter()
          .set(
              ChannelListeners.flushingChannelListener(
                  ch -> {
                    ch.suspendWrites();
                    requestDone();
                  },
                  (ch, e) -> requestFailed(e)));
      out.resumeWrites();
    }

    private void requestDone() {
      requestSent = true;
      RequestBodyCheck c = check;
      if (c != null) c.armed(false);
    }

    /**
     * Writing the body upstream failed: the upstream closed. Its answer, if it sends one (e.g. 413
     * before the whole body), still goes to the client; otherwise the read side fails.
     */
    private void requestFailed(IOException e) {
      stopReading();
      releaseRequestBuffer();
      if (!headersCopied) {
        Upstream u = upstream;
        if (u != null) abort(u);
        fail(UpstreamError.RESET, UpstreamFailure.rootMessage(e));
      }
    }

    private void onResponse(ClientExchange result) {
      if (ended) return;
      cancelTimer();
      ClientResponse response = result.getResponse();
      int status = response.getResponseCode();
      exchange.setStatusCode(status);
      HeaderMap from = response.getResponseHeaders();
      HeaderValues connection = from.get(Headers.CONNECTION);
      Set<String> tokens = HopByHop.connectionTokensOf(connection);
      responseTokens = tokens;
      HeaderMap proxyToClientHeaders = exchange.getResponseHeaders();
      HopByHop.copyEndToEnd(from, tokens, proxyToClientHeaders);
      boolean chunked = from.contains(Headers.TRANSFER_ENCODING);
      // Transfer-Encoding overrides Content-Length (RFC 9112 §6.3): never both, never a wrong one.
      if (chunked) proxyToClientHeaders.remove(Headers.CONTENT_LENGTH);
      hooks.proxyToClientHeaders(exchange, proxyToClientHeaders);
      headersCopied = true;

      boolean noBody =
          request.getMethod().equals(Methods.HEAD)
              || status == 204
              || status == 304
              || (status >= 100 && status < 200);
      if (noBody) {
        String length = from.getFirst(Headers.CONTENT_LENGTH);
        if (!request.getMethod().equals(Methods.HEAD)
            && !chunked
            && length != null
            && !length.equals("0")) {
          // Undertow's client would wait for a body a 204/304 never has: the connection cannot
          // be reused.
          closeUpstream();
        } else {
          drainEmpty(result.getResponseChannel());
        }
        finish();
        return;
      }
      StreamSourceChannel source = result.getResponseChannel();
      if (!chunked && from.getFirst(Headers.CONTENT_LENGTH) == null) {
        StreamSourceChannel raw = closeDelimited(response);
        if (raw == null) {
          fail(UpstreamError.RESET, "a close-delimited response this transport cannot read");
          return;
        }
        source = raw;
      }
      responseSource = source;
      pumpResponse();
    }

    /**
     * A response framed by the connection's close (no length, not chunked). Undertow's client reads
     * an HTTP/1.0 one to the close itself, but takes an HTTP/1.1 one for empty: then the connection
     * is taken over (it is not reused) and read to its end, under the length conduit the client put
     * on it. Null if that cannot be done.
     */
    private @Nullable StreamSourceChannel closeDelimited(ClientResponse response) {
      Upstream u = upstream;
      if (u == null) return null;
      closeDelimited = true;
      if (!response.getProtocol().equals(Protocols.HTTP_1_1)) return rawBody();
      Field next = CONDUIT_NEXT;
      if (next == null) return null;
      try {
        StreamConnection raw = u.connection.performUpgrade();
        StreamSourceConduit conduit = raw.getSourceChannel().getConduit();
        if (conduit instanceof FixedLengthStreamSourceConduit) {
          raw.getSourceChannel().setConduit((StreamSourceConduit) next.get(conduit));
        }
        return raw.getSourceChannel();
      } catch (IOException | ReflectiveOperationException | RuntimeException e) {
        return null;
      }
    }

    private @Nullable StreamSourceChannel rawBody() {
      ClientExchange x = upstreamExchange;
      return x == null ? null : x.getResponseChannel();
    }

    /** Reads the (empty) body of a response that has none, so the connection can be reused. */
    private void drainEmpty(StreamSourceChannel channel) {
      try {
        ByteBuffer one = ByteBuffer.allocate(1);
        if (channel.read(one) != -1) closeUpstream();
      } catch (IOException e) {
        closeUpstream();
      }
    }

    /** Moves the upstream's body to the client until one side has to wait. */
    private void pumpResponse() {
      StreamSourceChannel in = responseSource;
      if (ended || in == null) return;
      StreamSinkChannel out = sink;
      if (out == null) {
        out = exchange.getResponseChannel();
        sink = out;
      }
      PooledByteBuffer pooled = responseBuffer;
      if (pooled == null) {
        pooled = buffers.allocate();
        responseBuffer = pooled;
      }
      ByteBuffer buffer = pooled.getBuffer();
      while (true) {
        if (responsePending) {
          try {
            while (buffer.hasRemaining()) {
              if (out.write(buffer) == 0) {
                in.suspendReads();
                out.getWriteSetter()
                    .set(
                        ch -> {
                          ch.suspendWrites();
                          pumpResponse();
                        });
                out.resumeWrites();
                armIdle();
                return;
              }
              progress++;
            }
          } catch (IOException e) {
            fail(UpstreamError.CLIENT_ABORT, UpstreamFailure.rootMessage(e));
            return;
          }
          responsePending = false;
        }
        buffer.clear();
        int n;
        try {
          n = in.read(buffer);
        } catch (IOException e) {
          fail(UpstreamError.RESET, UpstreamFailure.rootMessage(e));
          return;
        }
        if (n == 0) {
          in.getReadSetter().set(ch -> pumpResponse());
          responseListening = true;
          in.resumeReads();
          armIdle();
          return;
        }
        if (n < 0) {
          in.suspendReads();
          // Only a listener set here needs clearing (or on a close-delimited body's socket, the
          // client's own): the client's response channel makes a new setter when first asked.
          if (responseListening || closeDelimited) in.getReadSetter().set(null);
          ClientExchange x = upstreamExchange;
          if (x != null && !closeDelimited) passTrailers(x, responseTokens, exchange);
          finish();
          return;
        }
        progress++;
        buffer.flip();
        responsePending = true;
      }
    }

    /** Waiting on either side: fail the exchange if no byte moves for upstream.idle-timeout. */
    private void armIdle() {
      if (deadlines != null) return;
      progressAtTick = progress;
      pool.idleDeadlines.add(this);
    }

    /** The response is complete: hand the connection back (if it can carry another) and end. */
    private void finish() {
      if (ended) return;
      ended = true;
      cancelTimer();
      releaseBuffers();
      stopReading();
      Upstream u = upstream;
      if (u != null) {
        // Answered before the whole request was sent, or framed by its close: not reusable. The
        // client's connection stays (Undertow reads the rest of its body), as with Jetty.
        if (!requestSent || closeDelimited) {
          abort(u);
        } else {
          pool.offer(target, u);
        }
      }
      exchange.endExchange();
    }

    /** The exchange ended without a response (client gone): drop the upstream side. */
    private void finishWithoutResponse() {
      ended = true;
      stopWaiting();
      cancelTimer();
      releaseBuffers();
      stopReading();
      closeUpstream();
    }

    /**
     * The exchange failed: answer 502/504 if nothing was sent yet, else cut the connection. A
     * request body refused mid-way (its framing broke) is answered as a refusal instead.
     */
    private void fail(UpstreamError kind, String message) {
      if (ended || failing) return;
      failing = true; // closing the connection below may call back into here
      stopWaiting();
      closeUpstream(); // whatever it was doing, the connection cannot carry another exchange
      RequestBodyCheck c = check;
      if (c != null && c.violation() != null) {
        refuse(c);
        return;
      }
      if (exchange.isResponseStarted() || (headersCopied && sink != null)) {
        abortClient(new UpstreamFailure(kind, message));
        return;
      }
      ended = true;
      cancelTimer();
      releaseBuffers();
      stopReading();
      new UpstreamFailure(kind, message).answer(exchange, hooks);
    }

    /**
     * The request body broke its framing after forwarding began: the upstream connection is closed
     * before the body's end (so the upstream never gets a complete request), and the client gets
     * the refusal if the app's response has not started, else a cut.
     */
    private void refuse(RequestBodyCheck c) {
      if (ended) return;
      failing = true; // closing the connection below calls back into fail()
      closeUpstream();
      if (exchange.isResponseStarted() || (headersCopied && sink != null)) {
        abortClient(
            new UpstreamFailure(
                UpstreamError.CLIENT_ABORT, "malformed chunked body: " + c.violation()));
        return;
      }
      ended = true;
      cancelTimer();
      releaseBuffers();
      stopReading();
      exchange.putAttachment(
          UpstreamFailure.KEY, new UpstreamFailure(UpstreamError.REFUSED, c.refusal()));
      c.refuse(exchange); // clears what onResponse may have set; ends the exchange
    }

    private void abortClient(UpstreamFailure failure) {
      if (!exchange.isComplete()) exchange.putAttachment(UpstreamFailure.KEY, failure);
      ended = true;
      cancelTimer();
      releaseBuffers();
      stopReading();
      closeUpstream();
      // The response has begun: the only honest signal left is a cut connection.
      IoUtils.safeClose(exchange.getConnection());
      exchange.endExchange();
    }

    /** The body is no longer read for the upstream: a framing violation from now on cuts. */
    private void stopReading() {
      StreamSourceChannel in = clientBody;
      if (in != null && !requestSent) {
        in.suspendReads();
        in.getReadSetter().set(null);
      }
      RequestBodyCheck c = check;
      if (c != null) c.armed(false);
    }

    private void stopWaiting() {
      if (!waiting) return;
      waiting = false;
      withdraw(this);
    }

    private void closeUpstream() {
      Upstream u = upstream;
      if (u != null) abort(u);
    }

    private void cancelTimer() {
      Deadlines d = deadlines;
      if (d != null) d.remove(this);
    }

    private void releaseRequestBuffer() {
      PooledByteBuffer b = requestBuffer;
      requestBuffer = null;
      requestPending = false;
      if (b != null) b.close();
    }

    private void releaseBuffers() {
      releaseRequestBuffer();
      PooledByteBuffer b = responseBuffer;
      responseBuffer = null;
      responsePending = false;
      if (b != null) b.close();
    }
  }

  /** Methods whose request may be sent twice (RFC 9110 §9.2.2). */
  static boolean idempotent(HttpString method) {
    return method.equals(Methods.GET)
        || method.equals(Methods.HEAD)
        || method.equals(Methods.OPTIONS)
        || method.equals(Methods.TRACE)
        || method.equals(Methods.PUT)
        || method.equals(Methods.DELETE);
  }

  /**
   * Closes an upstream connection at once, whatever it was sending. {@code ClientConnection.close}
   * closes cleanly: it would end a half-sent chunked body with its last chunk, handing the upstream
   * a complete request that the client never finished (or that hoptrace refused).
   */
  private static void abort(Upstream upstream) {
    try {
      IoUtils.safeClose(upstream.connection.performUpgrade());
    } catch (IOException | RuntimeException e) {
      IoUtils.safeClose(upstream.connection);
    }
  }

  /**
   * Undertow suspends reads on the client's connection while a request runs and resumes them when
   * it ends: on a keep-alive connection that is an {@code epoll_ctl} DEL and an ADD per request,
   * because the request waits for the upstream across a select. Resumed again here, in the same
   * turn of the loop, the interest never changes and the selector makes neither call (bench/README
   * "I/O loop (s15)"). Only for a request without a body (its body would be read through the same
   * channel). Safe: if the client sends anything before the response ends (a pipelined request, a
   * close), Undertow's read listener sees a request still running and suspends reads itself, as it
   * did before; its end-of-exchange resumes them as always.
   */
  private static void keepClientReadInterest(HttpServerExchange exchange) {
    if (exchange.getConnection() instanceof AbstractServerConnection connection) {
      connection.getOriginalSourceConduit().resumeReads();
    }
  }

  /** The socket under Undertow's HTTP/1.1 client connection, or null if it cannot be reached. */
  private static @Nullable ConduitStreamSourceChannel sourceOf(ClientConnection connection) {
    Field f = CLIENT_SOCKET;
    if (f == null || !f.getDeclaringClass().isInstance(connection)) return null;
    try {
      return ((StreamConnection) f.get(connection)).getSourceChannel();
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  private static @Nullable Field clientSocket() {
    try {
      Field f =
          Class.forName("io.undertow.client.http.HttpClientConnection")
              .getDeclaredField("connection");
      if (!StreamConnection.class.isAssignableFrom(f.getType())) return null;
      f.setAccessible(true);
      return f;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  private static @Nullable Field conduitNext() {
    try {
      Field f = AbstractConduit.class.getDeclaredField("next");
      f.setAccessible(true);
      return f;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }
}
