package io.hoptrace.proxy.outbound;

import static java.util.Objects.requireNonNull;

import io.hoptrace.propagation.Injector;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.proxy.spanlog.SpanSink;
import io.hoptrace.proxy.upstream.Carriers;
import io.hoptrace.proxy.upstream.ForwardHooks;
import io.hoptrace.proxy.upstream.Forwarder;
import io.hoptrace.proxy.upstream.UpstreamFailure;
import io.hoptrace.span.Span;
import io.undertow.server.ExchangeCompletionListener;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import java.net.InetAddress;

/**
 * Stages 5 and 6: injects the CLIENT span's context into the proxyToServerRequest, replacing
 * whatever stale context the app sent, and forwards with the {@link Forwarder} the inbound hop uses
 * (streaming, hop-by-hop removal, 502/504). The CLIENT span is written when the exchange completes.
 */
final class ForwardHandler implements HttpHandler, ForwardHooks {
  private final Forwarder forwarder;
  private final Injector injector;
  private final String serviceName;
  private final SpanSink spans;
  private final ProxyMetrics metrics;
  private final SpanNames names = new SpanNames();
  private final ExchangeCompletionListener completed = this::completed;

  ForwardHandler(
      Forwarder forwarder,
      Injector injector,
      String serviceName,
      SpanSink spans,
      ProxyMetrics metrics) {
    this.metrics = requireNonNull(metrics, "metrics");
    this.forwarder = requireNonNull(forwarder, "forwarder");
    this.injector = requireNonNull(injector, "injector");
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
    requireNonNull(exchange.getAttachment(OutboundAttachments.HOP));
    metrics.requestStarted(ProxyMetrics.Hop.OUTBOUND);
    exchange.addExchangeCompleteListener(completed);
    forwarder.forward(exchange, target.hostPort(), this);
  }

  /** One listener for every exchange (it finds the hop on the exchange), not one made per call. */
  private void completed(HttpServerExchange ex, ExchangeCompletionListener.NextListener next) {
    try {
      ClientHop hop = requireNonNull(ex.getAttachment(OutboundAttachments.HOP));
      metrics.requestEnded(ProxyMetrics.Hop.OUTBOUND);
      long endNanos = System.nanoTime();
      metrics.requestDone(ProxyMetrics.Hop.OUTBOUND, endNanos - hop.startNanos);
      UpstreamFailure failure = ex.getAttachment(UpstreamFailure.KEY);
      if (failure != null) metrics.upstreamError(failure.kind());
      spans.acceptBuilder(span(ex, hop.refined(), endNanos));
    } finally {
      next.proceed();
    }
  }

  @Override
  public void proxyToServerHeaders(HttpServerExchange exchange, HeaderMap headers) {
    ClientHop hop = requireNonNull(exchange.getAttachment(OutboundAttachments.HOP));
    injector.inject(hop.context, headers, Carriers.UNDERTOW_SETTER);
  }

  @Override
  public void proxyToClientHeaders(HttpServerExchange exchange, HeaderMap headers) {
    ClientHop hop = exchange.getAttachment(OutboundAttachments.HOP);
    if (hop != null) hop.responded();
  }

  /** The CLIENT span, in this thread's builder: the sink encodes it before the next one. */
  private Span.Builder span(HttpServerExchange exchange, ClientHop hop, long endNanos) {
    InetAddress address = exchange.getAttachment(OutboundAttachments.TARGET_ADDRESS);
    return hop.endedSpan(
        serviceName,
        address == null ? null : hop.target.addressText(address),
        endNanos,
        names.of(hop.method, hop.path),
        exchange.getStatusCode(),
        exchange.getAttachment(UpstreamFailure.KEY));
  }
}
