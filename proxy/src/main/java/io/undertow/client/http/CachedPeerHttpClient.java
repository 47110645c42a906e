package io.undertow.client.http;

import io.undertow.client.ClientCallback;
import io.undertow.client.ClientConnection;
import io.undertow.connector.ByteBufferPool;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import org.jspecify.annotations.Nullable;
import org.xnio.IoFuture;
import org.xnio.OptionMap;
import org.xnio.StreamConnection;
import org.xnio.XnioIoThread;

/**
 * hoptrace's way to open Undertow's HTTP/1.1 client connections for the same-loop transport
 * (io.hoptrace.proxy.upstream.SameLoopForwarder): exactly what Undertow 2.4.4.Final's {@code
 * UndertowClient.connect(listener, null, uri, ioThread, null, bufferPool, options)} does for an
 * {@code http} URI ({@code HttpClientProvider}: open a stream connection to the URI's host and port
 * on the IO thread, wrap it in an {@link HttpClientConnection}, report a failed open to {@code
 * listener.failed}), except that the connection is a {@link CachedPeerConnection} and reads through
 * a {@link ResponseHeadLimit}.
 *
 * <p>Why: Undertow's client asks {@link HttpClientConnection#getPeerAddress()} three times per
 * exchange, only to pass it to {@code log.debugf} (the argument is built whether or not debug is
 * on: {@code HttpClientExchange.terminateRequest}, {@code terminateResponse}, {@code
 * HttpClientConnection.exchangeDone}), and XNIO makes a new {@code InetSocketAddress} on each call:
 * ~70–90 bytes per relayed request (hoptrace bench/README.md, "Same-loop allocation (s18)"). A
 * connected socket's peer never changes, so it is read once, when the connection opens.
 *
 * <p>Not a patched copy of an Undertow class: a new class in Undertow's package (the connection's
 * constructor is package-private), so no Undertow class is replaced. It depends on two things of
 * 2.4.4's internals, re-checked with every Undertow upgrade (the enforcer rule in proxy/pom.xml
 * pins undertow.version, {@link #REVIEWED_FOR_UNDERTOW}): the constructor's signature (the compiler
 * checks it) and what {@code HttpClientProvider.connect} does for plain http (read it again).
 */
public final class CachedPeerHttpClient {
  /** The Undertow version whose {@code HttpClientProvider} this class was checked against. */
  static final String REVIEWED_FOR_UNDERTOW = "2.4.4.Final";

  private CachedPeerHttpClient() {}

  /**
   * Opens an HTTP/1.1 client connection to {@code uri}'s host and port ({@code http} only; port 80
   * when the URI has none) from {@code ioThread}, as Undertow's own client does; a response head
   * longer than {@code maxResponseHeadBytes} fails its exchange ({@link ResponseHeadLimit}).
   */
  public static void connect(
      ClientCallback<ClientConnection> listener,
      URI uri,
      XnioIoThread ioThread,
      ByteBufferPool bufferPool,
      OptionMap options,
      int maxResponseHeadBytes) {
    if (!"http".equals(uri.getScheme())) {
      throw new IllegalArgumentException("only http:// is connected here: " + uri);
    }
    ioThread
        .openStreamConnection(
            new InetSocketAddress(uri.getHost(), uri.getPort() == -1 ? 80 : uri.getPort()),
            connection -> {
              // Under the connection's own conduits: it sees the socket's bytes as read.
              ResponseHeadLimit limit =
                  new ResponseHeadLimit(
                      connection.getSourceChannel().getConduit(), maxResponseHeadBytes);
              connection.getSourceChannel().setConduit(limit);
              CachedPeerConnection opened =
                  new CachedPeerConnection(connection, options, bufferPool);
              limit.attach(opened);
              listener.completed(opened);
            },
            options)
        .addNotifier(
            (future, unused) -> {
              if (future.getStatus() == IoFuture.Status.FAILED) {
                listener.failed(future.getException());
              }
            },
            null);
  }

  /**
   * Undertow's HTTP/1.1 client connection, with its peer address read once: the socket is connected
   * when this is made, and its peer stays what it was (also after a close, as the JDK reports it).
   */
  static final class CachedPeerConnection extends HttpClientConnection {
    private final @Nullable SocketAddress peer;

    CachedPeerConnection(StreamConnection connection, OptionMap options, ByteBufferPool pool) {
      super(connection, options, pool);
      this.peer = connection.getPeerAddress();
    }

    @Override
    public @Nullable SocketAddress getPeerAddress() {
      return peer;
    }
  }
}
