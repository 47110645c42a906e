package io.hoptrace.proxy;

import io.hoptrace.traces.reconcile.ReconcileCommand;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Map;

/** The {@code hoptrace} command line: dispatches to a subcommand. */
public final class Main {
  /** Subcommands by name: adding one is adding one entry. */
  static final Map<String, Command> COMMANDS =
      Map.of("run", new RunCommand(), "reconcile", ReconcileCommand::run);

  static final String USAGE =
      """
      usage: hoptrace <command> [options]

      commands:
        run        run the sidecar (see: hoptrace run --help)
        reconcile  re-decide inferred links offline, from several span logs
        --version  print the version
        --help     print this help
      """;

  // Undertow and XNIO log through java.util.logging; their INFO banners would mix with the
  // startup lines scripts parse. Strong references: JUL holds loggers weakly.
  private static final java.util.logging.Logger UNDERTOW_LOG =
      java.util.logging.Logger.getLogger("io.undertow");
  private static final java.util.logging.Logger XNIO_LOG =
      java.util.logging.Logger.getLogger("org.xnio");

  public static void main(String[] args) {
    UNDERTOW_LOG.setLevel(java.util.logging.Level.WARNING);
    XNIO_LOG.setLevel(java.util.logging.Level.WARNING);
    System.exit(run(args, System.out, System.err));
  }

  /** Runs a command and returns its exit code (DESIGN.md: 0 ok, 2 bad configuration, 1 other). */
  static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
      out.print(USAGE);
      return args.length == 0 ? 2 : 0;
    }
    if (args[0].equals("--version")) {
      out.println("hoptrace " + version());
      return 0;
    }
    Command command = COMMANDS.get(args[0]);
    if (command == null) {
      err.println("hoptrace: unknown command: " + args[0]);
      err.print(USAGE);
      return 2;
    }
    try {
      return command.run(Arrays.copyOfRange(args, 1, args.length), out, err);
    } catch (RuntimeException e) {
      err.println("hoptrace: " + e);
      return 1;
    }
  }

  static String version() {
    String v = Main.class.getPackage().getImplementationVersion();
    return v != null ? v : "dev";
  }

  private Main() {}
}
