/** The {@code hoptrace traces} and {@code hoptrace export} subcommands. */
@NullMarked
package io.hoptrace.traces.cli;

import org.jspecify.annotations.NullMarked;
