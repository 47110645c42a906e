/**
 * The outbound correlator's decision logic, no I/O: which inbound request caused each of the app's
 * outbound calls, and how we know (DESIGN.md, the {@code hoptrace.link} values). The proxy
 * registers inbound requests in an {@link io.hoptrace.correlation.InboundRegistry} and asks a
 * {@link io.hoptrace.correlation.Correlator} for a {@link io.hoptrace.correlation.Decision} on
 * every outbound call.
 */
@NullMarked
package io.hoptrace.correlation;

import org.jspecify.annotations.NullMarked;
