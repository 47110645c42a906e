/**
 * {@code hoptrace demo}: three small services in one JVM (front → orders → inventory), each behind
 * its own hoptrace on 127.0.0.1, a short burst of traffic, and what the span logs say about it.
 * Read {@link io.hoptrace.proxy.demo.DemoCommand} first; the services are in {@link
 * io.hoptrace.proxy.demo.DemoSystem}.
 */
@NullMarked
package io.hoptrace.proxy.demo;

import org.jspecify.annotations.NullMarked;
