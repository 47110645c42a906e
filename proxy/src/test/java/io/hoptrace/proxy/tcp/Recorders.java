package io.hoptrace.proxy.tcp;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/** Span recorders for observer tests that feed bytes with no socket. */
public final class Recorders {
  private Recorders() {}

  public static final TcpRoute REDIS_ROUTE =
      TcpRoute.of("cache", "127.0.0.1", 0, "127.0.0.1:6379", TcpProtocol.REDIS);
  public static final TcpRoute MYSQL_ROUTE =
      TcpRoute.of("db", "127.0.0.1", 0, "127.0.0.1:3306", TcpProtocol.MYSQL);

  public static SpanRecorder recorder(TcpRoute route, TcpLinker linker, SpanSink sink) {
    return new SpanRecorder(
        "svc",
        route,
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 40000),
        new InetSocketAddress(InetAddress.getLoopbackAddress(), route.listenPort()),
        route.upstreamHost(),
        route.upstreamPort(),
        linker,
        sink,
        new TcpClock());
  }
}
