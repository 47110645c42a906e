/** Sending span lines to Zipkin and OTLP backends, off the request path. */
@NullMarked
package io.hoptrace.traces.export;

import org.jspecify.annotations.NullMarked;
