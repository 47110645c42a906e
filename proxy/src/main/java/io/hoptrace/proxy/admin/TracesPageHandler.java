package io.hoptrace.proxy.admin;

import static java.util.Objects.requireNonNull;

import io.hoptrace.traces.web.TracesWebHandler;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.Methods;
import java.nio.ByteBuffer;

/**
 * Serves a {@link TracesWebHandler} (the waterfall page and its JSON) under a prefix of the admin
 * listener. The page calls its API by relative paths, so it must be loaded from a URL ending in
 * {@code /}: the bare prefix redirects there. Assembling traces is CPU work, done on a worker
 * thread.
 */
public final class TracesPageHandler implements HttpHandler {
  private final TracesWebHandler page;

  public TracesPageHandler(TracesWebHandler page) {
    this.page = requireNonNull(page, "page");
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) {
    if (exchange.isInIoThread()) {
      exchange.dispatch(this);
      return;
    }
    String path = exchange.getRelativePath();
    String query = exchange.getQueryString();
    if (path.isEmpty()) {
      // /traces -> /traces/ so that the page's relative "api/traces" resolves under the prefix.
      exchange.setStatusCode(302);
      exchange
          .getResponseHeaders()
          .put(
              Headers.LOCATION,
              exchange.getRequestPath() + "/" + (query.isEmpty() ? "" : "?" + query));
      exchange.endExchange();
      return;
    }
    TracesWebHandler.Response response;
    try {
      response =
          page.handle(exchange.getRequestMethod().toString(), path, query.isEmpty() ? null : query);
    } catch (RuntimeException e) {
      exchange.setStatusCode(500);
      exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json; charset=utf-8");
      exchange.getResponseSender().send("{\"error\":\"internal error\"}");
      return;
    }
    exchange.setStatusCode(response.status());
    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, response.contentType());
    exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
    exchange.getResponseHeaders().put(Headers.X_CONTENT_TYPE_OPTIONS, "nosniff");
    byte[] body = response.body();
    if (exchange.getRequestMethod().equals(Methods.HEAD)) {
      exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, body.length);
      exchange.endExchange();
    } else {
      exchange.getResponseSender().send(ByteBuffer.wrap(body));
    }
  }
}
