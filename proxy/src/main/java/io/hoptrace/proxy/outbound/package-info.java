/**
 * The outbound hop: the app's calls to its callees, through a forward proxy ({@code HTTP_PROXY}),
 * CONNECT tunnels, or named egress routes. Read {@link io.hoptrace.proxy.outbound.OutboundHandlers}
 * first: it composes the stages (access control, target resolution, loop guard, correlation,
 * injection, forwarding) in one place; each stage is one small handler in this package. With {@code
 * outbound.engine = relay} (the default) each listener's plain requests to an address literal are
 * carried as bytes by {@link io.hoptrace.proxy.outbound.OutboundRelay} and {@link
 * io.hoptrace.proxy.outbound.OutboundConnection}, which do the same stages' work on the byte relay
 * of {@link io.hoptrace.proxy.relay}; their connections go to the stages above for anything else.
 */
@NullMarked
package io.hoptrace.proxy.outbound;

import org.jspecify.annotations.NullMarked;
