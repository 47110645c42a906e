package io.undertow.server.protocol.http;

import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import io.undertow.util.HttpString;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.IntSupplier;

/**
 * A plain Undertow server that answers {@code GET /N} with response {@code N} of a list: {@code
 * {status, reason phrase or null, body mode, body, name, value, name, value, ...}}; body modes:
 * {@code none} (the exchange ends: the head goes out by a flush), {@code string} (the sender, one
 * buffer: a gathering write with the head) and {@code buffers} (the sender, two buffers).
 *
 * <p>{@link HttpResponseConduitDifferentialTest} loads this class once in each of its two class
 * loaders (so it links to that loader's Undertow) and talks to it through JDK types only: the cases
 * as {@code List<String[]>}, the server as {@link IntSupplier} (its port) and {@link
 * AutoCloseable}. No Date field ({@code ALWAYS_SET_DATE} off), so the two servers' bytes can be
 * compared as they are; no pipelining buffer, as in hoptrace.
 */
public final class HeadServer implements IntSupplier, AutoCloseable {
  private final Undertow undertow;
  private final int port;

  private HeadServer(Undertow undertow) {
    this.undertow = undertow;
    this.port = ((InetSocketAddress) undertow.getListenerInfo().get(0).getAddress()).getPort();
  }

  /** Starts a server on 127.0.0.1 with I/O buffers of {@code bufferSize} bytes (direct). */
  public static HeadServer start(int bufferSize, List<String[]> cases) {
    Undertow undertow =
        Undertow.builder()
            .addHttpListener(0, "127.0.0.1")
            .setIoThreads(1)
            .setWorkerThreads(1)
            .setBufferSize(bufferSize)
            .setDirectBuffers(true)
            .setServerOption(UndertowOptions.ALWAYS_SET_DATE, false)
            // as hoptrace's listeners (ListenerLimits): the conduit writes to the socket itself
            .setServerOption(UndertowOptions.BUFFER_PIPELINED_DATA, false)
            .setHandler(exchange -> answer(exchange, cases))
            .build();
    undertow.start();
    return new HeadServer(undertow);
  }

  private static void answer(HttpServerExchange exchange, List<String[]> cases) {
    String[] c = cases.get(Integer.parseInt(exchange.getRelativePath().substring(1)));
    exchange.setStatusCode(Integer.parseInt(c[0]));
    if (c[1] != null) {
      exchange.setReasonPhrase(c[1]);
    }
    HeaderMap headers = exchange.getResponseHeaders();
    for (int i = 4; i < c.length; i += 2) {
      headers.add(new HttpString(c[i]), c[i + 1]);
    }
    byte[] body = c[3].getBytes(StandardCharsets.UTF_8);
    switch (c[2]) {
      case "none" -> exchange.endExchange();
      case "string" -> exchange.getResponseSender().send(c[3]);
      case "buffers" ->
          exchange
              .getResponseSender()
              .send(
                  new ByteBuffer[] {
                    ByteBuffer.wrap(body, 0, body.length / 2),
                    ByteBuffer.wrap(body, body.length / 2, body.length - body.length / 2)
                  });
      default -> throw new IllegalArgumentException("body mode: " + c[2]);
    }
  }

  @Override
  public int getAsInt() {
    return port;
  }

  @Override
  public void close() {
    undertow.stop();
  }
}
