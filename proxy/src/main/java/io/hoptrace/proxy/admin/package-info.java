/** The admin listener: health, readiness and metrics. Off unless a port is configured. */
@NullMarked
package io.hoptrace.proxy.admin;

import org.jspecify.annotations.NullMarked;
