/**
 * The byte relay both HTTP hops carry their plain requests on: {@link
 * io.hoptrace.proxy.relay.ByteRelay} (upstreams, connections pooled per I/O thread, the deadline
 * sweep) and {@link io.hoptrace.proxy.relay.RelayedConnection} (one caller connection's state
 * machine: head, upstream head, body, response head, response body, span line; or the hand-over to
 * the Undertow path). Each hop's own work is in its package: {@code inbound.InboundConnection},
 * {@code outbound.OutboundConnection}.
 */
@NullMarked
package io.hoptrace.proxy.relay;

import org.jspecify.annotations.NullMarked;
