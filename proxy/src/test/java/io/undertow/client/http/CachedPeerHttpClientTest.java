package io.undertow.client.http;

import static io.hoptrace.proxy.RawUpstream.readHead;
import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.proxy.testing.RefusedPort;
import io.undertow.Version;
import io.undertow.client.ClientConnection;
import io.undertow.client.ClientRequest;
import io.undertow.client.UndertowClient;
import io.undertow.util.Headers;
import io.undertow.util.Methods;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link CachedPeerHttpClient} against Undertow's own {@code UndertowClient.connect}, side by side
 * over real sockets: the same connection class underneath, the same peer, the same request bytes on
 * the wire and the same response read, the same failure for a port nobody listens on — and the peer
 * read once instead of a new {@code InetSocketAddress} per call (what it is for).
 */
class CachedPeerHttpClientTest extends ClientHarness {
  private static final int MAX_HEAD = 64 * 1024;

  @Test
  void undertowVersion_isTheOneReviewed() {
    assertThat(Version.getVersionString())
        .as(
            "io.undertow.client.http.CachedPeerHttpClient opens connections as Undertow %s's"
                + " HttpClientProvider.connect does for http://. For another Undertow version:"
                + " check that its HttpClientProvider still does the same and that"
                + " HttpClientConnection's constructor is unchanged, then update"
                + " REVIEWED_FOR_UNDERTOW and the enforcer rule in proxy/pom.xml.",
            CachedPeerHttpClient.REVIEWED_FOR_UNDERTOW)
        .isEqualTo(CachedPeerHttpClient.REVIEWED_FOR_UNDERTOW);
  }

  @Test
  void connection_isUndertows_withThePeerReadOnce_asTheOriginalReportsIt() throws Exception {
    ClientConnection original = connectOriginal(uri(server.getLocalPort()));
    try (Socket originalAccepted = server.accept()) {
      ClientConnection ours = connectOurs(uri(server.getLocalPort()));
      try (Socket accepted = server.accept()) {
        assertThat(ours).isInstanceOf(HttpClientConnection.class);
        assertThat(ours.getClass()).isEqualTo(CachedPeerHttpClient.CachedPeerConnection.class);
        assertThat(original.getClass()).isEqualTo(HttpClientConnection.class);

        SocketAddress peer = ours.getPeerAddress();
        assertThat(peer).isEqualTo(accepted.getLocalSocketAddress());
        assertThat(original.getPeerAddress()).isEqualTo(originalAccepted.getLocalSocketAddress());
        assertThat(peer).isEqualTo(original.getPeerAddress()); // same server address and port
        // read once: the same object every time; Undertow's makes a new one per call
        assertThat(ours.getPeerAddress()).isSameAs(peer);
        assertThat(original.getPeerAddress()).isNotSameAs(original.getPeerAddress());
        // the typed overload is Undertow's own, unchanged
        assertThat(ours.getPeerAddress(InetSocketAddress.class)).isEqualTo(peer);
        assertThat(ours.getLocalAddress()).isEqualTo(accepted.getRemoteSocketAddress());

        ours.close();
        original.close();
        waitClosed(ours);
        waitClosed(original);
        // after a close the JDK still reports the peer; so does the cached one
        assertThat(original.getPeerAddress()).isEqualTo(peer);
        assertThat(ours.getPeerAddress()).isSameAs(peer);
      }
    }
  }

  @Test
  void exchange_sameRequestOnTheWire_sameResponseRead_asUndertowsConnection() throws Exception {
    String theirs = roundTrip(connectOriginal(uri(server.getLocalPort())));
    String ours = roundTrip(connectOurs(uri(server.getLocalPort())));

    assertThat(ours).isEqualTo(theirs);
    assertThat(ours)
        .startsWith("GET /a/b?c=d HTTP/1.1\r\n")
        .contains("Host: app:1\r\n", "X-Test: 1\r\n")
        .endsWith("\r\n\r\n| 200 hello");
  }

  @Test
  void nobodyListening_failsAsUndertowsConnectFails() throws Exception {
    try (RefusedPort refused = new RefusedPort()) {
      int port = refused.port();
      CompletableFuture<ClientConnection> theirs = new CompletableFuture<>();
      CompletableFuture<ClientConnection> ours = new CompletableFuture<>();
      ioThread.execute(
          () -> {
            UndertowClient.getInstance()
                .connect(callback(theirs), null, uri(port), ioThread, null, buffers, OPTIONS);
            CachedPeerHttpClient.connect(
                callback(ours), uri(port), ioThread, buffers, OPTIONS, MAX_HEAD);
          });
      Throwable theirFailure = failureOf(theirs);
      Throwable ourFailure = failureOf(ours);
      assertThat(theirFailure).isInstanceOf(IOException.class);
      assertThat(ourFailure).isExactlyInstanceOf(theirFailure.getClass());
      assertThat(ourFailure.getMessage()).isEqualTo(theirFailure.getMessage());
    }
  }

  @Test
  void onlyHttp() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                CachedPeerHttpClient.connect(
                    callback(new CompletableFuture<>()),
                    URI.create("https://127.0.0.1:1"),
                    ioThread,
                    buffers,
                    OPTIONS,
                    MAX_HEAD))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /**
   * Sends one request on {@code connection} to the test's server socket, answers it, and gives what
   * the server received, then "| ", the status and the body the connection read.
   */
  private String roundTrip(ClientConnection connection) throws Exception {
    try (Socket accepted = server.accept()) {
      ClientRequest request = new ClientRequest();
      request.setMethod(Methods.GET);
      request.setPath("/a/b?c=d");
      request.getRequestHeaders().put(Headers.HOST, "app:1");
      request.getRequestHeaders().put(Headers.X_FORWARDED_PROTO, "http");
      request.getRequestHeaders().put(io.undertow.util.HttpString.tryFromString("X-Test"), "1");
      CompletableFuture<String> read = send(ioThread, buffers, connection, request);
      accepted.setSoTimeout(5000);
      String head = readHead(accepted.getInputStream());
      OutputStream out = accepted.getOutputStream();
      out.write(
          "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String answer = read.get(5, TimeUnit.SECONDS);
      connection.close();
      return head + "| " + answer;
    }
  }

  private ClientConnection connectOurs(URI uri) throws Exception {
    CompletableFuture<ClientConnection> f = new CompletableFuture<>();
    ioThread.execute(
        () -> CachedPeerHttpClient.connect(callback(f), uri, ioThread, buffers, OPTIONS, MAX_HEAD));
    return f.get(5, TimeUnit.SECONDS);
  }

  private ClientConnection connectOriginal(URI uri) throws Exception {
    CompletableFuture<ClientConnection> f = new CompletableFuture<>();
    ioThread.execute(
        () ->
            UndertowClient.getInstance()
                .connect(callback(f), null, uri, ioThread, null, buffers, OPTIONS));
    return f.get(5, TimeUnit.SECONDS);
  }

  private static Throwable failureOf(CompletableFuture<ClientConnection> f) throws Exception {
    try {
      ClientConnection c = f.get(5, TimeUnit.SECONDS);
      c.close();
      throw new AssertionError("connected to a port nobody listens on: " + c);
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause();
    }
  }

  private static URI uri(int port) {
    return URI.create("http://127.0.0.1:" + port);
  }
}
