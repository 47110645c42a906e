package io.hoptrace.proxy.tcp;

import static java.util.Objects.requireNonNull;

import io.hoptrace.proxy.tcp.mysql.MysqlObserver;
import io.hoptrace.proxy.tcp.redis.RedisObserver;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The TCP routes: one listener per {@link TcpRoute}, all served by one non-blocking selector thread
 * ({@code hoptrace-tcp}). Each accepted connection is relayed to the route's upstream byte for
 * byte, and its protocol's observer turns what it sees into CLIENT spans.
 *
 * <p>Wiring: {@code TcpRelay.start(service, routes, linker, sink)} at startup (it binds every
 * listener before returning, so a bad port fails startup), {@link #close()} at shutdown.
 */
public final class TcpRelay implements Closeable {
  /** Per direction per connection; two per connection. */
  static final int BUFFER_SIZE = 64 * 1024;

  static final int MAX_IDLE_BUFFERS = 64;
  static final int MAX_ACCEPTS_PER_WAKEUP = 64;
  static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

  final String serviceName;
  final TcpLinker linker;
  final SpanSink sink;
  final TcpClock clock = new TcpClock();
  final BufferPool pool = new BufferPool(BUFFER_SIZE, MAX_IDLE_BUFFERS);
  final Selector selector;
  final Map<String, Listener> listeners = new LinkedHashMap<>();
  final Set<RelayConnection> connections = new HashSet<>(); // selector thread only
  final List<RelayConnection> connecting = new ArrayList<>(); // selector thread only
  final AtomicInteger openConnections = new AtomicInteger();
  final AtomicInteger observerFailures = new AtomicInteger();
  final Thread thread;
  final long connectTimeoutNanos;
  volatile boolean closing;

  TcpRelay(String serviceName, TcpLinker linker, SpanSink sink, Duration connectTimeout)
      throws IOException {
    this.connectTimeoutNanos = connectTimeout.toNanos();
    this.serviceName = serviceName;
    this.linker = linker;
    this.sink = sink;
    this.selector = Selector.open();
    this.thread = new Thread(this::run, "hoptrace-tcp");
    thread.setDaemon(true);
  }

  /** {@link #start(String, List, TcpLinker, SpanSink, Duration)} with the default timeout. */
  public static TcpRelay start(
      String serviceName, List<TcpRoute> routes, TcpLinker linker, SpanSink sink)
      throws IOException {
    return start(serviceName, routes, linker, sink, DEFAULT_CONNECT_TIMEOUT);
  }

  /**
   * Binds a listener for every route and starts relaying. Throws {@link IOException} naming the
   * route when a port cannot be bound; nothing stays open then. An upstream that has not accepted a
   * connection within {@code connectTimeout} fails it (the app's connection is closed and the span
   * says so) rather than leaving the app waiting for the kernel's two minutes.
   */
  public static TcpRelay start(
      String serviceName,
      List<TcpRoute> routes,
      TcpLinker linker,
      SpanSink sink,
      Duration connectTimeout)
      throws IOException {
    requireNonNull(serviceName, "serviceName");
    requireNonNull(connectTimeout, "connectTimeout");
    if (connectTimeout.isNegative() || connectTimeout.isZero()) {
      throw new IllegalArgumentException(
          "connectTimeout: " + connectTimeout + " (expected: positive)");
    }
    requireNonNull(routes, "routes");
    requireNonNull(linker, "linker");
    requireNonNull(sink, "sink");
    TcpRelay relay = new TcpRelay(serviceName, linker, sink, connectTimeout);
    try {
      for (TcpRoute route : routes) relay.bind(route);
    } catch (IOException | RuntimeException e) {
      relay.closeListeners();
      closeQuietly(relay.selector);
      throw e;
    }
    relay.thread.start();
    return relay;
  }

  void bind(TcpRoute route) throws IOException {
    if (listeners.containsKey(route.name)) {
      throw new IllegalArgumentException("tcp-routes." + route.name + ": defined twice");
    }
    ServerSocketChannel channel = ServerSocketChannel.open();
    try {
      channel.bind(new InetSocketAddress(route.listenHost, route.listenPort));
      channel.configureBlocking(false);
    } catch (IOException e) {
      closeQuietly(channel);
      throw new IOException(
          "tcp-routes."
              + route.name
              + ".listen: cannot bind "
              + route.listenHost
              + ":"
              + route.listenPort
              + ": "
              + reason(e),
          e);
    }
    Listener listener = new Listener(route, channel);
    listeners.put(route.name, listener);
    channel.register(selector, SelectionKey.OP_ACCEPT, listener);
  }

  /** The port route {@code name} listens on (the bound one when configured as 0). */
  public int port(String routeName) {
    Listener l = listeners.get(routeName);
    if (l == null) throw new IllegalArgumentException("no tcp route " + routeName);
    return l.port;
  }

  public List<TcpRoute> routes() {
    List<TcpRoute> routes = new ArrayList<>();
    for (Listener l : listeners.values()) routes.add(l.route);
    return routes;
  }

  /** Connections being relayed now. */
  public int openConnections() {
    return openConnections.get();
  }

  /** Relay buffers held by open connections (two each): zero when idle, or buffers leaked. */
  public int buffersInUse() {
    return pool.inUse();
  }

  /** Observers disabled because they threw (a bug: their connections lost their spans). */
  public int observerFailures() {
    return observerFailures.get();
  }

  /** Stops accepting, closes every connection and listener; waits up to five seconds. */
  @Override
  public void close() {
    closing = true;
    selector.wakeup();
    if (Thread.currentThread() == thread) return;
    try {
      thread.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  void run() {
    try {
      while (!closing) {
        selector.select(250L);
        expireConnects();
        Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
        while (keys.hasNext()) {
          SelectionKey key = keys.next();
          keys.remove();
          if (!key.isValid()) continue;
          Object attachment = key.attachment();
          if (attachment instanceof Listener l) {
            accept(l);
          } else if (attachment instanceof RelayConnection c) {
            try {
              c.onReady(key);
            } catch (java.nio.channels.CancelledKeyException e) {
              c.close("relay: " + reason(e));
            }
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      // The selector itself failed: nothing can be relayed any more, so close everything below.
    } finally {
      for (RelayConnection c : new ArrayList<>(connections)) c.close("hoptrace shutting down");
      closeListeners();
      closeQuietly(selector);
    }
  }

  /** Fails connections whose upstream has not accepted in time (checked every wakeup). */
  void expireConnects() {
    if (connecting.isEmpty()) return;
    long now = System.nanoTime();
    for (Iterator<RelayConnection> it = connecting.iterator(); it.hasNext(); ) {
      RelayConnection c = it.next();
      if (c.connected || c.closed) {
        it.remove();
      } else if (now - c.openedNanos > connectTimeoutNanos) {
        it.remove();
        c.close(
            "connect "
                + c.upstream
                + ": timed out after "
                + TimeUnit.NANOSECONDS.toMillis(connectTimeoutNanos)
                + " ms");
      }
    }
  }

  void accept(Listener listener) {
    for (int i = 0; i < MAX_ACCEPTS_PER_WAKEUP; i++) {
      SocketChannel client;
      try {
        client = listener.channel.accept();
      } catch (IOException e) {
        return; // e.g. too many open files: the listener stays ready and is retried next wakeup
      }
      if (client == null) return;
      open(listener, client);
    }
  }

  void open(Listener listener, SocketChannel client) {
    TcpRoute route = listener.route;
    InetSocketAddress upstream = listener.upstream();
    String upstreamText = route.upstreamHost + ":" + route.upstreamPort;
    SocketChannel server;
    InetSocketAddress app;
    InetSocketAddress proxy;
    try {
      client.configureBlocking(false);
      client.setOption(StandardSocketOptions.TCP_NODELAY, true);
      SocketAddress remote = client.getRemoteAddress();
      SocketAddress local = client.getLocalAddress();
      app = remote instanceof InetSocketAddress a ? a : new InetSocketAddress(0);
      proxy = local instanceof InetSocketAddress l ? l : new InetSocketAddress(0);
      server = SocketChannel.open();
    } catch (IOException e) {
      closeQuietly(client);
      return;
    }
    RelayConnection c = new RelayConnection(this, client, server, upstreamText);
    connections.add(c);
    openConnections.incrementAndGet();
    String upstreamIp = upstream.isUnresolved() ? null : upstream.getAddress().getHostAddress();
    SpanRecorder recorder =
        new SpanRecorder(
            serviceName, route, app, proxy, upstreamIp, route.upstreamPort, linker, sink, clock);
    try {
      c.observer = newObserver(route.protocol, recorder);
    } catch (RuntimeException e) {
      c.disableObserver();
    }
    try {
      server.configureBlocking(false);
      server.setOption(StandardSocketOptions.TCP_NODELAY, true);
      c.clientKey = client.register(selector, 0, c);
      c.serverKey = server.register(selector, SelectionKey.OP_CONNECT, c);
      if (upstream.isUnresolved()) throw new IOException("unknown host " + route.upstreamHost);
      if (server.connect(upstream)) c.connected = true;
      else connecting.add(c);
    } catch (IOException e) {
      c.close("connect " + upstreamText + ": " + reason(e));
      return;
    }
    c.updateInterest();
  }

  static ProtocolObserver newObserver(TcpProtocol protocol, SpanRecorder recorder) {
    return switch (protocol) {
      case REDIS -> new RedisObserver(recorder);
      case MYSQL -> new MysqlObserver(recorder);
      case TCP -> new TcpObserver(recorder);
    };
  }

  void released(RelayConnection c) {
    if (connections.remove(c)) openConnections.decrementAndGet();
    pool.release(c.clientToServer);
    pool.release(c.serverToClient);
  }

  void closeListeners() {
    for (Listener l : listeners.values()) closeQuietly(l.channel);
  }

  static String reason(Exception e) {
    String message = e.getMessage();
    return message != null ? message : e.getClass().getSimpleName();
  }

  static void closeQuietly(@Nullable Closeable c) {
    if (c == null) return;
    try {
      c.close();
    } catch (IOException e) {
      // Closing after an error: the first error is the one worth reporting.
    }
  }

  /** One route's listening socket and its upstream address. */
  static final class Listener {
    final TcpRoute route;
    final ServerSocketChannel channel;
    final int port;
    InetSocketAddress upstream;

    Listener(TcpRoute route, ServerSocketChannel channel) throws IOException {
      this.route = route;
      this.channel = channel;
      SocketAddress local = channel.getLocalAddress();
      this.port = local instanceof InetSocketAddress a ? a.getPort() : route.listenPort;
      this.upstream = new InetSocketAddress(route.upstreamHost, route.upstreamPort);
    }

    /**
     * The upstream address, resolved once; retried per connection while it does not resolve (the
     * service may start before its database's DNS name exists).
     */
    InetSocketAddress upstream() {
      if (upstream.isUnresolved()) {
        upstream = new InetSocketAddress(route.upstreamHost, route.upstreamPort);
      }
      return upstream;
    }
  }
}
