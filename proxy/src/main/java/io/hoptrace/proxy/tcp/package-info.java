/**
 * TCP routes: a transparent byte relay per route, with protocol observers that time each command.
 */
@NullMarked
package io.hoptrace.proxy.tcp;

import org.jspecify.annotations.NullMarked;
