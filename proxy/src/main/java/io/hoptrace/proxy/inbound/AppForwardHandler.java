package io.hoptrace.proxy.inbound;

import io.hoptrace.config.HostPort;
import io.hoptrace.config.Settings;
import io.hoptrace.context.TraceContext;
import io.hoptrace.correlation.InboundRegistry;
import io.hoptrace.correlation.InboundRequest;
import io.hoptrace.propagation.Injector;
import io.hoptrace.propagation.w3c.TraceresponseCodec;
import io.hoptrace.proxy.procfs.ProcessEvidence;
import io.hoptrace.proxy.procfs.SocketKey;
import io.hoptrace.proxy.upstream.Carriers;
import io.hoptrace.proxy.upstream.ForwardHooks;
import io.hoptrace.proxy.upstream.Forwarder;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import java.net.SocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * Stage 4: forwards to the app, handing it a {@code traceparent} that names this hop's SERVER span
 * (and the request id), and answers the caller with {@code traceresponse} when enabled.
 */
final class AppForwardHandler implements HttpHandler, ForwardHooks {
  private final Forwarder forwarder;
  private final HostPort app;
  private final String requestIdHeader;
  private final Injector injector;
  private final InboundRegistry registry;
  private final boolean traceresponse;
  private final boolean respondRequestId;
  private final boolean bindConnections;
  private final ConnectionKeys connectionKeys = new ConnectionKeys();

  AppForwardHandler(
      Settings settings, Forwarder forwarder, Injector injector, InboundRegistry registry) {
    this.forwarder = forwarder;
    this.injector = injector;
    this.registry = registry;
    this.app = settings.app();
    this.requestIdHeader = settings.propagation().requestIdHeader();
    this.traceresponse = settings.response().traceresponse();
    this.respondRequestId = settings.response().requestId();
    this.bindConnections = settings.procfs().enabled();
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) {
    forwarder.forward(exchange, app, this);
  }

  @Override
  public void proxyToServerHeaders(HttpServerExchange exchange, HeaderMap headers) {
    InboundExchange state = exchange.getAttachment(InboundExchange.KEY);
    TraceContext server = state.server;
    // Replaces every trace header the caller sent: nothing invalid or stale reaches the app.
    if (server != null)
      state.traceparent = injector.inject(server, headers, Carriers.UNDERTOW_SETTER);
    // In flight at the app from now, just before the request is sent: marked on commit (after the
    // send) a fast app's outbound call could be correlated before the mark, and a sole call
    // become a root. The app cannot call out on this request's behalf before it has it.
    InboundRequest registered = state.registered;
    if (registered != null) registry.delivered(registered, registry.ticker().read());
  }

  /**
   * Records the app's side of the connection carrying this request (the app's address, hoptrace's
   * ephemeral one) on the registered request, for the outbound hop's {@code process} evidence. Runs
   * before the request is sent, so before the app can call out on its behalf.
   */
  @Override
  public void proxyToServerConnection(
      HttpServerExchange exchange,
      @Nullable SocketAddress proxySide,
      @Nullable SocketAddress serverSide) {
    if (!bindConnections) return;
    InboundExchange state = exchange.getAttachment(InboundExchange.KEY);
    InboundRequest registered = state == null ? null : state.registered;
    if (registered == null) return;
    // Always bound, so that "not bound" can mean "not sent yet" to the process evidence.
    SocketKey key = connectionKeys.of(serverSide, proxySide);
    registered.bindConnection(key != null ? key : ProcessEvidence.UNKNOWN_CONNECTION);
  }

  @Override
  public void proxyToClientHeaders(HttpServerExchange exchange, HeaderMap headers) {
    headers.add(Headers.VIA, ForwardedHeadersHandler.via(exchange));
    InboundExchange state = exchange.getAttachment(InboundExchange.KEY);
    if (state == null || state.server == null) return;
    // The app has answered: from now on this request is not in flight at the app, though its
    // response is still being relayed (the completion listener's end() is then a no-op).
    InboundRequest registered = state.registered;
    if (registered != null) registry.end(registered, registry.ticker().read());
    if (traceresponse) {
      // The traceparent the app was given names the same span: the same text, not formatted again.
      String text = state.traceparent;
      Carriers.UNDERTOW_SETTER.set(
          headers,
          TraceresponseCodec.NAME,
          text != null ? text : TraceresponseCodec.toString(state.server));
    }
    if (respondRequestId && state.requestId != null) {
      Carriers.UNDERTOW_SETTER.set(headers, requestIdHeader, state.requestId);
    }
  }
}
