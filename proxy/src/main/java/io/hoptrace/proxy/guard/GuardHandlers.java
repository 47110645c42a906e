package io.hoptrace.proxy.guard;

import static java.util.Objects.requireNonNull;

import io.hoptrace.config.Settings;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.span.Kind;
import io.hoptrace.span.Span;
import io.undertow.Undertow;
import io.undertow.server.ConnectorStatistics;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.function.Consumer;

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
   * Call once the listener is bound: its open-connection count feeds the connection limit, and the
   * head guard ({@link HeadGuardConduit}) goes in front of its parser on every connection accepted
   * from now on (the few accepted between the listener's start and this call meet the parser and
   * the handler stages only).
   */
  public void bound(Undertow.ListenerInfo listener) {
    ConnectorStatistics statistics = listener.getConnectorStatistics();
    if (statistics != null) first.activeConnections(statistics::getActiveConnections);
    if (!HeadGuardConduit.guard(listener, limits, refusals)) {
      System.err.println(
          "hoptrace: head guard not installed on "
              + listener.getAddress()
              + " (unexpected Undertow listener); the parser's own checks remain");
    }
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
