package io.hoptrace.proxy.outbound;

import com.codahale.metrics.Counter;
import io.hoptrace.config.Settings;
import io.hoptrace.correlation.Correlator;
import io.hoptrace.correlation.Link;
import io.hoptrace.propagation.CompositeExtractor;
import io.hoptrace.propagation.Injector;
import io.hoptrace.proxy.guard.GuardHandlers;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.proxy.procfs.ProcessLinks;
import io.hoptrace.proxy.relay.ByteRelay;
import io.hoptrace.proxy.relay.RelayedConnection;
import io.hoptrace.proxy.spanlog.SpanSink;
import io.undertow.server.protocol.http.HttpOpenListener;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.xnio.StreamConnection;

/**
 * One outbound listener as a byte relay ({@code outbound.engine = relay}, the default): the same
 * stages as the Undertow path ({@link OutboundHandlers}) — source access, target, loop guard,
 * correlate, inject, forward, CLIENT span — carried by {@link ByteRelay}; each connection's
 * requests by an {@link OutboundConnection}.
 *
 * <p>The forward-proxy port takes absolute-form {@code http://} requests; a route's port every
 * request. A target given by a host name is resolved on a worker thread (the request waits, its
 * connection's reads off) and its address kept for {@link #NAME_TTL_NANOS}; the next request after
 * that resolves it again. Handed to the Undertow path with their connection: CONNECT, origin-form
 * on the forward-proxy port, a name that does not resolve (for {@link #NO_NAME_TTL_NANOS}), a
 * target that is one of hoptrace's own listeners (refused there), a source not allowed (refused
 * there), and what {@link ByteRelay} leaves to it. A decision that asks the process evidence (it
 * reads /proc) is made on a worker thread; the request goes on on its I/O thread once it is made.
 */
public final class OutboundRelay extends ByteRelay {
  /**
   * At most this many callees are kept track of (those with no connection open are forgotten when
   * there are more); while this many have connections, requests to others go to the Undertow path.
   */
  static final int MAX_TARGETS = 256;

  /** How long a name's addresses are used before it is resolved again (the JDK's own cache's). */
  static final long NAME_TTL_NANOS = TimeUnit.SECONDS.toNanos(30);

  /** How long a name that did not resolve is left to the Undertow path before it is tried again. */
  static final long NO_NAME_TTL_NANOS = TimeUnit.SECONDS.toNanos(5);

  final Correlator correlator;
  final CompositeExtractor extractor;
  final Injector injector;
  final SpanSink spans;
  final String serviceName;
  final @Nullable ProcessLinks processLinks;
  final Predicate<InetAddress> allowedSources;
  final OwnPorts ownPorts;
  final Map<Link, Counter> linkCounters = new EnumMap<>(Link.class);
  final SpanNames names = new SpanNames();

  /** A route's target, or null on the forward-proxy port. */
  final @Nullable OutboundTarget route;

  // the route's callee, made on its first request (once the loop guard knows all our ports)
  private volatile @Nullable Callee routeCallee;

  private final Map<String, Callee> callees = new ConcurrentHashMap<>();

  // names as last resolved, by authority (the route's, or an absolute-form target's)
  private final Map<String, Resolved> resolved = new ConcurrentHashMap<>();

  /** A callee as the relay sends to it: its target, Host value and upstream. */
  record Callee(OutboundTarget target, String host, InetAddress address, Upstream upstream) {}

  /** A name's callee as resolved at {@code atNanos}; null: left to the Undertow path. */
  private record Resolved(@Nullable Callee callee, long atNanos) {
    boolean fresh(long now) {
      return now - atNanos < (callee != null ? NAME_TTL_NANOS : NO_NAME_TTL_NANOS);
    }

    /** The callee while this resolution is fresh; else null (to be resolved again). */
    @Nullable Callee freshCallee() {
      return fresh(System.nanoTime()) ? callee : null;
    }
  }

  /**
   * @param route the route's target; null for the forward-proxy port
   * @param processLinks non-null when {@code procfs.enabled}: each connection's app side goes to
   *     the correlator
   */
  OutboundRelay(
      Settings settings,
      @Nullable OutboundTarget route,
      Correlator correlator,
      CompositeExtractor extractor,
      Injector injector,
      SpanSink spans,
      ProxyMetrics metrics,
      GuardHandlers guard,
      OwnPorts ownPorts,
      @Nullable ProcessLinks processLinks) {
    super(
        settings,
        ProxyMetrics.Hop.OUTBOUND,
        metrics,
        guard,
        null,
        route == null,
        requestDropped(injector),
        Set.of());
    this.correlator = correlator;
    this.extractor = extractor;
    this.injector = injector;
    this.spans = spans;
    this.serviceName = settings.service();
    this.processLinks = processLinks;
    this.allowedSources = settings::outboundAllowed;
    this.ownPorts = ownPorts;
    for (Link link : Link.values()) {
      linkCounters.put(link, metrics.counter("hoptrace.outbound.link." + link.tagValue()));
    }
    this.route = route;
  }

  /** Trace fields (written again) and Host (the target's). */
  private static Set<String> requestDropped(Injector injector) {
    Set<String> request = new LinkedHashSet<>(injector.managedHeaders());
    request.add("host");
    return request;
  }

  @Override
  protected RelayedConnection connection(
      StreamConnection connection, HttpOpenListener undertow, Loop loop) {
    return new OutboundConnection(this, connection, undertow, loop);
  }

  /**
   * The route's callee; null when the relay leaves it to the Undertow path, or when its name is to
   * be resolved ({@link #toResolve}).
   */
  @Nullable Callee routeCallee() {
    Callee c = routeCallee;
    OutboundTarget r = route;
    if (c != null || r == null) return c;
    if (r.literalAddresses() == null) {
      Resolved name = resolved.get(r.authority());
      return name == null ? null : name.freshCallee();
    }
    c = callee(r, r.literalAddresses());
    routeCallee = c;
    return c;
  }

  /**
   * The callee of an absolute-form request's {@code authority}; null when the relay leaves it to
   * the Undertow path (malformed, one of our own listeners, too many callees), or when it is a name
   * to be resolved ({@link #toResolve}).
   */
  @Nullable Callee callee(String authority) {
    Callee known = callees.get(authority);
    if (known != null) return known;
    Resolved name = resolved.get(authority);
    if (name != null) return name.freshCallee();
    OutboundTarget target = OutboundTarget.parseAuthority(authority, 80);
    if (target == null || target.literalAddresses() == null) return null; // a name: toResolve()
    Callee made = callee(target, target.literalAddresses());
    if (made == null) return null;
    if (callees.size() >= MAX_TARGETS) {
      // callees with no connection open or awaited are forgotten (made again when called again)
      callees.values().removeIf(c -> c.upstream().unused());
      if (callees.size() >= MAX_TARGETS) return null;
    }
    Callee raced = callees.putIfAbsent(authority, made);
    return raced != null ? raced : made;
  }

  /**
   * The target of {@code authority} (the route's, or an absolute-form target's) when it is a name
   * to resolve before the request goes on: never resolved, or not lately, and room to keep it. Null
   * otherwise (a literal, malformed, or resolved lately: {@link #callee} has the answer).
   */
  @Nullable OutboundTarget toResolve(String authority) {
    Resolved r = resolved.get(authority);
    if (r != null && r.fresh(System.nanoTime())) return null;
    OutboundTarget target = route != null ? route : OutboundTarget.parseAuthority(authority, 80);
    if (target == null || target.literalAddresses() != null) return null;
    if (r == null && resolved.size() >= MAX_TARGETS) {
      // names that are not kept or have no connection open or awaited are forgotten
      resolved.values().removeIf(x -> x.callee() == null || x.callee().upstream().unused());
      if (resolved.size() >= MAX_TARGETS) return null;
    }
    return target;
  }

  /**
   * Resolves {@code target}'s name and keeps its callee for the next requests ({@link
   * #NAME_TTL_NANOS}): blocks, so on a worker thread. The same address again keeps the callee (and
   * its kept connections); an address that is one of our own listeners, or none, leaves the name to
   * the Undertow path (which refuses or answers it).
   */
  void resolve(String authority, OutboundTarget target) {
    Callee made = callee(target, target.addresses());
    Resolved before = resolved.get(authority);
    Callee was = before == null ? null : before.callee();
    if (made != null && was != null && was.address().equals(made.address())) made = was;
    resolved.put(authority, new Resolved(made, System.nanoTime()));
  }

  /**
   * The callee at {@code addresses}' first, with the Host the relay sends (the route's authority,
   * or the absolute-form target's); null for none, or one of our own listeners (the loop guard
   * refuses it there).
   */
  private @Nullable Callee callee(OutboundTarget target, @Nullable List<InetAddress> addresses) {
    if (addresses == null || addresses.isEmpty()) return null;
    if (ownPorts.isOwn(target.port(), addresses)) return null;
    InetAddress address = addresses.get(0);
    String host = route != null ? route.authority() : target.hostHeader();
    return new Callee(
        target, host, address, new Upstream(new InetSocketAddress(address, target.port())));
  }
}
