package io.hoptrace.proxy.outbound;

import static java.util.Objects.requireNonNull;

import io.hoptrace.proxy.guard.Refusals;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.Methods;

/**
 * Stage 2 on the forward-proxy port: the target comes from the request itself, an absolute-form
 * {@code http://host:port/path} (what clients honouring {@code HTTP_PROXY} send) or, for CONNECT,
 * the authority {@code host:port}. Origin-form names no target: 400.
 */
final class AbsoluteFormHandler implements HttpHandler {
  private static final String HTTP = "http://";

  private final Refusals refusals;
  private final HttpHandler next;

  AbsoluteFormHandler(Refusals refusals, HttpHandler next) {
    this.refusals = requireNonNull(refusals, "refusals");
    this.next = next;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    String uri = exchange.getRequestURI();
    OutboundTarget target;
    if (exchange.getRequestMethod().equals(Methods.CONNECT)) {
      target = OutboundTarget.parseAuthority(uri, 0);
    } else if (!exchange.isHostIncludedInRequestURI()) {
      refusals.refuse(exchange, Refusal.ORIGIN_FORM, uri);
      return;
    } else if (!uri.regionMatches(true, 0, HTTP, 0, HTTP.length())) {
      refusals.refuse(
          exchange, Refusal.BAD_TARGET, "only http:// is forwarded; use CONNECT for TLS");
      return;
    } else {
      int slash = uri.indexOf('/', HTTP.length());
      String authority = uri.substring(HTTP.length(), slash < 0 ? uri.length() : slash);
      // userinfo in a proxy request target is a credential leak waiting to happen: refuse it
      target = authority.indexOf('@') >= 0 ? null : OutboundTarget.parseAuthority(authority, 80);
    }
    if (target == null) {
      refusals.refuse(exchange, Refusal.BAD_TARGET, uri);
      return;
    }
    exchange.putAttachment(OutboundAttachments.TARGET, target);
    if (!exchange.getRequestMethod().equals(Methods.CONNECT)) {
      // From here on the exchange reads as origin-form, as the callee will receive it, so the
      // shared upstream code forwards it like any other request.
      int slash = uri.indexOf('/', HTTP.length());
      exchange.setRequestURI(slash < 0 ? "/" : uri.substring(slash), false);
      // RFC 9112 §3.2.2: a proxy replaces Host with the request target's authority.
      exchange
          .getRequestHeaders()
          .put(Headers.HOST, target.port() == 80 ? hostText(target) : target.authority());
    }
    next.handleRequest(exchange);
  }

  private static String hostText(OutboundTarget target) {
    return target.host().indexOf(':') >= 0 ? "[" + target.host() + "]" : target.host();
  }
}
