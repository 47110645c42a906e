package io.hoptrace.proxy.outbound;

import static java.util.Objects.requireNonNull;

import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.span.Span;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.SameThreadExecutor;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.xnio.IoFuture;
import org.xnio.OptionMap;
import org.xnio.StreamConnection;
import org.xnio.XnioExecutor;
import org.xnio.XnioIoThread;

/**
 * The last CONNECT stage: opens the callee connection, answers 200, and relays bytes until both
 * ends are done. No header can be injected into a tunnel (its bytes are TLS), so the callee sees no
 * trace context; the tunnel still gets a CLIENT span, linked like any call, written when it closes,
 * with the bytes each way ({@code hoptrace.bytes_sent} app to callee, {@code
 * hoptrace.bytes_received} back).
 *
 * <p>Connect failure answers 502, connect timeout 504, like a forwarded request.
 */
final class TunnelHandler implements HttpHandler {
  private final String serviceName;
  private final Consumer<Span> spans;
  private final long connectTimeoutMillis;
  private final long idleTimeoutMillis;
  private final ProxyMetrics metrics;

  TunnelHandler(
      String serviceName,
      Consumer<Span> spans,
      long connectTimeoutMillis,
      long idleTimeoutMillis,
      ProxyMetrics metrics) {
    this.metrics = requireNonNull(metrics, "metrics");
    this.serviceName = requireNonNull(serviceName, "serviceName");
    this.spans = requireNonNull(spans, "spans");
    this.connectTimeoutMillis = connectTimeoutMillis;
    this.idleTimeoutMillis = idleTimeoutMillis;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) {
    OutboundTarget target = requireNonNull(exchange.getAttachment(OutboundAttachments.TARGET));
    ClientHop hop = requireNonNull(exchange.getAttachment(OutboundAttachments.HOP));
    InetAddress address = exchange.getAttachment(OutboundAttachments.TARGET_ADDRESS);
    if (address == null) {
      fail(exchange, hop, 502, "unknown host: " + target.host());
      return;
    }
    exchange.dispatch(
        SameThreadExecutor.INSTANCE,
        () -> open(exchange, hop, new InetSocketAddress(address, target.port())));
  }

  private void open(HttpServerExchange exchange, ClientHop hop, InetSocketAddress callee) {
    // The app's I/O thread: both ends of the tunnel on one thread, so the relay needs no lock.
    XnioIoThread ioThread = exchange.getIoThread();
    IoFuture<StreamConnection> future =
        ioThread.openStreamConnection(callee, null, OptionMap.EMPTY);
    XnioExecutor.Key timeout =
        ioThread.executeAfter(future::cancel, connectTimeoutMillis, TimeUnit.MILLISECONDS);
    future.addNotifier(
        new IoFuture.HandlingNotifier<StreamConnection, @Nullable Void>() {
          @Override
          public void handleDone(StreamConnection connection, @Nullable Void unused) {
            timeout.remove();
            accept(exchange, hop, connection, callee);
          }

          @Override
          public void handleFailed(IOException e, @Nullable Void unused) {
            timeout.remove();
            fail(exchange, hop, 502, "connect " + callee + ": " + e);
          }

          @Override
          public void handleCancelled(@Nullable Void unused) {
            fail(
                exchange,
                hop,
                504,
                "connect " + callee + ": timed out after " + connectTimeoutMillis + "ms");
          }
        },
        null);
  }

  private void accept(
      HttpServerExchange exchange,
      ClientHop hop,
      StreamConnection calleeConnection,
      InetSocketAddress callee) {
    metrics.requestStarted(ProxyMetrics.Hop.OUTBOUND); // a tunnel counts while it is open
    exchange.acceptConnectRequest(
        (appConnection, ex) ->
            new Tunnel(
                    appConnection,
                    calleeConnection,
                    idleTimeoutMillis,
                    (sent, received, error) -> {
                      metrics.requestEnded(ProxyMetrics.Hop.OUTBOUND);
                      metrics.requestDone(
                          ProxyMetrics.Hop.OUTBOUND, System.nanoTime() - hop.startNanos);
                      Span.Builder b =
                          hop.spanBuilder(serviceName, callee.getAddress().getHostAddress())
                              .tag("http.status_code", "200")
                              .tag("hoptrace.bytes_sent", Long.toString(sent))
                              .tag("hoptrace.bytes_received", Long.toString(received));
                      if (error != null) b.tag("error", error);
                      spans.accept(ClientHop.attribution(b, hop).build());
                    })
                .start());
    exchange.setStatusCode(200);
    exchange.endExchange();
  }

  private void fail(HttpServerExchange exchange, ClientHop hop, int status, String error) {
    InetAddress address = exchange.getAttachment(OutboundAttachments.TARGET_ADDRESS);
    Span.Builder b =
        hop.spanBuilder(serviceName, address == null ? null : address.getHostAddress())
            .tag("http.status_code", Integer.toString(status))
            .tag("error", error);
    spans.accept(ClientHop.attribution(b, hop).build());
    exchange.setStatusCode(status);
    exchange.setPersistent(false);
    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
    exchange.getResponseSender().send("hoptrace: " + error + "\n");
  }
}
