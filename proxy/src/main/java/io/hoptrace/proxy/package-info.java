/** The hoptrace process: the command line, lifecycle, and the composition of the listeners. */
@NullMarked
package io.hoptrace.proxy;

import org.jspecify.annotations.NullMarked;
