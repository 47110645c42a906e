/**
 * The outbound hop: the app's calls to its callees, through a forward proxy ({@code HTTP_PROXY}),
 * CONNECT tunnels, or named egress routes. Read {@link io.hoptrace.proxy.outbound.OutboundHandlers}
 * first: it composes the stages (access control, target resolution, loop guard, correlation,
 * injection, forwarding) in one place; each stage is one small handler in this package.
 */
@NullMarked
package io.hoptrace.proxy.outbound;

import org.jspecify.annotations.NullMarked;
