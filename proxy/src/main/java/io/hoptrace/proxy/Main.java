package io.hoptrace.proxy;

import java.io.PrintStream;

/** The {@code hoptrace} command line: dispatches to a subcommand. */
public final class Main {
  static final String USAGE =
      """
      usage: hoptrace <command> [options]

      commands:
        run        run the sidecar (see: hoptrace run --help)
        --version  print the version
        --help     print this help
      """;

  public static void main(String[] args) {
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
    err.println("hoptrace: unknown command: " + args[0]);
    err.print(USAGE);
    return 2;
  }

  static String version() {
    String v = Main.class.getPackage().getImplementationVersion();
    return v != null ? v : "dev";
  }

  private Main() {}
}
