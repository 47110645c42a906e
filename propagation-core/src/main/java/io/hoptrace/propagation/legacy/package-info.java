/** A configurable pair of legacy id headers, such as {@code X-Trace-Id} and {@code X-Span-Id}. */
@NullMarked
package io.hoptrace.propagation.legacy;

import org.jspecify.annotations.NullMarked;
