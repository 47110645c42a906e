package io.hoptrace.proxy;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import java.util.zip.GZIPOutputStream;

/**
 * A real app for tests (JDK HttpServer on 127.0.0.1, ephemeral port). Records what it received.
 *
 * <ul>
 *   <li>{@code /echo}: answers the request body back
 *   <li>{@code /sink}: reads the body, answers {@code <bytes> <crc32>}
 *   <li>{@code /source?bytes=N}: streams N pattern bytes, chunked
 *   <li>{@code /sleep?ms=N}: waits, then answers {@code slept}
 *   <li>{@code /status?code=N}: answers status N with no body
 * </ul>
 */
final class TestUpstream implements AutoCloseable {
  /** What the app saw of one request. */
  record Received(String method, String uri, Map<String, List<String>> headers, int remotePort) {
    String header(String name) {
      for (Map.Entry<String, List<String>> e : headers.entrySet()) {
        if (e.getKey().equalsIgnoreCase(name)) return String.join(",", e.getValue());
      }
      return null;
    }
  }

  final HttpServer server;
  final ExecutorService executor = Executors.newCachedThreadPool();
  final LinkedBlockingQueue<Received> received = new LinkedBlockingQueue<>();

  TestUpstream() throws IOException {
    server =
        HttpServer.create(new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 64);
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  /** The next request the app received (waits up to 5 s). */
  Received take() throws InterruptedException {
    Received r = received.poll(5, TimeUnit.SECONDS);
    if (r == null) throw new AssertionError("the app received no request");
    return r;
  }

  private void handle(HttpExchange exchange) throws IOException {
    Headers headers = exchange.getRequestHeaders();
    Map<String, List<String>> copy = new LinkedHashMap<>();
    headers.forEach((k, v) -> copy.put(k, List.copyOf(v)));
    received.add(
        new Received(
            exchange.getRequestMethod(),
            exchange.getRequestURI().toString(),
            copy,
            exchange.getRemoteAddress().getPort()));
    String path = exchange.getRequestURI().getPath();
    String query = exchange.getRequestURI().getRawQuery();
    try (exchange) {
      switch (path) {
        case "/sink" -> {
          CRC32 crc = new CRC32();
          long n = 0;
          byte[] buf = new byte[64 * 1024];
          try (InputStream in = exchange.getRequestBody()) {
            for (int r; (r = in.read(buf)) > 0; ) {
              crc.update(buf, 0, r);
              n += r;
            }
          }
          respond(exchange, 200, (n + " " + crc.getValue()).getBytes(StandardCharsets.US_ASCII));
        }
        case "/source" -> {
          long bytes = Long.parseLong(param(query, "bytes"));
          exchange.sendResponseHeaders(200, 0); // chunked
          try (OutputStream out = exchange.getResponseBody()) {
            byte[] block = Patterns.block();
            for (long sent = 0; sent < bytes; ) {
              int len = (int) Math.min(block.length, bytes - sent);
              out.write(block, 0, len);
              sent += len;
            }
          }
        }
        case "/sleep" -> {
          try {
            Thread.sleep(Long.parseLong(param(query, "ms")));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          respond(exchange, 200, "slept".getBytes(StandardCharsets.US_ASCII));
        }
        case "/gzip" -> {
          // Always gzip, whatever the request asked: the proxy must relay the encoded bytes as is.
          exchange.getResponseHeaders().add("Content-Encoding", "gzip");
          respond(exchange, 200, gzip(GZIP_TEXT));
        }
        case "/bighead" -> {
          // A response head of about `bytes` bytes: one header of that many characters.
          exchange
              .getResponseHeaders()
              .add("X-Big", "h".repeat(Integer.parseInt(param(query, "bytes"))));
          respond(exchange, 200, "big head".getBytes(StandardCharsets.US_ASCII));
        }
        case "/status" -> {
          exchange.sendResponseHeaders(Integer.parseInt(param(query, "code")), -1);
        }
        default -> {
          byte[] body = exchange.getRequestBody().readAllBytes();
          exchange.getResponseHeaders().add("X-App", "echo");
          respond(exchange, 200, body);
        }
      }
    }
  }

  static final String GZIP_TEXT = "compressed by the app, ".repeat(200);

  static byte[] gzip(String text) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
    return bytes.toByteArray();
  }

  private static void respond(HttpExchange exchange, int status, byte[] body) throws IOException {
    boolean head = exchange.getRequestMethod().equals("HEAD");
    exchange.sendResponseHeaders(status, body.length == 0 || head ? -1 : body.length);
    if (!head && body.length > 0) exchange.getResponseBody().write(body);
  }

  private static String param(String query, String name) {
    for (String pair : query.split("&", -1)) {
      if (pair.startsWith(name + "=")) return pair.substring(name.length() + 1);
    }
    throw new IllegalArgumentException("missing " + name);
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
