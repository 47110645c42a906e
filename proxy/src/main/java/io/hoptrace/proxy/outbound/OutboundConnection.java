package io.hoptrace.proxy.outbound;

import io.hoptrace.context.TraceContext;
import io.hoptrace.correlation.Correlator;
import io.hoptrace.correlation.Decision;
import io.hoptrace.correlation.OutboundCall;
import io.hoptrace.proxy.procfs.ProcessLinks;
import io.hoptrace.proxy.procfs.SocketKey;
import io.hoptrace.proxy.relay.ByteRelay;
import io.hoptrace.proxy.relay.RelayedConnection;
import io.hoptrace.proxy.upstream.UpstreamFailure;
import io.hoptrace.span.EpochMicros;
import io.undertow.server.protocol.http.HttpOpenListener;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.RejectedExecutionException;
import org.jspecify.annotations.Nullable;
import org.xnio.StreamConnection;

/**
 * One connection from the app on an {@link OutboundRelay}: per request, the callee (from the
 * absolute-form target, or the route's), the correlator's decision (which inbound request caused
 * this call: {@link CorrelateHandler}'s work), the CLIENT span's context injected into the callee's
 * head with the target's Host, the response passed back as it came, then the CLIENT span line
 * ({@link ForwardHandler}'s).
 */
final class OutboundConnection extends RelayedConnection {
  private final OutboundRelay relay;
  private boolean appSocketKnown;
  private @Nullable SocketKey appSocket;

  // the request in flight, and how many have begun (a decision made elsewhere finds its own)
  private int begun;
  private OutboundRelay.@Nullable Callee callee;
  private @Nullable ClientHop hop;

  OutboundConnection(
      OutboundRelay relay,
      StreamConnection client,
      HttpOpenListener undertow,
      ByteRelay.Loop loop) {
    super(relay, client, undertow, loop);
    this.relay = relay;
  }

  /** Only allowed sources: any other is refused (403) on the Undertow path. */
  @Override
  protected boolean accepted() {
    InetSocketAddress source = caller.address;
    return source != null
        && source.getAddress() != null
        && relay.allowedSources.test(source.getAddress());
  }

  @Override
  protected ByteRelay.@Nullable Upstream target() {
    OutboundTarget route = relay.route;
    String authority = route != null ? route.authority() : authority();
    OutboundRelay.Callee c = route != null ? relay.routeCallee() : relay.callee(authority);
    callee = c;
    if (c != null) return c.upstream();
    OutboundTarget name = relay.toResolve(authority);
    if (name != null) {
      // a name: resolved on a worker thread (it blocks), then this head goes on here
      StreamConnection connection = client;
      try {
        connection
            .getWorker()
            .execute(
                () -> {
                  try {
                    relay.resolve(authority, name);
                  } finally {
                    connection.getIoThread().execute(this::targetKnown);
                  }
                });
        awaitTarget();
      } catch (RejectedExecutionException e) {
        // shutting down: the Undertow path answers (or refuses) it
      }
    }
    return null;
  }

  /** The decision, made here unless it asks the process evidence (then on a worker thread). */
  @Override
  protected boolean trace() {
    OutboundRelay.Callee c = callee;
    if (c == null) throw new IllegalStateException("no callee");
    long startNanos = startNanos();
    Correlator correlator = relay.correlator;
    // Trusted (the app is local): its context is continued, whatever it is.
    String appRequestId = relay.extractor.requestId(this, GETTER);
    TraceContext forwarded = relay.extractor.trustedParent(this, GETTER, appRequestId);
    String method = method();
    String path = path();
    OutboundCall call =
        OutboundCall.of(
            forwarded,
            appRequestId,
            c.target().authority(),
            method,
            path,
            query(),
            correlator.registry().ticker().readAt(startNanos),
            appSocket());
    Decision cheap = correlator.decideWithoutBlocking(call);
    if (cheap != null) {
      decided(cheap, appRequestId, c);
      return true;
    }
    hop = null;
    int request = ++begun;
    StreamConnection connection = client;
    connection
        .getWorker()
        .execute(
            () -> {
              Decision decision = correlator.decide(call);
              connection
                  .getIoThread()
                  .execute(
                      () -> {
                        if (begun != request || callee == null) return; // it has ended
                        decided(decision, appRequestId, c);
                        traced();
                      });
            });
    return false;
  }

  private void decided(Decision decision, @Nullable String appRequestId, OutboundRelay.Callee c) {
    relay.linkCounters.get(decision.link()).inc();
    long startNanos = startNanos();
    hop =
        ClientHop.decided(
            decision,
            appRequestId,
            method(),
            path(),
            c.target(),
            EpochMicros.at(startNanos),
            startNanos,
            relay.correlator);
  }

  /** This connection's app side, for the process evidence (when on); made once. */
  private @Nullable SocketKey appSocket() {
    if (relay.processLinks == null) return null;
    if (!appSocketKnown) {
      appSocketKnown = true;
      appSocket =
          ProcessLinks.appSide(
              client.getPeerAddress(InetSocketAddress.class),
              client.getLocalAddress(InetSocketAddress.class));
    }
    return appSocket;
  }

  /** The target's Host, and the CLIENT span's context. */
  @Override
  protected void upstreamFields(ByteBuffer out) {
    OutboundRelay.Callee c = callee;
    if (c != null) field(out, "Host", c.host());
    ClientHop h = hop;
    if (h != null) relay.injector.inject(h.context, this, SETTER);
  }

  @Override
  protected void responseBegun() {
    ClientHop h = hop;
    if (h != null) h.responded();
  }

  /** Nothing: the app gets the callee's response as it came, less hop-by-hop fields. */
  @Override
  protected void responseFields(ByteBuffer h) {}

  /** The CLIENT span line. */
  @Override
  protected void span(long endNanos, int status, @Nullable UpstreamFailure failure) {
    ClientHop started = hop;
    OutboundRelay.Callee c = callee;
    hop = null;
    callee = null;
    if (started == null || c == null) return; // ended before its decision: no span
    ClientHop h = started.refined();
    relay.spans.acceptBuilder(
        h.endedSpan(
            relay.serviceName,
            h.target.addressText(c.address()),
            endNanos,
            relay.names.of(h.method, h.path),
            status,
            failure));
  }

  /** Its app side's cached owner is forgotten: a later connection may reuse the port. */
  @Override
  protected void closed() {
    ProcessLinks links = relay.processLinks;
    SocketKey key = appSocket;
    if (links != null && key != null) links.forget(key);
  }
}
