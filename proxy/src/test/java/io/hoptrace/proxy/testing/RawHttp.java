package io.hoptrace.proxy.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * Sends one raw HTTP/1.1 request from a chosen source address and reads the answer until the server
 * closes or {@code timeoutMillis} passes: for what real clients will not send (origin-form to a
 * proxy, a CONNECT to a denied port, a request from 127.0.0.2).
 */
public final class RawHttp {
  /** The response head and body as text. */
  public static String exchange(InetAddress source, int port, String request, int timeoutMillis)
      throws IOException {
    try (Socket socket = new Socket()) {
      socket.bind(new InetSocketAddress(source, 0));
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), timeoutMillis);
      socket.setSoTimeout(timeoutMillis);
      socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      socket.getOutputStream().flush();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      InputStream in = socket.getInputStream();
      byte[] buf = new byte[4096];
      try {
        for (int n; (n = in.read(buf)) > 0; ) out.write(buf, 0, n);
      } catch (java.net.SocketTimeoutException e) {
        // keep-alive answer: what arrived is the answer
      }
      return out.toString(StandardCharsets.ISO_8859_1);
    }
  }

  /** The status code of a response text, or -1. */
  public static int status(String response) {
    if (!response.startsWith("HTTP/1.1 ") || response.length() < 12) return -1;
    return Integer.parseInt(response.substring(9, 12));
  }

  private RawHttp() {}
}
