package io.hoptrace.proxy;

import io.undertow.server.HttpServerExchange;
import io.undertow.server.ServerConnection;
import io.undertow.util.AttachmentKey;
import java.net.InetSocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * The caller's address and its IP text ({@code X-Forwarded-For}, the trust decision, the SERVER
 * span's remote endpoint), found once per connection and kept on it: a connection's peer never
 * changes, while {@link HttpServerExchange#getSourceAddress()} asks XNIO for a new {@link
 * InetSocketAddress} on every call (bench/README.md, "Request path allocation (s16b)"). Nothing of
 * ours sets an exchange's own source address ({@code setSourceAddress}), so the connection's peer
 * is every exchange's. The inbound hop's first stage looks it up, on the thread that handles the
 * request, and keeps it in its exchange state for the stages after it; the outbound listeners'
 * source check reads it too.
 */
public final class CallerAddress {
  private static final AttachmentKey<CallerAddress> KEY = AttachmentKey.create(CallerAddress.class);
  private static final CallerAddress UNKNOWN = new CallerAddress(null, null);

  /** The peer, or null when the connection does not know it. */
  public final @Nullable InetSocketAddress address;

  /** The peer's IP address as text ({@code InetAddress#getHostAddress}), or null. */
  public final @Nullable String ip;

  private CallerAddress(@Nullable InetSocketAddress address, @Nullable String ip) {
    this.address = address;
    this.ip = ip;
  }

  /** The caller of {@code exchange}'s connection: built on its first request, then reused. */
  public static CallerAddress of(HttpServerExchange exchange) {
    ServerConnection connection = exchange.getConnection();
    CallerAddress caller = connection.getAttachment(KEY);
    if (caller == null) {
      caller = of(exchange.getSourceAddress());
      connection.putAttachment(KEY, caller);
    }
    return caller;
  }

  public static CallerAddress of(@Nullable InetSocketAddress peer) {
    if (peer == null) return UNKNOWN;
    return new CallerAddress(
        peer, peer.getAddress() == null ? null : peer.getAddress().getHostAddress());
  }
}
