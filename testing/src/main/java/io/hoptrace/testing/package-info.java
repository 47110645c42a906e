/**
 * Helpers the modules' tests share: launchers for the real servers tests start, and the chores of
 * child processes (a free loopback port, a bounded wait, a teardown that always ends).
 */
@NullMarked
package io.hoptrace.testing;

import org.jspecify.annotations.NullMarked;
