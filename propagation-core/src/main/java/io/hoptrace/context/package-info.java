/** Trace context values and ids: immutable, primitives with cached text. */
@NullMarked
package io.hoptrace.context;

import org.jspecify.annotations.NullMarked;
