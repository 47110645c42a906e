package io.hoptrace.proxy;

import io.hoptrace.proxy.demo.DemoCommand;
import io.hoptrace.traces.cli.ExportCommand;
import io.hoptrace.traces.cli.TracesCommand;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

/** The {@code hoptrace} command line: dispatches to a subcommand. */
public final class Main {
  /** Subcommands by name: adding one is adding one entry. */
  static final Map<String, Command> COMMANDS =
      Map.of(
          "run", new RunCommand(),
          "demo", (args, out, err) -> DemoCommand.run(args, utf8(out), utf8(err)),
          "traces", (args, out, err) -> TracesCommand.run(args, utf8(out), utf8(err)),
          "export", (args, out, err) -> ExportCommand.run(args, utf8(out), utf8(err)));

  static final String USAGE =
      """
      usage: hoptrace <command> [options]

      commands:
        run        run the sidecar (see: hoptrace run --help)
        demo       three services behind three hoptraces, some traffic, one waterfall
        traces     read span logs: a list, a waterfall, a live feed, a web page
        export     send span logs to Zipkin or an OTLP/HTTP endpoint
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

  /**
   * The traces commands draw with Unicode when the locale is UTF-8; their bytes must then be UTF-8
   * whatever the JVM's default charset is.
   */
  private static PrintStream utf8(PrintStream stream) {
    return new PrintStream(stream, true, StandardCharsets.UTF_8);
  }

  static String version() {
    String v = Main.class.getPackage().getImplementationVersion();
    return v != null ? v : "dev";
  }

  private Main() {}
}
