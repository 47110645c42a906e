package io.hoptrace.proxy.inbound;

import io.hoptrace.context.TraceContext;
import io.hoptrace.correlation.InboundRequest;
import io.hoptrace.propagation.Extraction;
import io.hoptrace.propagation.requestid.RequestIdCodec;
import io.hoptrace.propagation.w3c.TraceresponseCodec;
import io.hoptrace.proxy.procfs.ProcessEvidence;
import io.hoptrace.proxy.procfs.SocketKey;
import io.hoptrace.proxy.relay.ByteRelay;
import io.hoptrace.proxy.relay.RelayedConnection;
import io.hoptrace.proxy.spanlog.ThreadSpanBuilder;
import io.hoptrace.proxy.upstream.UpstreamFailure;
import io.hoptrace.span.EpochMicros;
import io.hoptrace.span.IntTexts;
import io.hoptrace.span.Kind;
import io.hoptrace.span.Span;
import io.undertow.server.protocol.http.HttpOpenListener;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import org.jspecify.annotations.Nullable;
import org.xnio.StreamConnection;

/**
 * One inbound connection on the {@link InboundRelay}: per request, the caller's trace context
 * (trusted or not, per connection), this hop's SERVER context and its registration; the app's head
 * gets X-Forwarded-For/-Proto/-Host and Via joined with the caller's and the injector's fields; the
 * caller's response gets Via, traceresponse and the request id; then the SERVER span line.
 */
final class InboundConnection extends RelayedConnection {
  private static final byte[] HOST = ascii("host");
  private static final byte[] X_FORWARDED_FOR = ascii("x-forwarded-for");
  private static final byte[] X_FORWARDED_PROTO = ascii("x-forwarded-proto");
  private static final byte[] X_FORWARDED_HOST = ascii("x-forwarded-host");
  private static final byte[] VIA = ascii("via");
  private static final String VIA_VALUE = "1.1 hoptrace";

  private final InboundRelay relay;
  private @Nullable Boolean trusted;

  // the request in flight
  private @Nullable TraceContext server;
  private @Nullable String traceparent;
  private String contextTag = "";
  private RouteKeys.Route route = RouteKeys.Route.NONE; // the request's key and span name
  private @Nullable String rejected;
  private @Nullable InboundRequest registered;
  // the caller's forwarding fields, while the app's head is written
  private @Nullable String forwardedFor;
  private @Nullable String forwardedProto;
  private @Nullable String forwardedHost;
  private @Nullable String via;
  private @Nullable String host;

  InboundConnection(
      InboundRelay relay, StreamConnection client, HttpOpenListener undertow, ByteRelay.Loop loop) {
    super(relay, client, undertow, loop);
    this.relay = relay;
  }

  @Override
  protected ByteRelay.Upstream target() {
    return relay.app;
  }

  /** The caller's trace context, this hop's SERVER context, and its registration. */
  @Override
  protected boolean trace() {
    Boolean t = trusted;
    if (t == null) {
      InetSocketAddress peer = caller.address;
      t = peer != null && peer.getAddress() != null && relay.settings.trusted(peer.getAddress());
      trusted = t;
    }
    Extraction extraction = relay.extractor.extract(this, GETTER, t);
    TraceContext context = extraction.newServerContext(RequestIdCodec::newRequestId);
    server = context;
    contextTag = extraction.outcome().tagValue();
    rejected = extraction.rejected();
    RouteKeys.Route r = relay.routeKeys.of(method(), path());
    route = r;
    registered =
        relay.registry.begin(
            context,
            r.key(),
            context.requestId(),
            null,
            relay.registry.ticker().readAt(startNanos()),
            query());
    forwardedFor = null;
    forwardedProto = null;
    forwardedHost = null;
    via = null;
    host = null;
    return true;
  }

  @Override
  protected void requestField(ByteBuffer b, int at, int nameLength, int colon, int next) {
    if (is(b, at, nameLength, HOST)) {
      host = value(b, colon, next);
    } else if (is(b, at, nameLength, X_FORWARDED_FOR)) {
      forwardedFor = join(forwardedFor, value(b, colon, next));
    } else if (is(b, at, nameLength, X_FORWARDED_PROTO)) {
      forwardedProto = join(forwardedProto, value(b, colon, next));
    } else if (is(b, at, nameLength, X_FORWARDED_HOST)) {
      forwardedHost = join(forwardedHost, value(b, colon, next));
    } else if (is(b, at, nameLength, VIA)) {
      via = join(via, value(b, colon, next));
    }
  }

  @Override
  protected void upstreamFields(ByteBuffer out) {
    if (caller.ip != null) field(out, "X-Forwarded-For", join(forwardedFor, caller.ip));
    field(out, "X-Forwarded-Proto", join(forwardedProto, "http"));
    String h = host;
    if (h != null) field(out, "X-Forwarded-Host", join(forwardedHost, h));
    field(out, "Via", join(via, VIA_VALUE));
    TraceContext context = server;
    if (context != null) traceparent = relay.injector.inject(context, this, SETTER);
  }

  @Override
  protected void sent(@Nullable SocketAddress upSide, @Nullable SocketAddress proxySide) {
    InboundRequest r = registered;
    if (r == null) return;
    if (relay.bindConnections) {
      // the app's side of the connection, for the process evidence
      SocketKey key = relay.connectionKeys.of(upSide, proxySide);
      r.bindConnection(key != null ? key : ProcessEvidence.UNKNOWN_CONNECTION);
    }
    relay.registry.delivered(r, relay.registry.ticker().read());
  }

  @Override
  protected void responseBegun() {
    InboundRequest r = registered;
    if (r != null) relay.registry.end(r, relay.registry.ticker().read());
  }

  /** Via, traceresponse and the request id (when on). */
  @Override
  protected void responseFields(ByteBuffer h) {
    field(h, "Via", VIA_VALUE);
    TraceContext context = server;
    if (relay.traceresponse && context != null) {
      String text = traceparent;
      field(h, TraceresponseCodec.NAME, text != null ? text : TraceresponseCodec.toString(context));
    }
    String requestIdHeader = relay.respondRequestId;
    if (requestIdHeader != null && context != null && context.requestId() != null) {
      field(h, requestIdHeader, context.requestId());
    }
  }

  @Override
  protected int responseFieldsExtra() {
    TraceContext context = server;
    String id = context == null ? null : context.requestId();
    return id == null ? 0 : id.length();
  }

  /** The SERVER span line. */
  @Override
  protected void span(long endNanos, int status, @Nullable UpstreamFailure failure) {
    InboundRequest r = registered;
    if (r != null) relay.registry.end(r, relay.registry.ticker().readAt(endNanos));
    registered = null;
    TraceContext context = server;
    if (context == null) return;
    server = null;
    relay.metrics().inboundContext(contextTag);
    long startNanos = startNanos();
    Span.Builder span =
        ThreadSpanBuilder.get()
            .context(context)
            .kind(Kind.SERVER)
            .name(route.spanName())
            .timestampMicros(EpochMicros.at(startNanos))
            .durationMicros(Math.max(1, (endNanos - startNanos) / 1000))
            .serviceName(relay.serviceName);
    InetSocketAddress peer = caller.address;
    if (peer != null && caller.ip != null) span.remoteEndpoint(caller.ip, peer.getPort());
    span.tag("http.method", method())
        .tag("http.path", path())
        .tag("http.status_code", IntTexts.of(status));
    if (failure != null) span.tag("error", failure.errorTag());
    if (context.requestId() != null) span.tag("http.request_id", context.requestId());
    span.tag("hoptrace.context", contextTag);
    if (rejected != null) span.tag("hoptrace.rejected", rejected);
    relay.spanLog.offer(span);
  }
}
