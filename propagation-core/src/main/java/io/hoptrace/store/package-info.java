/**
 * The generation ring: a bounded, timer-free store of recent entries (DESIGN.md "The generation
 * ring"), and the {@link io.hoptrace.store.Ticker} it reads time from.
 */
@NullMarked
package io.hoptrace.store;

import org.jspecify.annotations.NullMarked;
