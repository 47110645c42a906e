package io.hoptrace.proxy.upstream;

import static java.util.Objects.requireNonNull;

import io.hoptrace.config.Settings;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.LongAdder;
import org.eclipse.jetty.client.ContinueProtocolHandler;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.io.ArrayByteBufferPool;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.util.thread.Invocable;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.jspecify.annotations.Nullable;

/**
 * The one Jetty HttpClient every hop forwards with: HTTP/1.1, pooled keep-alive connections, one
 * selector, and nothing a transparent proxy must not do (no redirects, cookies, authentication,
 * content decoding or User-Agent of its own).
 *
 * <p>Created on first use: with {@code upstream.client = same-loop}, the default, Jetty only takes
 * the requests the same-loop path hands it (Expect: 100-continue, targets by host name, heads past
 * its buffer), which most sidecars never see; until then there is no Jetty client, thread, selector
 * or buffer pool (bench/README.md, "Runtime memory (s15)"). The forwarder has it started off the IO
 * threads ({@link #awaitStart}): a start takes ~300 ms on a fresh sidecar, and on an IO thread
 * every other connection of that thread would wait for it.
 */
public final class UpstreamClient implements AutoCloseable {
  /** The buffer a request head is written into; one that does not fit gets {@link #MAX_HEAD}. */
  static final int REQUEST_BUFFER = 4 * 1024;

  /**
   * The most a request head may take: whatever the caller's headers (the listeners let through up
   * to {@code limits.max-request-line + limits.max-header-bytes}, 40 KiB by default) plus what the
   * hop adds, Jetty must not be the one to refuse them (its default is 8 KiB).
   */
  static final int MAX_HEAD = 64 * 1024;

  /**
   * The buffer response bytes are read into, as Undertow's on the other side. Jetty's response
   * parser carries a header block across buffers, so it limits nothing: a response head is refused
   * at {@code upstream.max-response-head-bytes} only.
   */
  static final int RESPONSE_BUFFER = 16 * 1024;

  /**
   * Direct memory the buffer pool keeps for reuse; past it, idle buffers are released. What is in
   * use is not bounded by it: one response buffer per request being read (16 KiB each).
   */
  static final long POOL_MAX_DIRECT = 4L * 1024 * 1024;

  /** The name of the client's pool threads ({@code hoptrace-upstream-N}). */
  public static final String THREAD_NAME = "hoptrace-upstream";

  private final Settings.Upstream settings;
  private final List<Connection.Listener> connectionListeners = new CopyOnWriteArrayList<>();
  private final Object lock = new Object();

  /** Null until the first {@link #jetty()} or {@link #start()}. Written only under {@code lock}. */
  private volatile @Nullable HttpClient client;

  /** Set by {@link #close()}, under {@code lock}: a client created after it is not started. */
  private boolean closed;

  /**
   * A start is under way ({@link #awaitStart}): requests arriving meanwhile wait for it rather than
   * starting another. Under {@code lock}; cleared once it has succeeded or failed (a failed start
   * is tried again by the next request).
   */
  private boolean starting;

  /**
   * The requests waiting for the start under way, told when it ends. Under {@code lock}. A waiter
   * whose bound ran out leaves ({@link #stopWaiting}): a start that never ends keeps no request.
   */
  private final Set<StartWaiter> waiters = new LinkedHashSet<>();

  private final LongAdder startFailures = new LongAdder();
  private final LongAdder startWaitTimeouts = new LongAdder();

  /** A request waiting for the client's start ({@link #awaitStart}). */
  interface StartWaiter {
    /**
     * The start ended: started if {@code failure} is null. Called once, on the thread that ran the
     * start, unless {@link #stopWaiting} removed the waiter first.
     */
    void startEnded(@Nullable Throwable failure);
  }

  /** Creates nothing yet: see the class comment. */
  public UpstreamClient(Settings.Upstream settings) {
    this.settings = settings;
  }

  private static HttpClient create(
      Settings.Upstream settings, List<Connection.Listener> listeners) {
    ClientConnector connector = new ClientConnector();
    connector.setSelectors(1);
    QueuedThreadPool threads = new QueuedThreadPool(16, 2);
    threads.setName(THREAD_NAME);
    threads.setDaemon(true);
    connector.setExecutor(threads);
    HttpClientTransportOverHTTP transport = new HttpClientTransportOverHTTP(connector);
    // Every callback of ours only hands work to an Undertow IO thread, so Jetty may call it
    // directly on its selector thread instead of dispatching to its pool.
    transport.setInvocationType(Invocable.InvocationType.NON_BLOCKING);
    HttpClient client = new HttpClient(transport);
    client.setExecutor(threads);
    // Jetty's own pool keeps 8 buffers per size (half its threads): under concurrency every
    // acquire past them allocated a fresh direct buffer that only a GC frees (up to 54 MB of direct
    // memory at 16-64 connections, bench/README.md "Memory (s14)"). Buckets of 4 KiB steps up to
    // MAX_HEAD, as many buffers per size as upstream connections, at most POOL_MAX_DIRECT kept.
    client.setByteBufferPool(
        new ArrayByteBufferPool(
            0,
            4 * 1024,
            MAX_HEAD,
            Math.max(16, settings.maxConnections()),
            POOL_MAX_DIRECT,
            POOL_MAX_DIRECT));
    client.setConnectTimeout(settings.connectTimeout().toMillis());
    client.setIdleTimeout(settings.idleTimeout().toMillis());
    client.setMaxConnectionsPerDestination(settings.maxConnections());
    client.setMaxRequestsQueuedPerDestination(64 * 1024);
    // Buffers sized for the usual request, limits for the unusual one: a request head grows from
    // REQUEST_BUFFER to MAX_HEAD when it does not fit; response heads span response buffers.
    client.setRequestBufferSize(REQUEST_BUFFER);
    client.setMaxRequestHeadersSize(MAX_HEAD);
    client.setResponseBufferSize(RESPONSE_BUFFER);
    // Jetty's parser counts the head's bytes as it parses them (checked to the kilobyte, not to
    // the byte as same-loop's ResponseHeadLimit is: InboundProxyJettyTest); over the limit the
    // response fails with "Response Header Bytes Too Large" (UpstreamForwarder.HEAD_TOO_LARGE,
    // classified as RESPONSE_HEAD_TOO_LARGE).
    client.setMaxResponseHeadersSize(settings.maxResponseHeadBytes());
    client.setFollowRedirects(false);
    client.setHttpCookieStore(new org.eclipse.jetty.http.HttpCookieStore.Empty());
    client.setUserAgentField(null);
    // A body without a Content-Type goes without one (Jetty would add application/octet-stream).
    client.setDefaultRequestContentType(null);
    client.getProtocolHandlers().clear(); // no redirect/auth handling: the client decides
    client.getProtocolHandlers().put(new ContinueProtocolHandler()); // Expect: 100-continue
    // Jetty adds HttpClient's listener beans to every new connection.
    for (Connection.Listener listener : listeners) client.addBean(listener);
    return client;
  }

  /**
   * Tells {@code listener} when each upstream connection opens and closes (e.g. to forget what was
   * cached about it). Call before the first request.
   */
  public void addConnectionListener(Connection.Listener listener) {
    connectionListeners.add(listener);
  }

  /**
   * Creates and starts the Jetty client now rather than on the first request that needs it: for
   * {@code upstream.client = jetty}, where every request takes it.
   */
  public void start() {
    var unused = jetty();
  }

  /** {@code upstream.max-response-head-bytes}: Jetty refuses a longer response head. */
  int maxResponseHeadBytes() {
    return settings.maxResponseHeadBytes();
  }

  /** Whether the Jetty client has been created (by {@link #start()} or a first request). */
  public boolean started() {
    return client != null;
  }

  /** Starts of the Jetty client that failed (each answered its waiting requests with a 502). */
  public long startFailures() {
    return startFailures.sum();
  }

  /**
   * Requests that stopped waiting for a start that had not ended within {@code
   * upstream.connect-timeout} (each answered 502; the start went on for later requests).
   */
  public long startWaitTimeouts() {
    return startWaitTimeouts.sum();
  }

  /**
   * How long a request waits for a start under way before it is answered ({@code
   * upstream.connect-timeout}): the start is the first step of its connect.
   */
  long startWaitMillis() {
    return settings.connectTimeout().toMillis();
  }

  /**
   * Whether the caller must wait for the client's start: false if it is started (go on now); else
   * {@code waiter} is told when the start under way ends, beginning one on {@code starter} if none
   * is (the first request that needs Jetty starts it; the ones arriving meanwhile wait for the same
   * start, none holds a thread or a lock while it waits). A failed start is tried again by the next
   * call.
   */
  boolean awaitStart(Executor starter, StartWaiter waiter) {
    if (client != null) return false;
    synchronized (lock) {
      if (client != null) return false;
      waiters.add(waiter);
      if (starting) return true;
      starting = true;
    }
    try {
      starter.execute(this::runStart);
    } catch (RejectedExecutionException e) { // the worker pool is shutting down
      startFailed(e);
    }
    return true;
  }

  /**
   * {@code waiter} stops waiting (its bound ran out): true if it was still waiting, and is counted
   * in {@link #startWaitTimeouts()}; false if the start has ended and the waiter is being told. The
   * start goes on either way.
   */
  boolean stopWaiting(StartWaiter waiter) {
    boolean removed;
    synchronized (lock) {
      removed = waiters.remove(waiter);
    }
    if (removed) startWaitTimeouts.increment();
    return removed;
  }

  /** Requests waiting for the start under way (for tests and monitoring). */
  int waitingForStart() {
    synchronized (lock) {
      return waiters.size();
    }
  }

  /**
   * Creates and starts the client for {@link #awaitStart}, then tells its waiters. Not under {@code
   * lock}: the start takes ~300 ms on a fresh sidecar, and {@link #awaitStart} (on IO threads) must
   * not wait for it.
   */
  private void runStart() {
    HttpClient c;
    boolean stopping;
    try {
      c = create(settings, connectionListeners);
      synchronized (lock) {
        stopping = closed;
      }
      if (!stopping) {
        try {
          c.start();
        } catch (Exception e) {
          stopQuietly(c, e); // whatever did start (thread pool, selector) goes again
          throw new IllegalStateException("starting the upstream client: " + e.getMessage(), e);
        }
        // Bytes pass through as the upstream sent them. Jetty 12.1's doStart() registers every
        // decoder it finds on the classpath (gzip comes with jetty-client), so this must follow
        // start(): cleared before, Jetty added "Accept-Encoding: gzip" to requests the caller sent
        // without it, then decoded the answer and dropped its Content-Encoding.
        c.getContentDecoderFactories().clear();
      }
    } catch (RuntimeException | Error e) {
      startFailed(e);
      return;
    }
    boolean closedMeanwhile;
    List<StartWaiter> told;
    synchronized (lock) {
      client = c;
      starting = false;
      closedMeanwhile = closed && !stopping;
      told = takeWaiters();
    }
    // close() ran during the start and found no client to stop: stopped here.
    if (closedMeanwhile) stopQuietly(c, null);
    tell(told, null);
  }

  /** The start failed: its waiters are told; the next request starts a new client. */
  private void startFailed(Throwable failure) {
    startFailures.increment();
    List<StartWaiter> told;
    synchronized (lock) {
      starting = false;
      told = takeWaiters();
    }
    tell(told, failure);
  }

  /** The waiters of the start that has just ended, which no longer wait. Under {@code lock}. */
  private List<StartWaiter> takeWaiters() {
    List<StartWaiter> taken = new ArrayList<>(waiters);
    waiters.clear();
    return taken;
  }

  private static void tell(List<StartWaiter> told, @Nullable Throwable failure) {
    for (StartWaiter waiter : told) {
      try {
        waiter.startEnded(failure);
      } catch (RuntimeException e) {
        // One waiter's failure (its IO thread stopping) must not keep the others waiting.
      }
    }
  }

  private static void stopQuietly(HttpClient c, @Nullable Throwable into) {
    try {
      c.stop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      if (into != null) into.addSuppressed(e);
    } catch (Exception e) {
      if (into != null) into.addSuppressed(e);
    }
  }

  /**
   * The Jetty client, created and started on the first call: one client, started once, whichever
   * thread comes first; the calling thread runs the start, or waits for the one under way. After
   * {@link #close()}, a client that was never started, so that a request arriving while the sidecar
   * stops fails as it did on the stopped client before, rather than starting threads.
   *
   * @throws IllegalStateException if the start failed
   */
  HttpClient jetty() {
    HttpClient c = client;
    if (c != null) return c;
    CompletableFuture<Optional<Throwable>> ended = new CompletableFuture<>();
    if (awaitStart(Runnable::run, failure -> ended.complete(Optional.ofNullable(failure)))) {
      Throwable failure = ended.join().orElse(null);
      if (failure instanceof IllegalStateException failed) throw failed;
      if (failure != null) {
        throw new IllegalStateException(
            "starting the upstream client: " + failure.getMessage(), failure);
      }
    }
    return requireNonNull(client, "client"); // set before the waiters are told, never unset
  }

  @Override
  public void close() {
    HttpClient c;
    synchronized (lock) {
      closed = true;
      c = client;
    }
    if (c == null) return;
    try {
      c.stop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      throw new IllegalStateException("stopping the upstream client", e);
    }
  }
}
