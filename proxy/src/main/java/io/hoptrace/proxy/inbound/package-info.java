/**
 * The inbound hop, two ways to carry a request with the same tracing work.
 *
 * <ul>
 *   <li>{@link io.hoptrace.proxy.inbound.InboundRelay} (the default, {@code inbound.engine =
 *       relay}) takes each accepted connection first: {@link
 *       io.hoptrace.proxy.inbound.InboundConnection} relays a plain HTTP/1.1 request as bytes (read
 *       the head, extract and register the trace context, write the app's head, relay the response,
 *       write the span line) on the byte relay of {@link io.hoptrace.proxy.relay}.
 *   <li>What the relay does not carry, it hands with the connection to the Undertow path: {@link
 *       io.hoptrace.proxy.inbound.InboundHandlers} composes one small handler per stage (span
 *       recording, trace context, forwarded headers, forwarding to the app); per-exchange state
 *       lives in {@link io.hoptrace.proxy.inbound.InboundExchange}.
 * </ul>
 */
@NullMarked
package io.hoptrace.proxy.inbound;

import org.jspecify.annotations.NullMarked;
