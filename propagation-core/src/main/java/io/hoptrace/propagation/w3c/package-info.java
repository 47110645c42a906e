/**
 * W3C Trace Context: {@code traceparent}, {@code tracestate} and the Level 2 {@code traceresponse}.
 * Parsing follows the Recommendation's processing model exactly; see propagation-core/RATIONALE.md.
 */
@NullMarked
package io.hoptrace.propagation.w3c;

import org.jspecify.annotations.NullMarked;
