package io.hoptrace.proxy.outbound;

import static java.util.Objects.requireNonNull;

import io.hoptrace.proxy.CallerAddress;
import io.hoptrace.proxy.guard.Refusals;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.ServerConnection;
import io.undertow.util.AttachmentKey;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Stage 1: only allowed sources (by default loopback) may use the outbound listeners. An open
 * forward proxy on a pod's network would let anyone reach whatever the pod can reach.
 *
 * <p>The decision is made on a connection's first request and kept on the connection: its peer
 * never changes, nor do the allowed sources, and testing them ({@code CidrRange.contains}) copies
 * and masks the address per range (bench/README.md, "Outbound path (s17)").
 */
final class SourceAccessHandler implements HttpHandler {
  private static final AttachmentKey<Boolean> ALLOWED = AttachmentKey.create(Boolean.class);

  private final Predicate<InetAddress> allowedSources;
  private final Refusals refusals;
  private final HttpHandler next;

  SourceAccessHandler(Predicate<InetAddress> allowedSources, Refusals refusals, HttpHandler next) {
    this.allowedSources = requireNonNull(allowedSources, "allowedSources");
    this.refusals = requireNonNull(refusals, "refusals");
    this.next = next;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    ServerConnection connection = exchange.getConnection();
    Boolean allowed = connection.getAttachment(ALLOWED);
    if (allowed == null) {
      allowed = allowed(source(exchange));
      connection.putAttachment(ALLOWED, allowed);
    }
    if (!allowed) {
      InetAddress address = source(exchange);
      refusals.refuse(
          exchange, Refusal.SOURCE, address == null ? "unknown" : address.getHostAddress());
      return;
    }
    next.handleRequest(exchange);
  }

  private boolean allowed(@Nullable InetAddress address) {
    return address != null && allowedSources.test(address);
  }

  /** The connection's peer, kept on it (CallerAddress), or null when unknown. */
  private static @Nullable InetAddress source(HttpServerExchange exchange) {
    InetSocketAddress source = CallerAddress.of(exchange).address;
    return source == null ? null : source.getAddress();
  }
}
