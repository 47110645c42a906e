/**
 * {@code POST /spans} on the admin listener: spans the app reports itself (an in-process cache, a
 * queue publish), read as Zipkin v2 JSON, linked by the correlator when they carry no trace id, and
 * written to the span log beside the spans hoptrace saw.
 */
@NullMarked
package io.hoptrace.proxy.appspans;

import org.jspecify.annotations.NullMarked;
