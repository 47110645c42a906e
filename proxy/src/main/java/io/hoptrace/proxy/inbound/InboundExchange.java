package io.hoptrace.proxy.inbound;

import io.hoptrace.context.TraceContext;
import io.hoptrace.correlation.InboundRequest;
import io.hoptrace.proxy.CallerAddress;
import io.undertow.util.AttachmentKey;
import org.jspecify.annotations.Nullable;

/** What the inbound hop knows about one exchange; attached to it, gone with it. */
final class InboundExchange {
  static final AttachmentKey<InboundExchange> KEY = AttachmentKey.create(InboundExchange.class);

  final long startNanos;
  final long startEpochMicros;

  /** Who sent it: the connection's peer, found once per connection. */
  final CallerAddress caller;

  /** This hop's SERVER span; set by {@link TraceContextHandler}. */
  @Nullable TraceContext server;

  /** The request id the app sees; set by {@link TraceContextHandler}. */
  @Nullable String requestId;

  /**
   * The {@code traceparent} value sent to the app (naming {@link #server}); set when the request is
   * forwarded, and answered to the caller as {@code traceresponse}.
   */
  @Nullable String traceparent;

  /** {@code hoptrace.context}: extracted, started or restarted. */
  String contextTag = "started";

  /** {@code hoptrace.rejected}: the incoming context that was not continued, or null. */
  @Nullable String rejected;

  /** The method and path when the request was registered, with its span name; or null. */
  RouteKeys.@Nullable Route route;

  /** The request as registered for the outbound hop; set by {@link TraceContextHandler}. */
  @Nullable InboundRequest registered;

  /** A relayed WebSocket connection; set by {@link WebSocketHandler} on the app's 101. */
  @Nullable Upgraded upgraded;

  InboundExchange(long startNanos, long startEpochMicros, CallerAddress caller) {
    this.startNanos = startNanos;
    this.startEpochMicros = startEpochMicros;
    this.caller = caller;
  }
}
