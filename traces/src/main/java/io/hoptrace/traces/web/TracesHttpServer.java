package io.hoptrace.traces.web;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** Serves a {@link TracesWebHandler} with the JDK's HTTP server ({@code traces --serve PORT}). */
public final class TracesHttpServer implements AutoCloseable {
  private final HttpServer server;
  private final ExecutorService executor;

  private TracesHttpServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /** Starts serving on {@code address} (port 0: an ephemeral port, see {@link #port()}). */
  public static TracesHttpServer start(InetSocketAddress address, TracesWebHandler handler)
      throws IOException {
    HttpServer server = HttpServer.create(address, 16);
    server.createContext("/", exchange -> serve(exchange, handler));
    // Two threads: the page is for one person; a slow client must not stall the other requests.
    ExecutorService executor =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "hoptrace-traces-http");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.start();
    return new TracesHttpServer(server, executor);
  }

  public int port() {
    return server.getAddress().getPort();
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  private static void serve(HttpExchange exchange, TracesWebHandler handler) throws IOException {
    try (exchange) {
      TracesWebHandler.Response r;
      try {
        r =
            handler.handle(
                exchange.getRequestMethod(),
                exchange.getRequestURI().getRawPath(),
                exchange.getRequestURI().getRawQuery());
      } catch (RuntimeException e) {
        r = TracesWebHandler.Response.json(500, "{\"error\":\"internal error\"}");
      }
      exchange.getResponseHeaders().set("Content-Type", r.contentType());
      exchange.getResponseHeaders().set("Cache-Control", "no-store");
      exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
      boolean head = exchange.getRequestMethod().equals("HEAD");
      exchange.sendResponseHeaders(r.status(), head ? -1 : r.body().length);
      if (!head) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(r.body());
        }
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
