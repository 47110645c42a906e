package io.hoptrace.proxy;

import java.io.PrintStream;

/** A subcommand of {@code hoptrace}: takes its own arguments, returns the exit code. */
@FunctionalInterface
interface Command {
  int run(String[] args, PrintStream out, PrintStream err);
}
