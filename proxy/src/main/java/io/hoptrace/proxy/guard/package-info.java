/**
 * Hardening: what a listener refuses before anything is forwarded. {@link
 * io.hoptrace.proxy.guard.HeadGuardConduit} checks each request head's bytes below Undertow's
 * parser ({@link io.hoptrace.proxy.guard.HeadScanner}) and answers a malformed one itself; {@link
 * io.hoptrace.proxy.guard.GuardHandlers} composes the handler stages (overload shedding, request
 * validation, body rate, Proxy-Status on upstream failures); {@link
 * io.hoptrace.proxy.guard.ListenerLimits} sets the parser's own limits and timeouts; every refusal
 * is one {@link io.hoptrace.proxy.guard.RefusalReason}, answered, counted and written as a span
 * line by {@link io.hoptrace.proxy.guard.Refusals}. The policy table is in docs/security.md.
 */
@NullMarked
package io.hoptrace.proxy.guard;

import org.jspecify.annotations.NullMarked;
