package io.hoptrace.proxy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A misbehaving app on a raw socket: answers every request in one fixed way that a well-behaved
 * HTTP server library would not produce.
 */
public final class RawUpstream implements AutoCloseable {
  enum Mode {
    /** Reads the request, then resets the connection (RST) without answering. */
    RESET,
    /** Answers without Content-Length or chunking; the body ends when the connection closes. */
    CLOSE_DELIMITED,
    /**
     * Refuses every request at once with 417, never reading a body (an Expect: 100-continue no).
     */
    REJECT,
    /**
     * Answers keep-alive (head and body in one write), then closes the idle connection {@value
     * #IDLE_CLOSE_MILLIS} ms later without a word: an app whose keep-alive timeout is short.
     */
    ANSWER_THEN_CLOSE_IDLE
  }

  static final long IDLE_CLOSE_MILLIS = 100;

  static final String CLOSE_DELIMITED_BODY = "body ends at close\n".repeat(1000);

  final ServerSocket server;
  final Thread thread;
  final AtomicInteger accepted = new AtomicInteger();
  final AtomicInteger closedIdle = new AtomicInteger();

  RawUpstream(Mode mode) throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    thread =
        new Thread(
            () -> {
              while (!server.isClosed()) {
                try (Socket socket = server.accept()) {
                  accepted.incrementAndGet();
                  readHead(socket.getInputStream());
                  if (mode == Mode.ANSWER_THEN_CLOSE_IDLE) {
                    socket
                        .getOutputStream()
                        .write(
                            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                                .getBytes(StandardCharsets.US_ASCII));
                    Thread.sleep(IDLE_CLOSE_MILLIS);
                    socket.shutdownOutput(); // FIN: what an idle close looks like to the proxy
                    closedIdle.incrementAndGet();
                  } else if (mode == Mode.RESET) {
                    socket.setSoLinger(true, 0);
                  } else if (mode == Mode.REJECT) {
                    socket
                        .getOutputStream()
                        .write(
                            "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                                .getBytes(StandardCharsets.US_ASCII));
                  } else {
                    socket
                        .getOutputStream()
                        .write(
                            ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
                                    + CLOSE_DELIMITED_BODY)
                                .getBytes(StandardCharsets.US_ASCII));
                  }
                } catch (IOException e) {
                  // closed
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  return;
                }
              }
            },
            "raw-upstream");
    thread.setDaemon(true);
    thread.start();
  }

  int port() {
    return server.getLocalPort();
  }

  /**
   * Reads a head up to and with its empty line (CRLF CRLF), as text; shared by the tests that play
   * a raw peer (RecordingApp, the Undertow client harness).
   */
  public static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int state = 0;
    for (int b; state < 4 && (b = in.read()) >= 0; ) {
      head.write(b);
      state =
          (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3))
              ? state + 1
              : 0;
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
