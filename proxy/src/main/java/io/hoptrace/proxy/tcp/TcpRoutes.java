package io.hoptrace.proxy.tcp;

import io.hoptrace.config.Settings;
import io.hoptrace.correlation.Correlator;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Starts the {@link TcpRelay} for the configured {@code tcp-routes}: the linker over the shared
 * correlator, the span-log writer as the sink, the relay's gauges, and one startup line per route
 * ({@code hoptrace: tcp route cache (redis) listening on 127.0.0.1:6380}).
 */
public final class TcpRoutes {
  private TcpRoutes() {}

  /**
   * The running relay, or null when no TCP route is configured (no thread is started then).
   *
   * @param sink must not block: it runs on the relay's selector thread
   * @throws IOException naming the route when its port cannot be bound
   */
  public static @Nullable TcpRelay start(
      Settings settings,
      Correlator correlator,
      SpanSink sink,
      ProxyMetrics metrics,
      PrintStream announce)
      throws IOException {
    if (settings.tcpRoutes().isEmpty()) return null;
    List<TcpRoute> routes = new ArrayList<>();
    for (Settings.TcpRoute r : settings.tcpRoutes()) {
      routes.add(
          TcpRoute.of(
              r.name(),
              r.host(),
              r.listen(),
              r.upstream().toString(),
              TcpProtocol.fromSetting("tcp-routes." + r.name() + ".protocol", r.protocol())));
    }
    TcpRelay relay =
        TcpRelay.start(
            settings.service(),
            routes,
            new CorrelatorLinker(correlator, metrics),
            sink,
            settings.tcpConnectTimeout());
    metrics.gauge("hoptrace.tcp.connections", relay::openConnections);
    metrics.gauge("hoptrace.tcp.buffers", relay::buffersInUse);
    metrics.gauge("hoptrace.tcp.observer_failures", relay::observerFailures);
    for (TcpRoute route : routes) {
      announce.printf(
          "hoptrace: tcp route %s (%s) listening on %s%n",
          route.name,
          route.protocol.settingName(),
          hostPort(route.listenHost, relay.port(route.name)));
    }
    return relay;
  }

  private static String hostPort(String host, int port) {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
