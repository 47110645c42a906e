package io.hoptrace.proxy.outbound;

import static java.util.Objects.requireNonNull;

import io.hoptrace.proxy.procfs.ProcessLinks;
import io.hoptrace.proxy.procfs.SocketKey;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.ServerConnection;
import io.undertow.util.AttachmentKey;
import java.net.InetSocketAddress;

/**
 * Before the correlate stage, when process links are on: attaches the app's side of this connection
 * (the app's ephemeral address, and this listener) as {@link OutboundAttachments#APP_SOCKET}, so
 * the correlator can ask /proc which worker is calling. Made once per connection; when the
 * connection closes its cached owner is forgotten, since a later connection may reuse the same
 * ports from another worker.
 */
final class AppSocketHandler implements HttpHandler {
  private static final AttachmentKey<SocketKey> CONNECTION_KEY =
      AttachmentKey.create(SocketKey.class);

  private final ProcessLinks links;
  private final HttpHandler next;

  AppSocketHandler(ProcessLinks links, HttpHandler next) {
    this.links = requireNonNull(links, "links");
    this.next = requireNonNull(next, "next");
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    ServerConnection connection = exchange.getConnection();
    SocketKey key = connection.getAttachment(CONNECTION_KEY);
    if (key == null) {
      key =
          ProcessLinks.appSide(
              connection.getPeerAddress(InetSocketAddress.class),
              connection.getLocalAddress(InetSocketAddress.class));
      if (key != null) {
        SocketKey closing = key;
        connection.putAttachment(CONNECTION_KEY, key);
        connection.addCloseListener(c -> links.forget(closing));
      }
    }
    if (key != null) exchange.putAttachment(OutboundAttachments.APP_SOCKET, key);
    next.handleRequest(exchange);
  }
}
