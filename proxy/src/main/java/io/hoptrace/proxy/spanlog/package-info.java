/**
 * The span-log writer: one thread that batches already-encoded span lines to a file (with rotation)
 * or standard output, off the request path.
 */
@NullMarked
package io.hoptrace.proxy.spanlog;

import org.jspecify.annotations.NullMarked;
