package io.hoptrace.proxy.guard;

import io.hoptrace.proxy.RawUpstream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The app behind hoptrace, on a raw socket, recording every request exactly as it arrived (head and
 * body bytes): "nothing forwarded" is asserted against what this saw, and so is what a smuggled
 * header would look like on the app's side. Answers each request with what {@code answer} gives (by
 * default a keep-alive 200 "ok").
 */
final class RecordingApp implements AutoCloseable {
  static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

  /**
   * Ends an answer that is written as far as this mark, after which the app closes the connection
   * (an app that dies mid-response). A close, not a reset: a reset could discard what was written
   * before the other side read it.
   */
  static final String CLOSE = "\u0000close";

  final ServerSocket server;
  final ExecutorService threads = Executors.newCachedThreadPool();

  /** Runs {@link #acceptLoop}; {@link #close()} waits for it to end (see there why). */
  private final Thread acceptor;

  final List<String> requests = new CopyOnWriteArrayList<>();

  /** Request heads seen, including those whose body never completed. */
  final List<String> heads = new CopyOnWriteArrayList<>();

  final List<Socket> sockets = new CopyOnWriteArrayList<>();
  final AtomicInteger connections = new AtomicInteger();
  volatile Function<String, String> answer = request -> OK;

  /**
   * When set, written as soon as a head has arrived, before the body is read (an app that answers
   * early); the connection then closes once the body is complete.
   */
  volatile String answerBeforeBody;

  RecordingApp() throws IOException {
    this(0);
  }

  RecordingApp(int port) throws IOException {
    server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
    acceptor = new Thread(this::acceptLoop, "recording-app-accept-" + port());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return server.getLocalPort();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        if (server.isClosed()) {
          // Taken by the dying listener after close() (see there): a dead app answers nothing.
          socket.close();
          return;
        }
        connections.incrementAndGet();
        sockets.add(socket);
        threads.execute(() -> serve(socket));
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(Socket socket) {
    try (socket) {
      socket.setSoTimeout(30_000);
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      while (true) {
        String head = RawUpstream.readHead(in);
        if (head.isEmpty()) return;
        heads.add(head);
        String early = answerBeforeBody;
        if (early != null) {
          out.write(early.getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
        }
        String body = readBody(in, head);
        String request = head + body;
        requests.add(request);
        if (early != null) return;
        String response = answer.apply(request);
        if (response == null) {
          socket.setSoLinger(true, 0); // reset
          return;
        }
        if (response.endsWith(CLOSE)) {
          out.write(
              response
                  .substring(0, response.length() - CLOSE.length())
                  .getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
          return;
        }
        out.write(response.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        if (response.toLowerCase(Locale.ROOT).contains("connection: close")) return;
      }
    } catch (IOException e) {
      // client gone
    }
  }

  private static String readBody(InputStream in, String head) throws IOException {
    String lower = head.toLowerCase(Locale.ROOT);
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (lower.contains("\r\ntransfer-encoding: chunked")) {
      while (true) {
        String sizeLine = line(in);
        body.writeBytes((sizeLine + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        int semi = sizeLine.indexOf(';');
        int size =
            Integer.parseInt((semi >= 0 ? sizeLine.substring(0, semi) : sizeLine).strip(), 16);
        if (size == 0) {
          while (true) {
            String trailer = line(in);
            if (trailer.isEmpty()) break;
            body.writeBytes((trailer + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
          }
          body.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
          return body.toString(StandardCharsets.ISO_8859_1);
        }
        body.writeBytes(in.readNBytes(size));
        body.writeBytes((line(in) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      }
    }
    int cl = lower.indexOf("\r\ncontent-length:");
    if (cl >= 0) {
      int end = lower.indexOf("\r\n", cl + 2);
      long length = Long.parseLong(lower.substring(cl + 17, end).strip());
      byte[] bytes = in.readNBytes((int) length);
      if (bytes.length < length) throw new IOException("body cut short: not a complete request");
      body.writeBytes(bytes);
    }
    return body.toString(StandardCharsets.ISO_8859_1);
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    for (int c; (c = in.read()) >= 0; ) {
      if (c == '\n') break;
      if (c != '\r') b.append((char) c);
    }
    return b.toString();
  }

  /**
   * Kills the app: once this returns, a connect to its port is refused, as for a killed process.
   *
   * <p>{@code server.close()} alone does not do that. While the acceptor thread is blocked in
   * {@code accept(2)}, the kernel keeps the listening socket alive (the call holds a reference to
   * it) until that thread has been signalled and scheduled again; a connection arriving in between
   * is completed by the kernel and then returned by that very {@code accept}. It was counted, never
   * served and never closed (the pool was shut down: RejectedExecutionException on the acceptor),
   * so hoptrace waited for a response until its 30 s response timeout (504) where the test expected
   * the 502 of a dead app. Seen as UpstreamFaultJettyTest's rare "no answer in 3 s"; a connect
   * right after close() reached the closed app in the first rounds of RecordingAppTest.
   */
  @Override
  public void close() throws IOException {
    server.close();
    try {
      acceptor.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (acceptor.isAlive()) throw new IOException("the acceptor did not leave accept()");
    for (Socket s : sockets) s.close();
    threads.shutdownNow();
  }
}
