package io.hoptrace.proxy.guard;

import static java.util.Objects.requireNonNull;

import io.hoptrace.config.Settings;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.span.Kind;
import io.hoptrace.span.Span;
import io.undertow.Undertow;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.channels.AcceptingChannel;

/**
 * The guard stages in front of a listener's own chain, composed in one place:
 *
 * <pre>
 * (bytes) head guard: malformed heads, sizes, framing (400/414/431/501/505), below the parser
 * (requests) overload (503: connections, heap) → Proxy-Status on upstream failures
 *   → request validation (400/414/431/501/505) → body rate (cut) → the listener's chain
 * </pre>
 *
 * Shedding comes first because it must cost the least; validation before anything that reads the
 * body or forwards.
 */
public final class GuardHandlers implements HttpHandler {
  private final OverloadHandler first;
  private final Settings.Limits limits;
  private final Refusals refusals;
  private volatile @Nullable AcceptingChannel<?> channel;
  private volatile @Nullable AtomicLong openConnections;

  private GuardHandlers(OverloadHandler first, Settings.Limits limits, Refusals refusals) {
    this.first = first;
    this.limits = limits;
    this.refusals = refusals;
  }

  /**
   * The guard stages in front of {@code next}.
   *
   * @param kind SERVER for the inbound listener, CLIENT for the outbound ones (the kind of a
   *     refusal's span line)
   * @param spans writes one span line
   */
  public static GuardHandlers create(
      Settings settings, Kind kind, Consumer<Span> spans, ProxyMetrics metrics, HttpHandler next) {
    requireNonNull(next, "next");
    Settings.Limits limits = settings.limits();
    Refusals refusals = new Refusals(settings.service(), kind, spans, metrics);
    for (RefusalReason reason : RefusalReason.values()) metrics.counter(reason.metricName());
    HttpHandler bodyRate =
        new BodyRateHandler(limits.bodyMinRate(), limits.bodyRateGrace().toNanos(), refusals, next);
    HttpHandler validate = new RequestGuardHandler(limits, refusals, bodyRate);
    HttpHandler proxyStatus = new ProxyStatusHandler(validate);
    return new GuardHandlers(
        new OverloadHandler(
            limits.maxConnections(),
            limits.shedHeapRatio(),
            new HeapPressure(),
            refusals,
            proxyStatus),
        limits,
        refusals);
  }

  /**
   * These stages behind a drain stage (the inbound listener's outermost): while hoptrace shuts down
   * it refuses new exchanges with a refusal of their own ({@link RefusalReason#DRAINING}).
   */
  public DrainHandler withDrain() {
    return new DrainHandler(refusals, this);
  }

  /**
   * Binds this listener on {@code undertow}'s worker (call once Undertow has started), with {@code
   * root} (these stages, or a stage in front of them) as its handler: the head guard ({@link
   * HeadGuardConduit}) is in front of the parser on every connection it accepts, the first
   * included, and its open-connection count feeds the connection limit.
   */
  public Undertow.ListenerInfo listen(
      Undertow undertow,
      InetSocketAddress address,
      OptionMap serverOptions,
      OptionMap socketOptions,
      HttpHandler root)
      throws IOException {
    return listen(undertow, address, serverOptions, socketOptions, root, null);
  }

  /**
   * As {@link #listen(Undertow, InetSocketAddress, OptionMap, OptionMap, HttpHandler)}, with {@code
   * front} taking every accepted connection (head guard installed) before Undertow's parser does.
   */
  public Undertow.ListenerInfo listen(
      Undertow undertow,
      InetSocketAddress address,
      OptionMap serverOptions,
      OptionMap socketOptions,
      HttpHandler root,
      @Nullable ConnectionFront front)
      throws IOException {
    HeadGuardConduit.Bound bound =
        HeadGuardConduit.listen(
            undertow.getWorker(),
            address,
            serverOptions,
            socketOptions,
            root,
            limits,
            refusals,
            front);
    channel = bound.channel();
    AtomicLong open = bound.openConnections();
    openConnections = open;
    first.activeConnections(open::get);
    return bound.info();
  }

  /**
   * The connections open now on the listener {@link #listen} bound (0 before): accepted and not yet
   * closed, whatever they carry (keep-alive requests, a CONNECT tunnel, a relayed WebSocket).
   */
  public long openConnections() {
    AtomicLong open = openConnections;
    return open == null ? 0 : open.get();
  }

  /**
   * Closes the listening socket {@link #listen} bound, leaving accepted connections alone: new
   * connections are refused while in-flight exchanges finish (Undertow's {@code
   * ListenerInfo.suspend()} would close those too). Idempotent; nothing when not bound.
   */
  public void stopAccepting() {
    AcceptingChannel<?> c = channel;
    if (c != null) IoUtils.safeClose(c);
  }

  /**
   * Whether a request arriving now would be refused by the overload stage (too many connections, a
   * heap nearly full), without refusing it.
   */
  public boolean sheds() {
    return first.sheds();
  }

  /** Counts a request body cut for arriving too slowly, as the body-rate stage does. */
  public void countBodyTooSlow() {
    refusals.count(RefusalReason.BODY_TOO_SLOW);
  }

  /**
   * The {@code Proxy-Status} value (RFC 9209) of a forwarding failure hoptrace answers 502/504, as
   * the Proxy-Status stage writes it.
   */
  public static String proxyStatus(io.hoptrace.proxy.upstream.UpstreamFailure failure) {
    return Refusals.proxyStatus(ProxyStatusHandler.errorType(failure), failure.message());
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    first.handleRequest(exchange);
  }

  /**
   * The connection switched protocols (a relayed WebSocket after its 101): the head guard stops
   * reading its bytes as request heads. Call on the connection's I/O thread.
   */
  public static void protocolSwitched(org.xnio.StreamConnection connection) {
    if (!HeadGuardConduit.release(connection)) {
      System.err.println(
          "hoptrace: head guard not found under a switched connection's conduits; its bytes are"
              + " still read as request heads");
    }
  }
}
