package io.hoptrace.proxy.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A real callee on 127.0.0.1: answers every request with {@code method uri} and the body it read,
 * and records each request's headers (lowercase names) for the test to inspect.
 */
public final class EchoServer implements AutoCloseable {
  /** What one request carried. */
  public record Received(String method, String uri, Map<String, String> headers, String body) {
    public String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  private final HttpServer server;
  private final List<Received> received = new CopyOnWriteArrayList<>();

  public EchoServer() throws IOException {
    this(true);
  }

  /** With {@code record} false nothing is kept per request (soak tests: no test-side growth). */
  public EchoServer(boolean record) throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    server.createContext(
        "/",
        exchange -> {
          String body =
              new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          Map<String, String> headers = new TreeMap<>();
          exchange
              .getRequestHeaders()
              .forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), String.join(",", v)));
          String uri = exchange.getRequestURI().toString();
          if (record) received.add(new Received(exchange.getRequestMethod(), uri, headers, body));
          byte[] out =
              (exchange.getRequestMethod() + " " + uri + "\n" + body)
                  .getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, out.length);
          exchange.getResponseBody().write(out);
          exchange.close();
        });
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  public List<Received> received() {
    return received;
  }

  public Received last() {
    return received.get(received.size() - 1);
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
