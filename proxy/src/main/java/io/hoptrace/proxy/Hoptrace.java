package io.hoptrace.proxy;

import static java.util.Objects.requireNonNull;

import io.hoptrace.config.Settings;
import io.hoptrace.correlation.CandidateRule;
import io.hoptrace.correlation.Correlator;
import io.hoptrace.correlation.FewestCallsRule;
import io.hoptrace.correlation.InboundRegistry;
import io.hoptrace.correlation.LearnedRule;
import io.hoptrace.correlation.MostRecentRule;
import io.hoptrace.correlation.OldestRule;
import io.hoptrace.propagation.CompositeExtractor;
import io.hoptrace.propagation.Injector;
import io.hoptrace.proxy.admin.AdminHandler;
import io.hoptrace.proxy.appspans.AppSpansHandler;
import io.hoptrace.proxy.export.SpanExport;
import io.hoptrace.proxy.guard.DrainHandler;
import io.hoptrace.proxy.guard.GuardHandlers;
import io.hoptrace.proxy.guard.ListenerLimits;
import io.hoptrace.proxy.inbound.InboundHandlers;
import io.hoptrace.proxy.inbound.InboundRelay;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.proxy.outbound.OutboundServer;
import io.hoptrace.proxy.outbound.OwnPorts;
import io.hoptrace.proxy.procfs.ProcessLinks;
import io.hoptrace.proxy.procfs.SocketKey;
import io.hoptrace.proxy.relay.ByteRelay;
import io.hoptrace.proxy.spanlog.SpanLogWriter;
import io.hoptrace.proxy.tcp.TcpRelay;
import io.hoptrace.proxy.tcp.TcpRoutes;
import io.hoptrace.proxy.upstream.Forwarder;
import io.hoptrace.proxy.upstream.SameLoopForwarder;
import io.hoptrace.proxy.upstream.UpstreamClient;
import io.hoptrace.proxy.upstream.UpstreamForwarder;
import io.hoptrace.span.Kind;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.xnio.OptionMap;

/**
 * One running hoptrace: the listeners, the upstream client, the span-log writer and the metrics.
 * {@link #start} binds everything and prints one line per listener; {@link #close} drains
 * gracefully. Tests start it in-process.
 */
public final class Hoptrace implements AutoCloseable {
  /** The startup line for each listener; scripts parse it (see README). */
  static final String LISTENING = "hoptrace: %s listening on %s%n";

  private final Settings settings;
  private final ProxyMetrics metrics;
  private final SpanExport export;
  private final SpanLogWriter spanLog;
  private final UpstreamClient upstream;
  private final @Nullable SameLoopForwarder sameLoop;
  private final InboundRegistry registry;
  private final OwnPorts ownPorts = new OwnPorts();
  private final Correlator correlator;
  private final OutboundServer outbound;
  private final @Nullable TcpRelay tcpRelay;
  private final ScheduledExecutorService ringTimer;
  private final ProcessLinks processLinks;
  private final DrainHandler inbound;
  private final @Nullable ByteRelay relay;
  private final GuardHandlers inboundGuard;
  private final Undertow undertow;
  private final InetSocketAddress inboundAddress;
  private final @Nullable InetSocketAddress adminAddress;
  private volatile boolean serving;
  private boolean closed;

  private Hoptrace(Settings settings, PrintStream announce) throws Exception {
    this.settings = settings;
    this.metrics = new ProxyMetrics();
    this.export = SpanExport.create(settings, metrics);
    try {
      this.spanLog =
          export.active()
              ? new SpanLogWriter(settings.spanLog(), export)
              : new SpanLogWriter(settings.spanLog());
    } catch (IOException | RuntimeException e) {
      export.close();
      throw e;
    }
    metrics.gauge("hoptrace.spanlog.written", spanLog::written);
    metrics.gauge("hoptrace.spanlog.dropped", spanLog::dropped);
    metrics.gauge("hoptrace.spanlog.failed", spanLog::failed);
    metrics.gauge("hoptrace.spanlog.queued", spanLog::queued);
    CandidateRule rule = rule(settings.correlatorRule(), settings.correlatorValueSharing());
    this.registry =
        InboundRegistry.newBuilder()
            .listener(
                rule instanceof InboundRegistry.Listener listener
                    ? listener
                    : InboundRegistry.Listener.NONE)
            .generations(settings.ring().generations())
            .period(settings.ring().period())
            .capPerGeneration(settings.ring().cap())
            .grace(settings.correlatorGrace())
            .valueTokens(rule instanceof LearnedRule learned && learned.valueSharing())
            .build();
    metrics.gauge("hoptrace.ring.size", registry::size);
    metrics.gauge("hoptrace.ring.held", registry::heldEntries);
    metrics.gauge("hoptrace.ring.refused", registry::refusedCount);
    metrics.gauge("hoptrace.ring.inflight", registry::inFlightCount);
    // The ring also advances lazily on use; the timer frees memory when no request comes.
    this.ringTimer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "hoptrace-ring");
              t.setDaemon(true);
              return t;
            });
    long periodMillis = Math.max(1, settings.ring().period().toMillis());
    var unused =
        ringTimer.scheduleAtFixedRate(
            registry::advanceIfDue, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    this.upstream = new UpstreamClient(settings.upstream());
    UpstreamClient jettyClient = upstream;
    metrics.gauge("hoptrace.upstream.jetty_started", () -> jettyClient.started() ? 1 : 0);
    metrics.gauge("hoptrace.upstream.jetty_start_failures", jettyClient::startFailures);
    metrics.gauge("hoptrace.upstream.jetty_start_wait_timeouts", jettyClient::startWaitTimeouts);
    // Probes /proc (or says why not) before any request: the answer is logged once, to stderr.
    this.processLinks =
        ProcessLinks.start(settings.procfs(), settings.app().port(), metrics, System.err);
    ProcessLinks links = processLinks;
    if (links.evidence() != null) {
      int appPort = settings.app().port();
      upstream.addConnectionListener(
          new org.eclipse.jetty.io.Connection.Listener() {
            @Override
            public void onClosed(org.eclipse.jetty.io.Connection connection) {
              java.net.SocketAddress app = connection.getEndPoint().getRemoteSocketAddress();
              if (app instanceof InetSocketAddress a && a.getPort() == appPort) {
                SocketKey key =
                    ProcessLinks.appSide(app, connection.getEndPoint().getLocalSocketAddress());
                if (key != null) links.forget(key);
              }
            }
          });
    }
    // One for every hop (HTTP, TCP, app spans): they share the candidates' call counts.
    this.correlator = new Correlator(registry, rule, processLinks.filter());
    UpstreamForwarder jetty =
        new UpstreamForwarder(upstream, settings.upstream().responseTimeout());
    Forwarder forwarder = jetty;
    if (upstreamClient(settings) == Settings.UpstreamClient.SAME_LOOP) {
      SameLoopForwarder same = new SameLoopForwarder(settings.upstream(), jetty);
      // Requests that found upstream.max-connections open: so far, and waiting now.
      // The byte relay's (inbound.engine = relay) included: it keeps its own app connections.
      metrics.gauge(
          "hoptrace.upstream.connection_waits",
          () -> same.connectionWaits() + relayCount(ByteRelay::connectionWaits));
      metrics.gauge(
          "hoptrace.upstream.connection_waiting",
          () -> same.waitingForConnection() + relayCount(ByteRelay::waitingForConnection));
      // Requests sent again on a new connection after their pooled one went stale, by either
      // transport (same-loop hands some requests to Jetty).
      metrics.gauge(
          "hoptrace.upstream.retries",
          () -> same.retries() + jetty.retries() + relayCount(ByteRelay::retries));
      if (links.evidence() != null) {
        int appPort = settings.app().port();
        same.onConnectionClosed(
            (local, app) -> {
              if (app instanceof InetSocketAddress a && a.getPort() == appPort) {
                SocketKey key = ProcessLinks.appSide(app, local);
                if (key != null) links.forget(key);
              }
            });
      }
      forwarder = same;
    } else {
      // Requests sent again on a new connection after their pooled one went stale.
      metrics.gauge(
          "hoptrace.upstream.retries", () -> jetty.retries() + relayCount(ByteRelay::retries));
    }
    this.sameLoop = forwarder instanceof SameLoopForwarder same ? same : null;
    CompositeExtractor extractor = Propagators.extractor(settings.propagation());
    Injector injector = Propagators.injector(settings.propagation());
    // hardening: the guard stages (overload, validation, body rate, Proxy-Status) come first.
    this.inboundGuard =
        GuardHandlers.create(
            settings,
            Kind.SERVER,
            spanLog::offer,
            metrics,
            InboundHandlers.create(
                settings, extractor, injector, registry, forwarder, spanLog, metrics));
    // hardening: outermost, so that the 503s of a draining hoptrace are refusals with a span line.
    this.inbound = inboundGuard.withDrain();
    // inbound.engine = relay: plain requests carried as bytes, the rest handed to the chain above.
    this.relay =
        settings.inboundRelay()
            ? new InboundRelay(
                settings, extractor, injector, registry, spanLog, metrics, inboundGuard, inbound)
            : null;
    if (relay != null) {
      ByteRelay r = relay;
      // Connections the relay gave to the Undertow path (upgrades, Expect, chunked bodies...).
      metrics.gauge("hoptrace.inbound.relay.handed_over", r::handedOver);
      metrics.gauge("hoptrace.inbound.relay.upstream_connections", r::upstreamConnections);
      if (links.evidence() != null) {
        r.onUpstreamClosed(
            (app, local) -> {
              SocketKey key = ProcessLinks.appSide(app, local);
              if (key != null) links.forget(key);
            });
      }
    }

    Undertow.Builder builder =
        Undertow.builder()
            .setIoThreads(Math.max(1, Runtime.getRuntime().availableProcessors()))
            .setWorkerThreads(4)
            .setServerOption(UndertowOptions.ENABLE_HTTP2, false)
            // Bodies are streamed, never held: no size cap.
            .setServerOption(UndertowOptions.MAX_ENTITY_SIZE, Long.MAX_VALUE)
            // Pass on what real clients send (a raw | or {} in a path): the app decides, not us.
            .setServerOption(UndertowOptions.ALLOW_UNESCAPED_CHARACTERS_IN_URL, true)
            .setServerOption(
                UndertowOptions.IDLE_TIMEOUT, (int) settings.upstream().idleTimeout().toMillis());
    // hardening: last, so that its parser options win (see ListenerLimits on unescaped chars).
    ListenerLimits.apply(builder, settings.limits());
    // The inbound listener is bound below, on Undertow's worker, with the same options: so that
    // the head guard is in place before its first connection is accepted.
    OptionMap inboundOptions =
        OptionMap.builder()
            .set(UndertowOptions.ENABLE_HTTP2, false)
            .set(UndertowOptions.MAX_ENTITY_SIZE, Long.MAX_VALUE)
            .set(UndertowOptions.IDLE_TIMEOUT, (int) settings.upstream().idleTimeout().toMillis())
            .addAll(ListenerLimits.serverOptions(settings.limits()))
            .getMap();
    Settings.Listener admin = settings.admin();
    if (admin != null) {
      builder.addHttpListener(
          admin.port(),
          admin.host(),
          export.adminHandler(
              new AppSpansHandler(
                  settings.appSpans(),
                  correlator,
                  settings.service(),
                  spanLog::offer,
                  metrics,
                  new AdminHandler(metrics, settings.app(), () -> serving))));
    }
    // Same-loop (the default) hands Jetty only the odd request: its client starts on the first.
    if (sameLoop == null) upstream.start();
    this.undertow = builder.build();
    Undertow.ListenerInfo inboundListener;
    try {
      undertow.start();
      try {
        inboundListener =
            inboundGuard.listen(
                undertow,
                new InetSocketAddress(
                    InetAddress.getByName(settings.inbound().host()), settings.inbound().port()),
                inboundOptions,
                ListenerLimits.socketOptions(settings.limits()),
                inbound,
                relay);
      } catch (IOException e) {
        undertow.stop();
        throw new UncheckedIOException(
            "cannot listen on "
                + settings.inbound().host()
                + ":"
                + settings.inbound().port()
                + " (inbound): "
                + e.getMessage(),
            e);
      }
    } catch (RuntimeException e) {
      upstream.close();
      processLinks.close();
      ringTimer.shutdownNow();
      spanLog.close();
      export.close();
      throw e;
    }
    List<Undertow.ListenerInfo> listeners = new ArrayList<>(undertow.getListenerInfo());
    this.inboundAddress = (InetSocketAddress) inboundListener.getAddress();
    this.adminAddress = admin == null ? null : (InetSocketAddress) listeners.get(0).getAddress();
    listeners.add(inboundListener);
    announce.printf(LISTENING, "inbound", text(inboundAddress));
    if (adminAddress != null) announce.printf(LISTENING, "admin", text(adminAddress));
    announce.printf("hoptrace: forwarding to app %s%n", settings.app());
    // The outbound listeners start last, so the loop guard knows every port of ours.
    for (Undertow.ListenerInfo listener : listeners) {
      ownPorts.add(((InetSocketAddress) listener.getAddress()).getPort());
    }
    try {
      this.outbound =
          OutboundServer.start(
              settings,
              forwarder,
              correlator,
              extractor,
              injector,
              spanLog.sink(),
              metrics,
              ownPorts,
              processLinks.evidence() != null ? processLinks : null);
    } catch (RuntimeException e) {
      processLinks.close();
      undertow.stop();
      upstream.close();
      ringTimer.shutdownNow();
      spanLog.close();
      export.close();
      throw e;
    }
    if (!outbound.relays().isEmpty()) {
      // Connections the outbound relays gave to the Undertow path (CONNECT, host names...).
      metrics.gauge(
          "hoptrace.outbound.relay.handed_over", () -> outboundRelayCount(ByteRelay::handedOver));
      metrics.gauge(
          "hoptrace.outbound.relay.upstream_connections",
          () -> outboundRelayCount(ByteRelay::upstreamConnections));
    }
    InetSocketAddress proxyAddress = outbound.forwardProxyAddress();
    if (proxyAddress != null) announce.printf(LISTENING, "outbound", text(proxyAddress));
    outbound
        .routeAddresses()
        .forEach((name, address) -> announce.printf(LISTENING, "route " + name, text(address)));
    try {
      this.tcpRelay = TcpRoutes.start(settings, correlator, spanLog::offer, metrics, announce);
    } catch (java.io.IOException | RuntimeException e) {
      outbound.close();
      undertow.stop();
      upstream.close();
      processLinks.close();
      ringTimer.shutdownNow();
      spanLog.close();
      export.close();
      throw e;
    }
    if (!settings.idleGc().isZero()) {
      TcpRelay relay = tcpRelay;
      IdleHeapShrink shrink =
          new IdleHeapShrink(
              settings.idleGc(),
              metrics::requestsFinished,
              () ->
                  metrics.inFlight(ProxyMetrics.Hop.INBOUND)
                      + metrics.inFlight(ProxyMetrics.Hop.OUTBOUND)
                      + (relay == null ? 0 : relay.openConnections()),
              metrics.counter("hoptrace.heap.idle_gc"));
      long every = IdleHeapShrink.checkEvery(settings.idleGc()).toMillis();
      var unusedShrink =
          ringTimer.scheduleWithFixedDelay(shrink, every, every, TimeUnit.MILLISECONDS);
    }
    announce.flush();
    serving = true;
  }

  /**
   * The {@code correlator.rule} setting's rule (validated by Settings); {@code valueSharing}: the
   * learned rule's {@code correlator.value-sharing}.
   */
  static CandidateRule rule(String name, boolean valueSharing) {
    return switch (name) {
      case "learned" -> LearnedRule.newBuilder().valueSharing(valueSharing).build();
      case "most_recent" -> MostRecentRule.INSTANCE;
      case "oldest" -> OldestRule.INSTANCE;
      default -> FewestCallsRule.INSTANCE;
    };
  }

  /**
   * Binds the listeners and starts forwarding; prints {@code hoptrace: inbound listening on
   * HOST:PORT} (and the same for admin) to {@code announce}.
   */
  public static Hoptrace start(Settings settings, PrintStream announce) throws Exception {
    requireNonNull(settings, "settings");
    requireNonNull(announce, "announce");
    return new Hoptrace(settings, announce);
  }

  static String text(InetSocketAddress address) {
    String host = address.getAddress().getHostAddress();
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
  }

  public InetSocketAddress inboundAddress() {
    return inboundAddress;
  }

  /** The admin listener's address, or null when it is off. */
  public @Nullable InetSocketAddress adminAddress() {
    return adminAddress;
  }

  /** A count summed over the byte relays (inbound, outbound), 0 when off (or not built yet). */
  private long relayCount(java.util.function.ToLongFunction<ByteRelay> count) {
    long n = 0;
    ByteRelay r = relay;
    if (r != null) n += count.applyAsLong(r);
    if (this.outbound != null) n += outboundRelayCount(count);
    return n;
  }

  /** A count summed over the outbound listeners' byte relays. */
  private long outboundRelayCount(java.util.function.ToLongFunction<ByteRelay> count) {
    long n = 0;
    for (ByteRelay x : outbound.relays()) n += count.applyAsLong(x);
    return n;
  }

  public @Nullable ByteRelay inboundRelay() {
    return relay;
  }

  public ProxyMetrics metrics() {
    return metrics;
  }

  /** The outbound listeners (forward proxy, routes). */
  public OutboundServer outbound() {
    return outbound;
  }

  /** The inbound requests the outbound hop links its calls to. */
  public InboundRegistry registry() {
    return registry;
  }

  /** The Jetty upstream client (lazily started with same-loop): for tests and monitoring. */
  public UpstreamClient upstreamClient() {
    return upstream;
  }

  /** The TCP routes' relay, or null when none is configured. */
  public @Nullable TcpRelay tcpRelay() {
    return tcpRelay;
  }

  /** The {@code process} link feature (socket ownership from /proc): status and evidence. */
  public ProcessLinks processLinks() {
    return processLinks;
  }

  public Settings settings() {
    return settings;
  }

  /**
   * Graceful shutdown: stop accepting, let in-flight exchanges finish for up to the drain time,
   * then close what is left and flush every span line. Idempotent.
   */
  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    serving = false;
    inboundGuard.stopAccepting();
    for (Undertow.ListenerInfo listener : undertow.getListenerInfo()) stopAccepting(listener);
    inbound.shutdown(); // requests on kept-alive connections now get 503 (refusal: draining)
    try {
      inbound.awaitShutdown(settings.drainTime().toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    outbound.close(); // after the drain: in-flight requests may still be calling out
    // Likewise for Redis / MySQL; its last spans ("hoptrace shutting down") reach the span log.
    if (tcpRelay != null) tcpRelay.close();
    undertow.stop();
    upstream.close();
    if (sameLoop != null) sameLoop.close();
    processLinks.close();
    ringTimer.shutdownNow();
    spanLog.close(); // after the listeners: the last completion listeners have offered their lines
    export.close(); // after the span log: its last lines were offered; bounded by close-timeout
  }

  /**
   * {@code upstream.client}; the system property {@code hoptrace.test.upstream-client} (jetty or
   * same-loop) overrides it, so that the whole test suite can run on either transport.
   */
  static Settings.UpstreamClient upstreamClient(Settings settings) {
    String forced = System.getProperty("hoptrace.test.upstream-client");
    if (forced != null && !forced.isEmpty()) {
      for (Settings.UpstreamClient c : Settings.UpstreamClient.values()) {
        if (c.configValue().equals(forced)) return c;
      }
      throw new IllegalArgumentException("hoptrace.test.upstream-client: jetty or same-loop");
    }
    return settings.upstream().client();
  }

  /**
   * Closes the listening socket, leaving accepted connections alone: new connections are refused
   * while in-flight exchanges finish. Undertow's {@code ListenerInfo.suspend()} would also close
   * every open connection, cutting the exchanges a drain is for, and the accepting channel is not
   * public, hence the reflection. If it fails, the drain stage still answers 503 to anything new,
   * which is a correct (if less polite) drain.
   */
  private static void stopAccepting(Undertow.ListenerInfo listener) {
    try {
      java.lang.reflect.Field field = Undertow.ListenerInfo.class.getDeclaredField("channel");
      field.setAccessible(true);
      if (field.get(listener) instanceof java.nio.channels.Channel channel) channel.close();
    } catch (ReflectiveOperationException | java.io.IOException | RuntimeException e) {
      // fall back to the drain stage's 503s (refusals: draining)
    }
  }

  /** Span lines written so far (for tests and the shutdown message). */
  long spanLinesWritten() {
    return spanLog.written();
  }
}
