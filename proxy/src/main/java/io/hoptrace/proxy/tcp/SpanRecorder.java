package io.hoptrace.proxy.tcp;

import io.hoptrace.context.TraceContext;
import io.hoptrace.span.Kind;
import io.hoptrace.span.Span;
import java.net.InetSocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * What an observer needs to turn a timed call into a span: the clock, the linker, the sink, and the
 * parts every span of one connection shares (service, upstream endpoint, route). One per
 * connection; confined to the selector thread.
 */
public final class SpanRecorder {
  final String serviceName;
  final TcpRoute route;
  final InetSocketAddress app;
  final InetSocketAddress proxy;
  final String upstreamIp;
  final int upstreamPort;
  final TcpLinker linker;
  final SpanSink sink;
  final TcpClock clock;
  @Nullable TcpLink lastLink;
  long lastLinkMicros;

  SpanRecorder(
      String serviceName,
      TcpRoute route,
      InetSocketAddress app,
      InetSocketAddress proxy,
      @Nullable String upstreamIp,
      int upstreamPort,
      TcpLinker linker,
      SpanSink sink,
      TcpClock clock) {
    this.serviceName = serviceName;
    this.route = route;
    this.app = app;
    this.proxy = proxy;
    this.upstreamIp = upstreamIp;
    this.upstreamPort = upstreamPort;
    this.linker = linker;
    this.sink = sink;
    this.clock = clock;
  }

  /** Epoch microseconds, monotonic within the process. */
  public long nowMicros() {
    return clock.nowMicros();
  }

  public TcpRoute route() {
    return route;
  }

  /**
   * Asks the linker which inbound request caused a call that started at {@code startMicros}. A
   * linker that throws is treated as {@code root}: a span is never lost to attribution. Calls that
   * started in the same microsecond (a pipeline read in one chunk) share one decision: the set of
   * inbound requests in flight was the same for all of them.
   */
  public TcpLink link(long startMicros) {
    TcpLink last = lastLink;
    if (last != null && startMicros == lastLinkMicros) return last;
    TcpLink link;
    try {
      link = linker.link(route, app, proxy, clock.toNanos(startMicros));
      if (link == null) link = TcpLink.ROOT;
    } catch (RuntimeException e) {
      link = TcpLink.ROOT;
    }
    lastLink = link;
    lastLinkMicros = startMicros;
    return link;
  }

  /**
   * A CLIENT span builder with the context, name, timing, service and upstream endpoint set; the
   * observer adds its tags and then calls {@link #emit}.
   */
  public Span.Builder newSpan(TcpLink link, String name, long startMicros, long endMicros) {
    TraceContext parent = link.parent;
    TraceContext context = parent != null ? parent.newChild() : TraceContext.newRoot(null);
    return Span.newBuilder()
        .context(context)
        .kind(Kind.CLIENT)
        .name(name)
        .timestampMicros(startMicros)
        .durationMicros(Math.max(0L, endMicros - startMicros))
        .serviceName(serviceName)
        .remoteEndpoint(upstreamIp, upstreamPort);
  }

  /** Adds the attribution tags (last, where they read best) and hands the span to the sink. */
  public void emit(Span.Builder span, TcpLink link) {
    span.tag("hoptrace.link", link.link)
        .tag("hoptrace.candidates", Integer.toString(link.candidates));
    String score = link.score;
    if (score != null) span.tag("hoptrace.score", score);
    try {
      sink.accept(span.build());
    } catch (RuntimeException e) {
      // The span writer's problem must not become the relay's: the bytes keep flowing.
    }
  }
}
