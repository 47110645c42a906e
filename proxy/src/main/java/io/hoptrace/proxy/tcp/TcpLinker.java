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
   * Links a call that started at {@code startMicros}.
   *
   * @param route the route the call went through (its upstream is the callee)
   * @param app the app's end of the connection (its ephemeral port names the socket in /proc)
   * @param startMicros epoch microseconds when the call's first byte arrived
   */
  TcpLink link(TcpRoute route, InetSocketAddress app, long startMicros);
}
