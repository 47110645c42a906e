package io.hoptrace.proxy.upstream;

import io.hoptrace.config.HostPort;
import io.undertow.server.HttpServerExchange;

/**
 * Forwards one Undertow exchange (the clientToProxyRequest) to an upstream and streams the answer
 * back; {@code upstream.client} picks the transport: {@link UpstreamForwarder} (Jetty's HttpClient,
 * the default) or {@link SameLoopForwarder} (Undertow's client, on the exchange's own IO thread).
 * Both give the same guarantees: streamed bodies with backpressure, hop-by-hop fields removed,
 * bytes unchanged, 502 on a connect failure or reset, 504 on a timeout, a cut connection when the
 * upstream fails after the response started, the upstream aborted when the client goes.
 */
public interface Forwarder {
  /**
   * Forwards {@code exchange} to {@code target}. Call from an Undertow handler on the IO thread;
   * the exchange is dispatched and ended later on the same thread.
   */
  void forward(HttpServerExchange exchange, HostPort target, ForwardHooks hooks);
}
