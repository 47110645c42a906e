package io.hoptrace.proxy.tcp;

import static java.util.Objects.requireNonNull;

import com.codahale.metrics.Counter;
import io.hoptrace.correlation.Correlator;
import io.hoptrace.correlation.Decision;
import io.hoptrace.correlation.Link;
import io.hoptrace.correlation.OutboundCall;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import java.net.InetSocketAddress;
import java.util.EnumMap;
import java.util.Map;

/**
 * The {@link TcpLinker} of a running hoptrace: asks the correlator the outbound hop shares, as if
 * the command were an outbound call with no header. So a Redis command made while one inbound
 * request is in flight is {@code sole}, as an HTTP call would be, and the candidates' linked-call
 * counts the inferred rule reads include TCP commands. Counts each link as {@code
 * hoptrace_tcp_link_<link>_total}.
 */
public final class CorrelatorLinker implements TcpLinker {
  private final Correlator correlator;
  private final Map<Link, Counter> linkCounters = new EnumMap<>(Link.class);

  public CorrelatorLinker(Correlator correlator, ProxyMetrics metrics) {
    this.correlator = requireNonNull(correlator, "correlator");
    for (Link link : Link.values()) {
      linkCounters.put(link, metrics.counter("hoptrace.tcp.link." + link.tagValue()));
    }
  }

  @Override
  public TcpLink link(
      TcpRoute route, InetSocketAddress app, InetSocketAddress proxy, long startNanos) {
    Decision decision =
        correlator.decide(
            OutboundCall.newBuilder()
                .authority(route.upstreamHost + ":" + route.upstreamPort)
                .method(route.protocol.settingName())
                .path(route.name)
                .startNanos(startNanos)
                .build());
    linkCounters.get(decision.link()).inc();
    if (decision.parent() == null) {
      return decision.candidates() == 0
          ? TcpLink.root()
          : TcpLink.of(null, "root", decision.candidates(), null);
    }
    return TcpLink.of(
        decision.parent(),
        decision.link().tagValue(),
        decision.candidates(),
        decision.link() == Link.INFERRED ? decision.score() : null);
  }
}
