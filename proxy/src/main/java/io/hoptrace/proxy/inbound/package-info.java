/**
 * The inbound hop, read top to bottom: {@link io.hoptrace.proxy.inbound.InboundHandlers} composes
 * one small handler per stage (span recording, trace context, forwarded headers, forwarding to the
 * app). Per-exchange state lives in {@link io.hoptrace.proxy.inbound.InboundExchange}.
 */
@NullMarked
package io.hoptrace.proxy.inbound;

import org.jspecify.annotations.NullMarked;
