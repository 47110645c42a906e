package io.hoptrace.proxy.appspans;

import static java.util.Objects.requireNonNull;

import com.codahale.metrics.Counter;
import io.hoptrace.context.Ids;
import io.hoptrace.context.TraceContext;
import io.hoptrace.correlation.Correlator;
import io.hoptrace.correlation.Decision;
import io.hoptrace.correlation.Link;
import io.hoptrace.correlation.OutboundCall;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.span.Span;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a span the app reported into a span line. One with a trace id is kept as it is. One without
 * is linked by the correlator as if it were an outbound call that started at its {@code timestamp}:
 * a child of the inbound request's SERVER span, with the attribution tags a CLIENT span carries
 * ({@code hoptrace.link}, {@code hoptrace.candidates}, {@code hoptrace.score}). Either way the span
 * is tagged {@code hoptrace.source=app}: hoptrace did not see it, the app said so.
 */
final class AppSpanLinker {
  private final Correlator correlator;
  private final String serviceName;
  private final Map<Link, Counter> linkCounters = new EnumMap<>(Link.class);

  AppSpanLinker(Correlator correlator, String serviceName, ProxyMetrics metrics) {
    this.correlator = requireNonNull(correlator, "correlator");
    this.serviceName = requireNonNull(serviceName, "serviceName");
    for (Link link : Link.values()) {
      linkCounters.put(link, metrics.counter("hoptrace.appspans.link." + link.tagValue()));
    }
  }

  /**
   * The span line for {@code s}.
   *
   * @param nowNanos the registry's ticker now
   * @param nowMicros the wall clock now, epoch microseconds: with {@code nowNanos}, places the
   *     span's timestamp on the ticker
   */
  Span toSpan(AppSpan s, long nowNanos, long nowMicros) {
    Span.Builder b =
        Span.newBuilder()
            .kind(s.kind())
            .name(s.name())
            .timestampMicros(s.timestampMicros())
            .durationMicros(s.durationMicros())
            .serviceName(s.serviceName() != null ? s.serviceName() : serviceName)
            .remoteEndpoint(s.remoteIp(), s.remotePort());
    List<String> tags = s.tags();
    for (int i = 0; i < tags.size(); i += 2) b.tag(tags.get(i), tags.get(i + 1));
    b.tag("hoptrace.source", "app");
    if (s.hasTraceId()) {
      return b.traceId(s.traceIdHigh(), s.traceIdLow()).id(s.id()).parentId(s.parentId()).build();
    }
    // A timestamp in the future (clock skew) counts as now.
    long agoMicros = Math.max(0L, nowMicros - s.timestampMicros());
    Decision decision =
        correlator.decide(
            OutboundCall.newBuilder()
                .authority("app")
                .method("SPAN")
                .path(s.name())
                .startNanos(nowNanos - agoMicros * 1000L)
                .build());
    linkCounters.get(decision.link()).inc();
    long id = s.id() != 0L ? s.id() : Ids.newSpanId();
    TraceContext parent = decision.parent();
    if (parent == null) {
      b.traceId(Ids.newTraceIdHigh(), Ids.newTraceIdLow()).id(id);
    } else {
      b.traceId(parent.traceIdHigh(), parent.traceIdLow()).id(id).parentId(parent.spanId());
    }
    b.tag("hoptrace.link", decision.link().tagValue())
        .tag("hoptrace.candidates", Integer.toString(decision.candidates()));
    if (decision.link() == Link.INFERRED && decision.score() != null) {
      b.tag("hoptrace.score", decision.score());
    }
    return b.build();
  }
}
