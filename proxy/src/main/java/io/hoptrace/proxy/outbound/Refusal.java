package io.hoptrace.proxy.outbound;

import io.hoptrace.proxy.guard.RefusalType;
import io.hoptrace.proxy.guard.Refusals;

/**
 * Why the outbound hop refused a request. Each reason has its own counter ({@code
 * hoptrace.outbound.refused.<reason>}) and is answered like every refusal ({@link Refusals}: the
 * status with {@code Proxy-Status}, the connection closed, one CLIENT span line with {@code error}
 * = {@code refused: <reason>: <detail>} and {@code hoptrace.link} = {@code root}, nothing
 * forwarded). The body also says what hoptrace objected to, since the peer is the app and whoever
 * debugs it needs to see.
 */
public enum Refusal implements RefusalType {
  /** The source address is outside {@code outbound.allowed-sources}. */
  SOURCE(403, "http_request_denied", "source address not allowed"),
  /** The target is one of hoptrace's own listeners: forwarding would loop. */
  LOOP(403, "proxy_loop_detected", "target is this hoptrace's own port"),
  /** A CONNECT to a port outside {@code outbound.connect-ports}. */
  CONNECT_PORT(403, "http_request_denied", "CONNECT port not allowed"),
  /** Origin-form ({@code GET /path}) on the forward-proxy port: the target is unknown. */
  ORIGIN_FORM(
      400,
      "http_request_error",
      "forward proxy needs an absolute-form request target (http://host:port/path)"),
  /** A request target that is not a valid {@code http://} URL or CONNECT authority. */
  BAD_TARGET(400, "http_request_error", "request target is not a valid http:// URL or host:port");

  private final int status;
  private final String proxyStatusError;
  private final String description;

  Refusal(int status, String proxyStatusError, String description) {
    this.status = status;
    this.proxyStatusError = proxyStatusError;
    this.description = description;
  }

  @Override
  public int status() {
    return status;
  }

  @Override
  public String proxyStatusError() {
    return proxyStatusError;
  }

  /** The counter's name. */
  @Override
  public String metricName() {
    return "hoptrace.outbound.refused." + tagValue();
  }

  @Override
  public String description() {
    return description;
  }

  @Override
  public boolean detailInBody() {
    return true;
  }
}
