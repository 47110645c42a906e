package io.hoptrace.proxy.upstream;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import java.net.SocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * What a direction adds to a forwarded exchange: the inbound hop injects the SERVER span's context,
 * the outbound hop the CLIENT span's. The headers hooks are called on the exchange's IO thread,
 * whatever {@link Forwarder} transport carries the exchange.
 */
public interface ForwardHooks {
  /**
   * Last change to the headers going upstream, after hop-by-hop fields were removed: the same
   * Undertow map whichever transport forwards (the Jetty one copies it into its request).
   */
  void proxyToServerHeaders(HttpServerExchange exchange, HeaderMap headers);

  /**
   * The proxyToServerRequest's headers have been handed to the upstream connection. Called on a
   * Jetty thread or on the exchange's IO thread, depending on the transport, so it may only touch
   * thread-safe state.
   */
  default void proxyToServerCommitted(HttpServerExchange exchange) {}

  /**
   * The connection that will carry the proxyToServerRequest has been chosen, before anything is
   * sent on it: {@code proxySide} is hoptrace's local address of it, {@code serverSide} the
   * upstream's (null if the transport cannot tell). Called for every request, on a Jetty thread,
   * the caller's, or the exchange's IO thread, so it may only touch thread-safe state.
   */
  default void proxyToServerConnection(
      HttpServerExchange exchange,
      @Nullable SocketAddress proxySide,
      @Nullable SocketAddress serverSide) {}

  /** Last change to the response headers going back to the client (also on a 502/504). */
  void proxyToClientHeaders(HttpServerExchange exchange, HeaderMap headers);
}
