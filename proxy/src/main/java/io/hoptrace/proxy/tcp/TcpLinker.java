package io.hoptrace.proxy.tcp;

import java.net.InetSocketAddress;

/**
 * Decides which inbound request caused a TCP call. No header can be injected into Redis or MySQL,
 * so this is the correlator alone ({@code sole}, {@code inferred} or {@code root}, or {@code
 * process} when socket ownership tells). Called on the relay's selector thread once per command
 * (once per connection for {@code tcp} routes) when its first byte arrives, so it must not block.
 */
@FunctionalInterface
public interface TcpLinker {
  /**
   * Links a call that started at {@code startNanos}.
   *
   * @param route the route the call went through (its upstream is the callee)
   * @param app the app's end of the connection: its local address
   * @param proxy hoptrace's end of the connection: the app's remote address (with {@code app}, it
   *     names the app's socket in /proc, for the {@code process} link)
   * @param startNanos {@link System#nanoTime()} when the call's first byte arrived (the ticker the
   *     correlator's registry reads)
   */
  TcpLink link(TcpRoute route, InetSocketAddress app, InetSocketAddress proxy, long startNanos);
}
