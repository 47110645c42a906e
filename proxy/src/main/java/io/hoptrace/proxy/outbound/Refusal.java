package io.hoptrace.proxy.outbound;

import com.codahale.metrics.Counter;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.util.Locale;

/**
 * Why the outbound hop refused a request. Each reason has its own counter ({@code
 * hoptrace.outbound.refused.<reason>}) and answers with its status and a one-line reason in the
 * body, so that whoever debugs the app sees what hoptrace objected to.
 */
public enum Refusal {
  /** The source address is outside {@code outbound.allowed-sources}. */
  SOURCE(403, "source address not allowed"),
  /** The target is one of hoptrace's own listeners: forwarding would loop. */
  LOOP(403, "target is this hoptrace's own port"),
  /** A CONNECT to a port outside {@code outbound.connect-ports}. */
  CONNECT_PORT(403, "CONNECT port not allowed"),
  /** Origin-form ({@code GET /path}) on the forward-proxy port: the target is unknown. */
  ORIGIN_FORM(400, "forward proxy needs an absolute-form request target (http://host:port/path)"),
  /** A request target that is not a valid {@code http://} URL or CONNECT authority. */
  BAD_TARGET(400, "request target is not a valid http:// URL or host:port");

  final int status;
  final String reason;

  Refusal(int status, String reason) {
    this.status = status;
    this.reason = reason;
  }

  /** The counter's name. */
  public String metricName() {
    return "hoptrace.outbound.refused." + name().toLowerCase(Locale.ROOT);
  }

  /** Counts the refusal and answers it; the connection is closed after the answer. */
  void answer(HttpServerExchange exchange, ProxyMetrics metrics, String detail) {
    Counter counter = metrics.counter(metricName());
    counter.inc();
    exchange.setStatusCode(status);
    exchange.setPersistent(false);
    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
    exchange
        .getResponseSender()
        .send("hoptrace: " + reason + (detail.isEmpty() ? "" : ": " + detail) + "\n");
  }
}
