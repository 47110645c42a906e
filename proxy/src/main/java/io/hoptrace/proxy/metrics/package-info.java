/** Dropwizard metrics for every hop, exposed in Prometheus text format through the bridge. */
@NullMarked
package io.hoptrace.proxy.metrics;

import org.jspecify.annotations.NullMarked;
