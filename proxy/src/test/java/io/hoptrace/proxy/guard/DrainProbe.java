package io.hoptrace.proxy.guard;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/** Helpers for the drain tests, in-process and through a real SIGTERM. */
public final class DrainProbe {
  /** Until a new connection gets no answer (refused, or closed without one); up to 5 s. */
  public static void awaitNotAccepting(InetSocketAddress to) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (System.nanoTime() < deadline) {
      try (Socket probe = new Socket()) {
        probe.connect(to, 200);
        probe.setSoTimeout(200);
        if (probe.getInputStream().read() == -1) break;
      } catch (IOException e) {
        break;
      }
      Thread.sleep(10);
    }
    Thread.sleep(50);
  }

  /** One response with a Content-Length body, leaving the connection open. */
  public static String readOne(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) break;
      head.write(b);
    }
    String text = head.toString(StandardCharsets.ISO_8859_1);
    int at = text.toLowerCase(Locale.ROOT).indexOf("content-length:");
    if (at < 0) return text;
    int length = Integer.parseInt(text.substring(at + 15, text.indexOf("\r\n", at)).strip());
    return text + new String(in.readNBytes(length), StandardCharsets.ISO_8859_1);
  }

  private DrainProbe() {}
}
