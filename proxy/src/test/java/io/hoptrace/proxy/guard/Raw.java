package io.hoptrace.proxy.guard;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** One raw request on a new connection: what came back, and whether the server then closed. */
record Raw(String text, boolean closed, long millis) {
  /** Sends {@code request} and reads until the server closes or {@code timeoutMillis} pass. */
  static Raw send(InetSocketAddress to, String request, int timeoutMillis) throws IOException {
    return send(to, request.getBytes(StandardCharsets.ISO_8859_1), timeoutMillis);
  }

  static Raw send(InetSocketAddress to, byte[] request, int timeoutMillis) throws IOException {
    long start = System.nanoTime();
    try (Socket socket = new Socket()) {
      socket.connect(to, timeoutMillis);
      socket.setSoTimeout(timeoutMillis);
      try {
        socket.getOutputStream().write(request);
        socket.getOutputStream().flush();
      } catch (IOException e) {
        // the server may close before reading everything: what it answered is still readable
      }
      return read(socket, start);
    }
  }

  static Raw read(Socket socket, long start) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    InputStream in = socket.getInputStream();
    byte[] buf = new byte[8192];
    boolean closed;
    try {
      for (int n; (n = in.read(buf)) > 0; ) out.write(buf, 0, n);
      closed = true;
    } catch (SocketTimeoutException e) {
      closed = false;
    } catch (IOException e) {
      closed = true; // reset
    }
    return new Raw(
        out.toString(StandardCharsets.ISO_8859_1), closed, (System.nanoTime() - start) / 1_000_000);
  }

  /** The status code, or -1 when nothing (or no HTTP) came back. */
  int status() {
    if (!text.startsWith("HTTP/1.") || text.length() < 12) return -1;
    return Integer.parseInt(text.substring(9, 12));
  }

  /** A response header's value (first), or null. */
  String header(String name) {
    int end = text.indexOf("\r\n\r\n");
    String head = end < 0 ? text : text.substring(0, end);
    for (String line : head.split("\r\n", -1)) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
        return line.substring(colon + 1).strip();
      }
    }
    return null;
  }

  @Override
  public String toString() {
    return (closed ? "[closed] " : "[open] ") + text.replace("\r\n", "\\r\\n");
  }
}
