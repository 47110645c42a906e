package io.hoptrace.proxy.admin;

import io.hoptrace.config.HostPort;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.Methods;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.function.BooleanSupplier;

/**
 * {@code /healthz}: the process answers. {@code /readyz}: the listeners are bound, hoptrace is not
 * draining, and the app accepts a TCP connection. {@code /metrics}: Prometheus text.
 */
public final class AdminHandler implements HttpHandler {
  private static final int APP_CONNECT_TIMEOUT_MILLIS = 1000;

  private final ProxyMetrics metrics;
  private final HostPort app;
  private final BooleanSupplier serving;

  /**
   * @param serving true once every listener is bound and until shutdown begins
   */
  public AdminHandler(ProxyMetrics metrics, HostPort app, BooleanSupplier serving) {
    this.metrics = metrics;
    this.app = app;
    this.serving = serving;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    if (!exchange.getRequestMethod().equals(Methods.GET)
        && !exchange.getRequestMethod().equals(Methods.HEAD)) {
      send(exchange, 405, "text/plain", "method not allowed\n");
      return;
    }
    switch (exchange.getRelativePath()) {
      case "/healthz" -> send(exchange, 200, "text/plain", "ok\n");
      case "/readyz" -> dispatched(exchange, this::readyz);
      case "/metrics" -> dispatched(exchange, this::metrics);
      default -> send(exchange, 404, "text/plain", "not found\n");
    }
  }

  /** Runs blocking work (a TCP connect, a scrape) on a worker thread, not the IO thread. */
  private static void dispatched(HttpServerExchange exchange, HttpHandler handler)
      throws Exception {
    if (exchange.isInIoThread()) {
      exchange.dispatch(handler);
    } else {
      handler.handleRequest(exchange);
    }
  }

  private void readyz(HttpServerExchange exchange) {
    if (!serving.getAsBoolean()) {
      send(exchange, 503, "text/plain", "not ready: not serving\n");
      return;
    }
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(app.host(), app.port()), APP_CONNECT_TIMEOUT_MILLIS);
    } catch (IOException e) {
      send(exchange, 503, "text/plain", "not ready: app " + app + ": " + e.getMessage() + "\n");
      return;
    }
    send(exchange, 200, "text/plain", "ready\n");
  }

  private void metrics(HttpServerExchange exchange) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
    metrics.writePrometheusText(out);
    exchange.setStatusCode(200);
    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, ProxyMetrics.prometheusContentType());
    exchange.getResponseSender().send(ByteBuffer.wrap(out.toByteArray()));
  }

  private static void send(HttpServerExchange exchange, int status, String type, String body) {
    exchange.setStatusCode(status);
    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, type);
    exchange.getResponseSender().send(body);
  }
}
