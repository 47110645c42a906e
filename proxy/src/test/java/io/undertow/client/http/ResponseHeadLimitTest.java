package io.undertow.client.http;

import static io.hoptrace.proxy.RawUpstream.readHead;
import static org.assertj.core.api.Assertions.assertThat;

import io.undertow.client.ClientConnection;
import io.undertow.client.ClientRequest;
import io.undertow.util.Headers;
import io.undertow.util.Methods;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link ResponseHeadLimit} under a real Undertow client connection ({@link CachedPeerHttpClient}),
 * against a server socket that answers heads of exact sizes, whole or in pieces: a head of exactly
 * the limit is read, one byte more fails the exchange with {@link ResponseHeadLimit.TooLarge}, for
 * limits under, at and over the client's read buffer (8 KiB here); each response on a kept-alive
 * connection counts from zero; the body is not counted.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ResponseHeadLimitTest extends ClientHarness {

  /** {@code limit}, and the size of the pieces the server writes the response in (0 = whole). */
  @ParameterizedTest
  @CsvSource({"1024,0", "1024,100", "8192,0", "8192,1000", "20000,0", "20000,3000", "70000,4096"})
  void headOfTheLimit_isRead_oneByteMore_fails(int limit, int piece) throws Exception {
    ClientConnection connection = connect(limit);
    try (Socket accepted = server.accept()) {
      CompletableFuture<String> exact = exchange(connection);
      answer(accepted, head(limit, "hello") + "hello", piece);
      assertThat(exact.get(10, TimeUnit.SECONDS)).isEqualTo("200 hello");

      // Kept alive: the next response's head counts from zero.
      CompletableFuture<String> over = exchange(connection);
      answer(accepted, head(limit + 1, "hello") + "hello", piece);
      Throwable failure = failure(over);
      assertThat(failure).isInstanceOf(ResponseHeadLimit.TooLarge.class);
      assertThat(((ResponseHeadLimit.TooLarge) failure).maxHeadBytes()).isEqualTo(limit);
      assertThat(failure).hasMessage("response head over " + limit + " bytes");
      // Undertow closes the connection: the rest of the head is never read.
      waitClosed(connection);
    }
  }

  @Test
  void bodyLongerThanTheLimit_isNotCounted() throws Exception {
    ClientConnection connection = connect(1024);
    try (Socket accepted = server.accept()) {
      String body = "b".repeat(200_000);
      for (int i = 0; i < 3; i++) { // and the heads after it count from zero again
        CompletableFuture<String> read = exchange(connection);
        answer(accepted, head(1024, body) + body, 5000);
        assertThat(read.get(10, TimeUnit.SECONDS)).isEqualTo("200 " + body);
      }
    }
  }

  /**
   * A head of exactly {@code bytes} bytes (status line, fields, blank line) for a body of {@code
   * body}'s length: padded with an {@code X-Pad} field.
   */
  static String head(int bytes, String body) {
    String start = "HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\nX-Pad: ";
    String end = "\r\n\r\n";
    int pad = bytes - start.length() - end.length();
    if (pad < 1) throw new IllegalArgumentException("no room for the pad in " + bytes);
    String head = start + "p".repeat(pad) + end;
    assertThat(head).hasSize(bytes);
    return head;
  }

  private void answer(Socket accepted, String response, int piece) throws Exception {
    accepted.setSoTimeout(5000);
    readHead(accepted.getInputStream());
    OutputStream out = accepted.getOutputStream();
    byte[] bytes = response.getBytes(StandardCharsets.US_ASCII);
    if (piece == 0) {
      out.write(bytes);
      out.flush();
      return;
    }
    for (int from = 0; from < bytes.length; from += piece) {
      out.write(bytes, from, Math.min(piece, bytes.length - from));
      out.flush();
      Thread.sleep(1); // so that the client reads it in several reads
    }
  }

  /** Sends {@code GET /}; completes with the status, a space and the body, or the failure. */
  private CompletableFuture<String> exchange(ClientConnection connection) {
    ClientRequest request = new ClientRequest();
    request.setMethod(Methods.GET);
    request.setPath("/");
    request.getRequestHeaders().put(Headers.HOST, "app");
    return send(ioThread, buffers, connection, request);
  }

  private static Throwable failure(CompletableFuture<String> f) throws Exception {
    try {
      throw new AssertionError("read: " + f.get(10, TimeUnit.SECONDS));
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }

  private ClientConnection connect(int maxHeadBytes) throws Exception {
    CompletableFuture<ClientConnection> f = new CompletableFuture<>();
    URI uri = URI.create("http://127.0.0.1:" + server.getLocalPort());
    ioThread.execute(
        () ->
            CachedPeerHttpClient.connect(
                callback(f), uri, ioThread, buffers, OPTIONS, maxHeadBytes));
    return f.get(5, TimeUnit.SECONDS);
  }
}
