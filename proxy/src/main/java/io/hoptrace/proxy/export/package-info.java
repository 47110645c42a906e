/**
 * The proxy's span export: each line the span-log writer encodes goes, without blocking, to the
 * enabled exporters' bounded queues (Zipkin v2 JSON, OTLP/HTTP) and to the recent lines the admin
 * traces page shows. The exporters themselves live in the traces module.
 */
@NullMarked
package io.hoptrace.proxy.export;

import org.jspecify.annotations.NullMarked;
