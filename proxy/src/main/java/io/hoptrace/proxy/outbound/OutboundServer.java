package io.hoptrace.proxy.outbound;

import static java.util.Objects.requireNonNull;

import io.hoptrace.config.Settings;
import io.hoptrace.correlation.Correlator;
import io.hoptrace.propagation.CompositeExtractor;
import io.hoptrace.propagation.Injector;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.proxy.upstream.UpstreamForwarder;
import io.hoptrace.span.Span;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.HttpHandler;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;

/**
 * The outbound listeners: the forward proxy ({@code outbound.port}, also CONNECT) and one per named
 * route, all on {@code outbound.host}, in an Undertow of their own so the inbound hop's lifecycle
 * (draining) and theirs stay apart. Nothing binds when neither is configured.
 */
public final class OutboundServer implements AutoCloseable {
  private final @Nullable Undertow undertow;
  private final @Nullable InetSocketAddress forwardProxyAddress;
  private final Map<String, InetSocketAddress> routeAddresses;

  private OutboundServer(
      @Nullable Undertow undertow,
      @Nullable InetSocketAddress forwardProxyAddress,
      Map<String, InetSocketAddress> routeAddresses) {
    this.undertow = undertow;
    this.forwardProxyAddress = forwardProxyAddress;
    this.routeAddresses = routeAddresses;
  }

  /**
   * Binds the forward proxy and the routes and records their ports in {@code ownPorts} (the loop
   * guard refuses them as targets).
   *
   * @param correlator links each call to the inbound request that caused it
   */
  public static OutboundServer start(
      Settings settings,
      UpstreamForwarder forwarder,
      Correlator correlator,
      Consumer<Span> spans,
      ProxyMetrics metrics,
      OwnPorts ownPorts) {
    requireNonNull(correlator, "correlator");
    CompositeExtractor extractor = extractor(settings.propagation());
    return start(
        settings,
        forwarder,
        next -> new CorrelateHandler(correlator, extractor, metrics, next),
        spans,
        metrics,
        ownPorts);
  }

  /** With any correlate stage: tests fix the decision to look at the plumbing alone. */
  static OutboundServer start(
      Settings settings,
      UpstreamForwarder forwarder,
      UnaryOperator<HttpHandler> correlate,
      Consumer<Span> spans,
      ProxyMetrics metrics,
      OwnPorts ownPorts) {
    requireNonNull(settings, "settings");
    Settings.Listener proxy = settings.outbound();
    List<Settings.Route> routes = settings.routes();
    if (proxy == null && routes.isEmpty()) return new OutboundServer(null, null, Map.of());

    OutboundHandlers handlers =
        new OutboundHandlers(
            metrics,
            settings::outboundAllowed,
            Set.copyOf(settings.connectPorts()),
            ownPorts,
            correlate,
            new ForwardHandler(
                forwarder, injector(settings.propagation()), settings.service(), spans, metrics),
            new TunnelHandler(
                settings.service(),
                spans,
                settings.upstream().connectTimeout().toMillis(),
                settings.upstream().idleTimeout().toMillis()));
    String host = settings.outboundHost();
    Undertow.Builder builder =
        Undertow.builder()
            .setIoThreads(1)
            .setWorkerThreads(4)
            .setServerOption(UndertowOptions.ENABLE_HTTP2, false)
            .setServerOption(
                UndertowOptions.IDLE_TIMEOUT, (int) settings.upstream().idleTimeout().toMillis());
    if (proxy != null) builder.addHttpListener(proxy.port(), host, handlers.forwardProxy());
    for (Settings.Route route : routes) {
      OutboundTarget target =
          new OutboundTarget(route.upstream().host(), route.upstream().port(), route.name());
      builder.addHttpListener(route.listen(), host, handlers.route(target));
    }
    Undertow undertow = builder.build();
    undertow.start();

    List<Undertow.ListenerInfo> infos = undertow.getListenerInfo();
    List<InetSocketAddress> bound = new ArrayList<>();
    for (Undertow.ListenerInfo info : infos) {
      InetSocketAddress address = (InetSocketAddress) info.getAddress();
      bound.add(address);
      ownPorts.add(address.getPort());
    }
    int i = 0;
    InetSocketAddress proxyAddress = proxy != null ? bound.get(i++) : null;
    Map<String, InetSocketAddress> routeAddresses = new LinkedHashMap<>();
    for (Settings.Route route : routes) routeAddresses.put(route.name(), bound.get(i++));
    return new OutboundServer(undertow, proxyAddress, Map.copyOf(routeAddresses));
  }

  /**
   * Reads what the app sent: every format hoptrace knows, the legacy pair and request id header as
   * configured.
   */
  static CompositeExtractor extractor(Settings.Propagation p) {
    CompositeExtractor.Builder b =
        CompositeExtractor.newBuilder()
            .b3(true) // incoming B3 is read whatever propagation.b3 writes
            .requestIdHeader(p.requestIdHeader())
            .tracestateMaxLength(p.tracestateMaxLength());
    if (p.legacyTraceId() != null && p.legacySpanId() != null) {
      b.legacyPair(p.legacyTraceId(), p.legacySpanId());
    }
    return b.build();
  }

  /** Writes to the callee: traceparent, tracestate, the enabled extras, the request id. */
  static Injector injector(Settings.Propagation p) {
    Injector.Builder b =
        Injector.newBuilder()
            .b3(
                switch (p.b3()) {
                  case NONE -> Injector.B3Style.NONE;
                  case SINGLE -> Injector.B3Style.SINGLE;
                  case MULTI -> Injector.B3Style.MULTI;
                })
            .requestIdHeader(p.requestIdHeader());
    if (p.legacyTraceId() != null && p.legacySpanId() != null) {
      b.legacyPair(p.legacyTraceId(), p.legacySpanId());
    }
    return b.build();
  }

  /** The forward proxy's bound address, or null when it is off. */
  public @Nullable InetSocketAddress forwardProxyAddress() {
    return forwardProxyAddress;
  }

  /** Each route's bound address, by name. */
  public Map<String, InetSocketAddress> routeAddresses() {
    return routeAddresses;
  }

  @Override
  public void close() {
    if (undertow != null) undertow.stop();
  }
}
