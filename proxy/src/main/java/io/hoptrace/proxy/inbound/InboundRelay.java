package io.hoptrace.proxy.inbound;

import io.hoptrace.config.HostPort;
import io.hoptrace.config.Settings;
import io.hoptrace.correlation.InboundRegistry;
import io.hoptrace.propagation.CompositeExtractor;
import io.hoptrace.propagation.Injector;
import io.hoptrace.propagation.w3c.TraceresponseCodec;
import io.hoptrace.proxy.guard.DrainHandler;
import io.hoptrace.proxy.guard.GuardHandlers;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.proxy.relay.ByteRelay;
import io.hoptrace.proxy.relay.RelayedConnection;
import io.hoptrace.proxy.spanlog.SpanLogWriter;
import io.undertow.server.protocol.http.HttpOpenListener;
import java.net.InetSocketAddress;
import java.util.LinkedHashSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.xnio.StreamConnection;

/**
 * The inbound hop as a byte relay ({@code inbound.engine = relay}, the default): the same trace
 * context, registry entries, forwarding fields, response fields, span line and metrics as the
 * Undertow path ({@link InboundHandlers}), carried by {@link ByteRelay}; each connection's requests
 * by an {@link InboundConnection}. Every request goes to the one upstream, the app.
 */
public final class InboundRelay extends ByteRelay {
  final Settings settings;
  final CompositeExtractor extractor;
  final Injector injector;
  final InboundRegistry registry;
  final SpanLogWriter spanLog;
  final String serviceName;
  final RouteKeys routeKeys = new RouteKeys();
  final ConnectionKeys connectionKeys = new ConnectionKeys();
  final boolean bindConnections;
  final boolean traceresponse;
  final @Nullable String respondRequestId;
  final Upstream app;

  public InboundRelay(
      Settings settings,
      CompositeExtractor extractor,
      Injector injector,
      InboundRegistry registry,
      SpanLogWriter spanLog,
      ProxyMetrics metrics,
      GuardHandlers guard,
      DrainHandler drain) {
    super(
        settings,
        ProxyMetrics.Hop.INBOUND,
        metrics,
        guard,
        drain,
        false,
        requestDropped(injector),
        responseDropped(settings));
    this.settings = settings;
    this.extractor = extractor;
    this.injector = injector;
    this.registry = registry;
    this.spanLog = spanLog;
    this.serviceName = settings.service();
    this.bindConnections = settings.procfs().enabled();
    this.traceresponse = settings.response().traceresponse();
    this.respondRequestId = respondRequestId(settings);
    HostPort to = settings.app();
    this.app = new Upstream(new InetSocketAddress(to.host(), to.port()));
  }

  private static @Nullable String respondRequestId(Settings settings) {
    return settings.response().requestId() ? settings.propagation().requestIdHeader() : null;
  }

  /** Trace fields (written again), and the forwarding fields (joined with this hop's). */
  private static Set<String> requestDropped(Injector injector) {
    Set<String> request = new LinkedHashSet<>(injector.managedHeaders());
    request.add("x-forwarded-for");
    request.add("x-forwarded-proto");
    request.add("x-forwarded-host");
    request.add("via");
    return request;
  }

  /** The fields hoptrace sets on the caller's response. */
  private static Set<String> responseDropped(Settings settings) {
    Set<String> response = new LinkedHashSet<>();
    if (settings.response().traceresponse()) response.add(TraceresponseCodec.NAME);
    String requestId = respondRequestId(settings);
    if (requestId != null) response.add(requestId);
    return response;
  }

  @Override
  protected RelayedConnection connection(
      StreamConnection connection, HttpOpenListener undertow, Loop loop) {
    return new InboundConnection(this, connection, undertow, loop);
  }
}
