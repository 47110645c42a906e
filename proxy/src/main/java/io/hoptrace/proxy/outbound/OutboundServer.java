package io.hoptrace.proxy.outbound;

import static java.util.Objects.requireNonNull;

import io.hoptrace.config.Settings;
import io.hoptrace.correlation.Correlator;
import io.hoptrace.propagation.CompositeExtractor;
import io.hoptrace.propagation.Injector;
import io.hoptrace.proxy.guard.GuardHandlers;
import io.hoptrace.proxy.guard.ListenerLimits;
import io.hoptrace.proxy.guard.Refusals;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.proxy.procfs.ProcessLinks;
import io.hoptrace.proxy.spanlog.SpanSink;
import io.hoptrace.proxy.upstream.Forwarder;
import io.hoptrace.span.Kind;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.HttpHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;
import org.xnio.OptionMap;

/**
 * The outbound listeners: the forward proxy ({@code outbound.port}, also CONNECT) and one per named
 * route, all on {@code outbound.host}, in an Undertow of their own so the inbound hop's lifecycle
 * (draining) and theirs stay apart. Nothing binds when neither is configured.
 */
public final class OutboundServer implements AutoCloseable {
  private final @Nullable Undertow undertow;
  private final List<GuardHandlers> guards;
  private final @Nullable InetSocketAddress forwardProxyAddress;
  private final Map<String, InetSocketAddress> routeAddresses;
  private final List<OutboundRelay> relays;

  private OutboundServer(
      @Nullable Undertow undertow,
      List<GuardHandlers> guards,
      @Nullable InetSocketAddress forwardProxyAddress,
      Map<String, InetSocketAddress> routeAddresses,
      List<OutboundRelay> relays) {
    this.undertow = undertow;
    this.guards = List.copyOf(guards);
    this.forwardProxyAddress = forwardProxyAddress;
    this.routeAddresses = routeAddresses;
    this.relays = List.copyOf(relays);
  }

  /** Makes a listener's byte relay ({@code outbound.engine = relay}): route null: forward proxy. */
  @FunctionalInterface
  interface RelayFactory {
    OutboundRelay create(@Nullable OutboundTarget route, GuardHandlers guard);
  }

  /**
   * Binds the forward proxy and the routes and records their ports in {@code ownPorts} (the loop
   * guard refuses them as targets).
   *
   * @param correlator links each call to the inbound request that caused it
   * @param extractor reads the context the app sent (trusted: the app is local)
   * @param injector writes the CLIENT span's context to the callee
   */
  public static OutboundServer start(
      Settings settings,
      Forwarder forwarder,
      Correlator correlator,
      CompositeExtractor extractor,
      Injector injector,
      SpanSink spans,
      ProxyMetrics metrics,
      OwnPorts ownPorts) {
    return start(
        settings, forwarder, correlator, extractor, injector, spans, metrics, ownPorts, null);
  }

  /**
   * As above; with {@code processLinks} (non-null when {@code procfs.enabled}) each connection's
   * app-side address goes to the correlator, for the {@code process} evidence.
   */
  public static OutboundServer start(
      Settings settings,
      Forwarder forwarder,
      Correlator correlator,
      CompositeExtractor extractor,
      Injector injector,
      SpanSink spans,
      ProxyMetrics metrics,
      OwnPorts ownPorts,
      @Nullable ProcessLinks processLinks) {
    requireNonNull(correlator, "correlator");
    requireNonNull(extractor, "extractor");
    UnaryOperator<HttpHandler> correlate =
        next -> new CorrelateHandler(correlator, extractor, metrics, next);
    RelayFactory relays =
        settings.outboundRelay()
            ? (route, guard) ->
                new OutboundRelay(
                    settings,
                    route,
                    correlator,
                    extractor,
                    injector,
                    spans,
                    metrics,
                    guard,
                    ownPorts,
                    processLinks)
            : null;
    return start(
        settings,
        forwarder,
        processLinks == null
            ? correlate
            : next -> new AppSocketHandler(processLinks, correlate.apply(next)),
        injector,
        spans,
        metrics,
        ownPorts,
        relays);
  }

  /**
   * With any correlate stage: tests fix the decision to look at the plumbing alone (of the Undertow
   * path: the relay, which has a correlate stage of its own, is off).
   */
  static OutboundServer start(
      Settings settings,
      Forwarder forwarder,
      UnaryOperator<HttpHandler> correlate,
      Injector injector,
      SpanSink spans,
      ProxyMetrics metrics,
      OwnPorts ownPorts) {
    return start(settings, forwarder, correlate, injector, spans, metrics, ownPorts, null);
  }

  private static OutboundServer start(
      Settings settings,
      Forwarder forwarder,
      UnaryOperator<HttpHandler> correlate,
      Injector injector,
      SpanSink spans,
      ProxyMetrics metrics,
      OwnPorts ownPorts,
      @Nullable RelayFactory relayFactory) {
    requireNonNull(settings, "settings");
    Settings.Listener proxy = settings.outbound();
    List<Settings.Route> routes = settings.routes();
    if (proxy == null && routes.isEmpty())
      return new OutboundServer(null, List.of(), null, Map.of(), List.of());

    OutboundHandlers handlers =
        new OutboundHandlers(
            metrics,
            new Refusals(settings.service(), Kind.CLIENT, spans, metrics),
            settings::outboundAllowed,
            Set.copyOf(settings.connectPorts()),
            ownPorts,
            correlate,
            new ForwardHandler(forwarder, injector, settings.service(), spans, metrics),
            new TunnelHandler(
                settings.service(),
                spans,
                settings.upstream().connectTimeout().toMillis(),
                settings.upstream().idleTimeout().toMillis(),
                metrics));
    String host = settings.outboundHost();
    // No listener of Undertow's own: each is bound on its worker by its guard stages, so that the
    // head guard is in place before the first connection is accepted.
    Undertow undertow =
        Undertow.builder()
            .setIoThreads(1)
            .setWorkerThreads(4)
            .setServerOption(UndertowOptions.ENABLE_HTTP2, false)
            .build();
    undertow.start();
    // As on the inbound listener: bodies are streamed, never held; then the parser limits.
    OptionMap serverOptions =
        OptionMap.builder()
            .set(UndertowOptions.ENABLE_HTTP2, false)
            .set(UndertowOptions.MAX_ENTITY_SIZE, Long.MAX_VALUE)
            .set(UndertowOptions.IDLE_TIMEOUT, (int) settings.upstream().idleTimeout().toMillis())
            .addAll(ListenerLimits.serverOptions(settings.limits()))
            .getMap();
    OptionMap socketOptions = ListenerLimits.socketOptions(settings.limits());
    // hardening: each listener's chain behind the guard stages (refusals are CLIENT span lines)
    List<GuardHandlers> guards = new ArrayList<>();
    List<OutboundRelay> relays = new ArrayList<>();
    List<InetSocketAddress> bound = new ArrayList<>();
    try {
      InetAddress address = InetAddress.getByName(host);
      // One listener: its guard stages in front of chain, its relay (when on) in front of both.
      interface Binder {
        void bind(HttpHandler chain, @Nullable OutboundTarget route, int port) throws IOException;
      }
      Binder binder =
          (chain, route, port) -> {
            GuardHandlers guard =
                GuardHandlers.create(settings, Kind.CLIENT, spans, metrics, chain);
            guards.add(guard);
            OutboundRelay relay = relayFactory == null ? null : relayFactory.create(route, guard);
            if (relay != null) relays.add(relay);
            bound.add(
                (InetSocketAddress)
                    guard
                        .listen(
                            undertow,
                            new InetSocketAddress(address, port),
                            serverOptions,
                            socketOptions,
                            guard,
                            relay)
                        .getAddress());
          };
      if (proxy != null) binder.bind(handlers.forwardProxy(), null, proxy.port());
      for (Settings.Route route : routes) {
        OutboundTarget target =
            new OutboundTarget(route.upstream().host(), route.upstream().port(), route.name());
        binder.bind(handlers.route(target), target, route.listen());
      }
    } catch (IOException e) {
      for (GuardHandlers guard : guards) guard.stopAccepting();
      undertow.stop();
      throw new UncheckedIOException(
          "cannot listen on " + host + " (outbound): " + e.getMessage(), e);
    }
    for (InetSocketAddress address : bound) ownPorts.add(address.getPort());
    int i = 0;
    InetSocketAddress proxyAddress = proxy != null ? bound.get(i++) : null;
    Map<String, InetSocketAddress> routeAddresses = new LinkedHashMap<>();
    for (Settings.Route route : routes) routeAddresses.put(route.name(), bound.get(i++));
    return new OutboundServer(undertow, guards, proxyAddress, Map.copyOf(routeAddresses), relays);
  }

  /** The listeners' byte relays ({@code outbound.engine = relay}); empty when off. */
  public List<OutboundRelay> relays() {
    return relays;
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
    for (GuardHandlers guard : guards) guard.stopAccepting();
    if (undertow != null) undertow.stop();
  }
}
