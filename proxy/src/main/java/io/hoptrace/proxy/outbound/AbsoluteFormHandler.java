package io.hoptrace.proxy.outbound;

import static java.util.Objects.requireNonNull;

import io.hoptrace.proxy.guard.Refusals;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.Methods;
import org.jspecify.annotations.Nullable;

/**
 * Stage 2 on the forward-proxy port: the target comes from the request itself, an absolute-form
 * {@code http://host:port/path} (what clients honouring {@code HTTP_PROXY} send) or, for CONNECT,
 * the authority {@code host:port}. Origin-form names no target: 400.
 */
final class AbsoluteFormHandler implements HttpHandler {
  private static final String HTTP = "http://";

  private static final int SLOTS = 64; // a power of two

  /** An absolute-form authority seen before: its target and the Host header it gives. */
  private record Known(String authority, OutboundTarget target, String host) {}

  private final Refusals refusals;
  private final HttpHandler next;

  /**
   * Targets by authority text, so that an app calling the same few callees does not parse and
   * rebuild them on every request (bench/README.md, "Allocation per request (s14)"): direct-mapped,
   * a collision only parses again; a target is a pure function of its authority text, so a hit is
   * always right. Thread-safe: slots hold immutable entries.
   */
  private final Known[] known = new Known[SLOTS];

  AbsoluteFormHandler(Refusals refusals, HttpHandler next) {
    this.refusals = requireNonNull(refusals, "refusals");
    this.next = next;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    String uri = exchange.getRequestURI();
    if (exchange.getRequestMethod().equals(Methods.CONNECT)) {
      OutboundTarget target = OutboundTarget.parseAuthority(uri, 0);
      if (target == null) {
        refusals.refuse(exchange, Refusal.BAD_TARGET, uri);
        return;
      }
      exchange.putAttachment(OutboundAttachments.TARGET, target);
      next.handleRequest(exchange);
      return;
    }
    if (!exchange.isHostIncludedInRequestURI()) {
      refusals.refuse(exchange, Refusal.ORIGIN_FORM, uri);
      return;
    }
    if (!uri.regionMatches(true, 0, HTTP, 0, HTTP.length())) {
      refusals.refuse(
          exchange, Refusal.BAD_TARGET, "only http:// is forwarded; use CONNECT for TLS");
      return;
    }
    int begin = HTTP.length();
    int slash = uri.indexOf('/', begin);
    Known k = known(uri, begin, slash < 0 ? uri.length() : slash);
    if (k == null) {
      refusals.refuse(exchange, Refusal.BAD_TARGET, uri);
      return;
    }
    exchange.putAttachment(OutboundAttachments.TARGET, k.target);
    // From here on the exchange reads as origin-form, as the callee will receive it, so the
    // shared upstream code forwards it like any other request.
    exchange.setRequestURI(slash < 0 ? "/" : uri.substring(slash), false);
    // RFC 9112 §3.2.2: a proxy replaces Host with the request target's authority.
    exchange.getRequestHeaders().put(Headers.HOST, k.host);
    next.handleRequest(exchange);
  }

  /** The target of {@code uri[begin, end)}, an absolute-form authority, or null when refused. */
  private @Nullable Known known(String uri, int begin, int end) {
    int length = end - begin;
    int hash = 0;
    for (int i = begin; i < end; i++) hash = 31 * hash + uri.charAt(i);
    int slot = (hash ^ (hash >>> 16)) & (SLOTS - 1);
    Known k = known[slot];
    if (k != null
        && k.authority.length() == length
        && uri.regionMatches(begin, k.authority, 0, length)) {
      return k;
    }
    String authority = uri.substring(begin, end);
    // userinfo in a proxy request target is a credential leak waiting to happen: refuse it
    OutboundTarget target =
        authority.indexOf('@') >= 0 ? null : OutboundTarget.parseAuthority(authority, 80);
    if (target == null) return null;
    k = new Known(authority, target, target.hostHeader());
    known[slot] = k;
    return k;
  }
}
