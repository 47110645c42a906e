package io.hoptrace.proxy.outbound;

import static java.util.Objects.requireNonNull;

import io.hoptrace.proxy.guard.Refusals;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.undertow.server.HttpHandler;
import io.undertow.util.Methods;
import java.net.InetAddress;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * The outbound hop's stages, composed in one place. Read top to bottom, a request on the
 * forward-proxy port goes:
 *
 * <pre>
 * source access (403) → target from absolute-form or CONNECT authority (400)
 *   ├─ http:    → worker thread (for a host name) → loop guard (403) → correlate (on a worker
 *   │            if it asks the process evidence) → inject + forward (502/504)
 *   └─ CONNECT: → CONNECT port (403) → worker thread → loop guard (403) → correlate → tunnel
 * </pre>
 *
 * and on a named route's port:
 *
 * <pre>
 * source access (403) → target = the route's upstream → worker thread (for a host name) → loop guard (403)
 *   → correlate → inject + forward
 * </pre>
 *
 * The loop guard comes after target resolution because it judges the target; access control comes
 * first because it judges only the source and costs nothing.
 */
public final class OutboundHandlers {
  private final Refusals refusals;
  private final Predicate<InetAddress> allowedSources;
  private final Set<Integer> connectPorts;
  private final OwnPorts ownPorts;
  private final UnaryOperator<HttpHandler> correlate;
  private final HttpHandler forward;
  private final HttpHandler tunnel;

  /**
   * @param refusals answers, counts and records (as CLIENT span lines) the hop's refusals
   * @param correlate wraps its next stage with the correlate stage (which attaches the {@link
   *     ClientHop})
   * @param forward injects the CLIENT span's context and forwards to the target, writing the span
   * @param tunnel opens a CONNECT tunnel to the target, writing the span when it closes
   */
  OutboundHandlers(
      ProxyMetrics metrics,
      Refusals refusals,
      Predicate<InetAddress> allowedSources,
      Set<Integer> connectPorts,
      OwnPorts ownPorts,
      UnaryOperator<HttpHandler> correlate,
      HttpHandler forward,
      HttpHandler tunnel) {
    requireNonNull(metrics, "metrics");
    this.refusals = requireNonNull(refusals, "refusals");
    // Every reason's counter is exported from the start, at 0.
    for (Refusal reason : Refusal.values()) metrics.counter(reason.metricName());
    this.allowedSources = requireNonNull(allowedSources, "allowedSources");
    this.connectPorts = Set.copyOf(connectPorts);
    this.ownPorts = requireNonNull(ownPorts, "ownPorts");
    this.correlate = requireNonNull(correlate, "correlate");
    this.forward = requireNonNull(forward, "forward");
    this.tunnel = requireNonNull(tunnel, "tunnel");
  }

  /** The forward-proxy port: absolute-form http requests and CONNECT. */
  HttpHandler forwardProxy() {
    HttpHandler http = afterTarget(forward, true);
    HttpHandler connect =
        new ConnectPortHandler(connectPorts, refusals, afterTarget(tunnel, false));
    HttpHandler byMethod =
        exchange -> {
          if (exchange.getRequestMethod().equals(Methods.CONNECT)) {
            connect.handleRequest(exchange);
          } else {
            http.handleRequest(exchange);
          }
        };
    return new SourceAccessHandler(
        allowedSources, refusals, new AbsoluteFormHandler(refusals, byMethod));
  }

  /** A named route's port: every request goes to {@code target}. */
  HttpHandler route(OutboundTarget target) {
    HttpHandler http = new RouteTargetHandler(target, afterTarget(forward, true));
    HttpHandler noConnect =
        exchange -> {
          if (exchange.getRequestMethod().equals(Methods.CONNECT)) {
            refusals.refuse(exchange, Refusal.BAD_TARGET, "CONNECT on a route port");
          } else {
            http.handleRequest(exchange);
          }
        };
    return new SourceAccessHandler(allowedSources, refusals, noConnect);
  }

  /** {@code literalsOnIoThread}: see {@link WorkerDispatchHandler}. */
  private HttpHandler afterTarget(HttpHandler last, boolean literalsOnIoThread) {
    return new WorkerDispatchHandler(
        new LoopGuardHandler(ownPorts, refusals, correlate.apply(last)), literalsOnIoThread);
  }
}
