package io.hoptrace.proxy.outbound;

import static java.util.Objects.requireNonNull;

import io.hoptrace.config.HostPort;
import io.hoptrace.context.TraceContext;
import io.hoptrace.proxy.upstream.Carriers;
import io.hoptrace.proxy.upstream.ForwardHooks;
import io.hoptrace.proxy.upstream.UpstreamFailure;
import io.hoptrace.proxy.upstream.UpstreamForwarder;
import io.hoptrace.span.Span;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import java.net.InetAddress;
import java.util.function.Consumer;
import org.eclipse.jetty.http.HttpFields;

/**
 * Stages 5 and 6: injects the CLIENT span's context into the proxyToServerRequest, replacing
 * whatever stale context the app sent, and forwards with the {@link UpstreamForwarder} the inbound
 * hop uses (streaming, hop-by-hop removal, 502/504). The CLIENT span is written when the exchange
 * completes.
 */
final class ForwardHandler implements HttpHandler, ForwardHooks {
  private final UpstreamForwarder forwarder;
  private final String serviceName;
  private final Consumer<Span> spans;

  ForwardHandler(UpstreamForwarder forwarder, String serviceName, Consumer<Span> spans) {
    this.forwarder = requireNonNull(forwarder, "forwarder");
    this.serviceName = requireNonNull(serviceName, "serviceName");
    this.spans = requireNonNull(spans, "spans");
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) {
    if (!exchange.isInIoThread()) {
      // The forwarder touches the exchange on its I/O thread only.
      exchange.dispatch(exchange.getIoThread(), this);
      return;
    }
    OutboundTarget target = requireNonNull(exchange.getAttachment(OutboundAttachments.TARGET));
    ClientHop hop = requireNonNull(exchange.getAttachment(OutboundAttachments.HOP));
    exchange.addExchangeCompleteListener(
        (ex, nextListener) -> {
          try {
            spans.accept(span(ex, hop));
          } finally {
            nextListener.proceed();
          }
        });
    forwarder.forward(exchange, new HostPort(target.host(), target.port()), this);
  }

  @Override
  public void proxyToServerHeaders(HttpServerExchange exchange, HttpFields.Mutable headers) {
    ClientHop hop = requireNonNull(exchange.getAttachment(OutboundAttachments.HOP));
    // Interim until the codecs' Injector lands: the W3C pair and the request id only.
    TraceContext c = hop.context;
    headers.remove("tracestate");
    Carriers.JETTY_SETTER.set(
        headers,
        "traceparent",
        "00-" + c.traceIdString() + "-" + c.spanIdString() + "-" + (c.sampled() ? "01" : "00"));
    if (c.tracestate() != null) Carriers.JETTY_SETTER.set(headers, "tracestate", c.tracestate());
    if (c.requestId() != null) Carriers.JETTY_SETTER.set(headers, "X-Request-Id", c.requestId());
  }

  @Override
  public void proxyToClientHeaders(HttpServerExchange exchange, HeaderMap headers) {}

  private Span span(HttpServerExchange exchange, ClientHop hop) {
    InetAddress address = exchange.getAttachment(OutboundAttachments.TARGET_ADDRESS);
    Span.Builder b =
        hop.spanBuilder(serviceName, address == null ? null : address.getHostAddress())
            .tag("http.status_code", Integer.toString(exchange.getStatusCode()));
    UpstreamFailure failure = exchange.getAttachment(UpstreamFailure.KEY);
    if (failure != null) {
      b.tag("error", failure.errorTag());
    } else if (exchange.getStatusCode() >= 500) {
      b.tag("error", Integer.toString(exchange.getStatusCode()));
    }
    return ClientHop.attribution(b, hop).build();
  }
}
