package io.hoptrace.proxy.demo;

import static java.util.Objects.requireNonNull;

import io.hoptrace.traces.Trace;
import io.hoptrace.traces.cli.TracesCommand;
import io.hoptrace.traces.web.TraceSource;
import io.hoptrace.traces.web.TracesHttpServer;
import io.hoptrace.traces.web.TracesWebHandler;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * {@code hoptrace demo}: hoptrace doing its main job with nothing else installed. Starts three
 * services in this JVM (front → orders → inventory, see {@link DemoSystem}) that forward no trace
 * header, each behind its own hoptrace on 127.0.0.1 ephemeral ports; sends a short burst of
 * checkouts; prints one checkout's waterfall (the {@code traces} command's own renderer), what the
 * link values mean, how many of each this run produced and whether they were right, where the span
 * logs are and what to try next. Ends by itself; {@code --keep-running} leaves everything up and
 * serves the waterfall page.
 */
public final class DemoCommand {
  static final String USAGE =
      """
      usage: hoptrace demo [options]
        Three services in this JVM (front -> orders -> inventory) that forward no trace header,
        each behind its own hoptrace on 127.0.0.1; a burst of traffic; one request's waterfall.

        --requests N      checkouts to send (default 40; the last fifth concurrently)
        --dir DIR         write the span logs here (default: a new temporary directory)
        --keep-running    leave the services up and serve the waterfall page; Ctrl-C stops
        --serve PORT      with --keep-running: the page's port (default: any free port)
      """;

  static final int DEFAULT_REQUESTS = 40;

  private static final String NODELAY = "sun.net.httpserver.nodelay";

  /**
   * After the burst, with --keep-running, orders' timer slows to this (the page stays readable).
   */
  static final long SLOW_BACKGROUND_MILLIS = 5_000;

  private DemoCommand() {}

  /** Runs the demo; returns the exit code: 0 ok, 2 bad usage, 1 other failure. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    // The JDK HTTP server (the demo apps) leaves Nagle on: each small response would wait ~40 ms
    // for a delayed ACK, and the waterfall would show that wait instead of the apps' work. Read
    // once, when the server class first loads; a value the user set wins.
    if (System.getProperty(NODELAY) == null) System.setProperty(NODELAY, "true");
    return run(args, out, err, DemoCommand::untilCtrlC, Terminal.isTerminal());
  }

  /** How --keep-running waits to be stopped; {@code stop} closes everything. */
  interface StopSignal {
    void await(Runnable stop, PrintStream err) throws InterruptedException;
  }

  static int run(
      String[] args, PrintStream out, PrintStream err, StopSignal stopSignal, boolean terminal) {
    requireNonNull(args, "args");
    Options o;
    try {
      o = Options.parse(args);
    } catch (IllegalArgumentException e) {
      err.println("hoptrace demo: " + e.getMessage());
      err.print(USAGE);
      return 2;
    }
    if (o.help) {
      out.print(USAGE);
      return 0;
    }
    try {
      return demo(o, out, err, stopSignal, terminal);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
  }

  private static int demo(
      Options o, PrintStream out, PrintStream err, StopSignal stopSignal, boolean terminal)
      throws InterruptedException {
    long started = System.nanoTime();
    long sinceMicros = TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis());
    Path dir;
    try {
      dir =
          o.dir != null
              ? Files.createDirectories(o.dir)
              : Files.createTempDirectory("hoptrace-demo-");
    } catch (IOException e) {
      err.println(
          "hoptrace demo: cannot create "
              + (o.dir != null ? o.dir : "a temporary directory")
              + ": "
              + e);
      return 1;
    }
    dir = dir.toAbsolutePath();

    out.println(
        "hoptrace demo: three services that forward no trace header, each behind its own hoptrace");
    out.println();
    DemoSystem system;
    try {
      system = DemoSystem.start(dir);
    } catch (Exception e) {
      err.println("hoptrace demo: cannot start the services: " + e);
      return 1;
    }
    List<DemoTraffic.Outcome> outcomes;
    DemoReport report;
    int background;
    try {
      printServices(system, dir, out);
      outcomes = new DemoTraffic(system, out, terminal).run(o.requests);
      if (!o.keepRunning) {
        system.close(); // drains every hoptrace: all span lines are in the files
      }
      background = system.backgroundCalls();
      // 7 spans per checkout; 2 per background call (orders' CLIENT, inventory's SERVER)
      report = DemoReport.await(system.spanLogs(), sinceMicros, 7 * o.requests + 2 * background);
    } catch (InterruptedException | RuntimeException e) {
      system.close();
      throw e;
    }

    long failed = outcomes.stream().filter(x -> !x.ok()).count();
    int serial = DemoTraffic.serialCount(o.requests);
    out.println(
        "  sent "
            + o.requests
            + " checkouts ("
            + serial
            + " one at a time, "
            + (o.requests - serial)
            + " in rounds of "
            + DemoTraffic.ROUND
            + " at once): "
            + (o.requests - failed)
            + " ok"
            + (failed > 0 ? ", " + failed + " failed" : "")
            + "; orders' timer made "
            + background
            + " background calls");
    for (DemoTraffic.Outcome x : outcomes) {
      if (!x.ok()) {
        err.println("hoptrace demo: checkout " + x.id() + ": " + x.status() + " " + x.body());
      }
    }
    out.println();

    String launcher = launcher();
    String logs = quote(dir.toString());
    Trace example = report.example;
    if (example != null) {
      String id = example.traceId();
      out.println(
          "One checkout as the three span logs tell it ("
              + launcher
              + " traces "
              + logs
              + " --trace "
              + id.substring(0, 12)
              + "):");
      out.println();
      List<String> args = new ArrayList<>();
      for (Path p : system.spanLogs()) args.add(p.toString());
      args.add("--trace");
      args.add(id);
      TracesCommand.run(args.toArray(String[]::new), out, err);
      out.println();
    } else {
      out.println(
          "No complete checkout with exact links in the span logs (see the link evidence below).");
      out.println();
    }
    DemoReport.printLegend(out);
    out.println();
    report.printEvidence(out, background);
    out.println();
    out.println(
        "Span logs (one Zipkin v2 JSON line per hop, any Zipkin-compatible backend reads them)");
    for (Path p : system.spanLogs()) out.println("  " + p);
    out.println();
    out.println("Try next");
    List<String[]> next = new ArrayList<>();
    next.add(new String[] {launcher + " traces " + logs, "every trace, newest first"});
    if (example != null) {
      next.add(
          new String[] {
            launcher + " traces " + logs + " --trace " + example.traceId().substring(0, 12),
            "the waterfall above"
          });
    }
    next.add(new String[] {launcher + " traces " + logs + " --serve 0", "the waterfall page"});
    if (!o.keepRunning) {
      next.add(new String[] {launcher + " demo --keep-running", "leave the services up to curl"});
    }
    int width = 0;
    for (String[] n : next) width = Math.max(width, n[0].length());
    for (String[] n : next) {
      out.println("  " + n[0] + " ".repeat(width - n[0].length()) + "   # " + n[1]);
    }
    if (!o.keepRunning) {
      out.printf(Locale.ROOT, "%ndone in %.1f s%n", (System.nanoTime() - started) / 1e9);
      out.flush();
      return failed == 0 && example != null ? 0 : 1;
    }
    return keepRunning(o, system, out, err, stopSignal);
  }

  private static int keepRunning(
      Options o, DemoSystem system, PrintStream out, PrintStream err, StopSignal stopSignal)
      throws InterruptedException {
    system.slowBackground(SLOW_BACKGROUND_MILLIS);
    TracesHttpServer page;
    try {
      page =
          TracesHttpServer.start(
              new InetSocketAddress(InetAddress.getLoopbackAddress(), o.serve),
              new TracesWebHandler(TraceSource.ofFiles(system.spanLogs())));
    } catch (IOException e) {
      system.close();
      err.println("hoptrace demo: --serve " + o.serve + ": cannot listen: " + e.getMessage());
      return 1;
    }
    DemoService front = system.front;
    DemoService orders = system.orders;
    DemoService inventory = system.inventory;
    out.println();
    out.println("Still running (--keep-running); Ctrl-C stops.");
    out.println("  waterfall page   http://127.0.0.1:" + page.port() + "/");
    out.println("  a checkout       curl " + front.url("/checkout/42"));
    out.println(
        "  as orders' app   curl -x http://"
            + text(orders.outboundAddress())
            + " "
            + inventory.url("/stock/42")
            + "   # a call with nothing in flight: root");
    out.println("  front's admin    curl http://" + text(front.adminAddress()) + "/metrics");
    out.println(
        "  orders' timer now calls inventory /health every "
            + SLOW_BACKGROUND_MILLIS / 1000
            + " s.");
    out.flush();
    stopSignal.await(
        () -> {
          page.close();
          system.close();
        },
        err);
    return 0;
  }

  /** Ctrl-C / SIGTERM: close everything (span lines flushed), then exit 0 as {@code run} does. */
  private static void untilCtrlC(Runnable stop, PrintStream err) throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  stop.run();
                  err.println("hoptrace demo: stopped");
                  err.flush();
                  stopped.countDown();
                  Runtime.getRuntime().halt(0);
                },
                "hoptrace-demo-shutdown"));
    stopped.await();
  }

  private static void printServices(DemoSystem system, Path dir, PrintStream out) {
    String row = "  %-10s %-17s %-17s %-23s %s%n";
    out.printf(row, "service", "app", "hoptrace inbound", "outbound (HTTP_PROXY)", "admin");
    for (DemoService s : system.services()) {
      out.printf(
          row,
          s.name,
          text(s.appAddress()),
          text(s.inboundAddress()),
          text(s.outboundAddress()),
          text(s.adminAddress()));
    }
    out.println();
    out.println("  front  GET /checkout/{id} -> orders GET /orders/{id}          (one call)");
    out.println(
        "  orders GET /orders/{id}   -> inventory GET /stock/{id}, /prices/{id}   (in parallel)");
    out.println(
        "  orders' timer, every "
            + DemoSystem.BACKGROUND_PERIOD_MILLIS
            + " ms -> inventory GET /health   (between checkouts)");
    out.println("  span logs: " + dir);
    out.println();
  }

  static String text(InetSocketAddress a) {
    return a.getAddress().getHostAddress() + ":" + a.getPort();
  }

  private static String quote(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!(Character.isLetterOrDigit(c) || "/._-+:@".indexOf(c) >= 0)) {
        return "'" + s.replace("'", "'\\''") + "'";
      }
    }
    return s;
  }

  /** How the user started hoptrace, for the commands to try next: {@code java -jar JAR}. */
  static String launcher() {
    try {
      var source = DemoCommand.class.getProtectionDomain().getCodeSource();
      if (source != null) {
        Path jar = Path.of(source.getLocation().toURI());
        if (jar.toString().endsWith(".jar")) {
          Path cwd = Path.of("").toAbsolutePath();
          return "java -jar " + quote((jar.startsWith(cwd) ? cwd.relativize(jar) : jar).toString());
        }
      }
    } catch (URISyntaxException | RuntimeException e) {
      // fall through to the documented path
    }
    return "java -jar proxy/target/hoptrace.jar";
  }

  /** Parsed flags. */
  static final class Options {
    int requests = DEFAULT_REQUESTS;
    @Nullable Path dir;
    boolean keepRunning;
    int serve = 0;
    boolean serveGiven;
    boolean help;

    static Options parse(String[] args) {
      Options o = new Options();
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        String inline = null;
        if (a.startsWith("--") && a.indexOf('=') > 0) {
          inline = a.substring(a.indexOf('=') + 1);
          a = a.substring(0, a.indexOf('='));
        }
        switch (a) {
          case "-h", "--help" -> o.help = true;
          case "--requests" -> o.requests = integer(value(args, ++i, a, inline), a, 1, 1000);
          case "--dir" -> o.dir = Path.of(value(args, ++i, a, inline));
          case "--keep-running" -> o.keepRunning = true;
          case "--serve" -> {
            o.serve = integer(value(args, ++i, a, inline), a, 0, 65535);
            o.serveGiven = true;
          }
          default -> throw new IllegalArgumentException("unknown option " + a);
        }
        if (inline != null) i--; // the value was part of this argument
      }
      if (o.serveGiven && !o.keepRunning) {
        throw new IllegalArgumentException("--serve needs --keep-running");
      }
      return o;
    }

    private static String value(String[] args, int i, String flag, @Nullable String inline) {
      if (inline != null) return inline;
      if (i >= args.length) throw new IllegalArgumentException(flag + ": missing value");
      return args[i];
    }

    private static int integer(String v, String flag, int min, int max) {
      try {
        int n = Integer.parseInt(v.strip());
        if (n >= min && n <= max) return n;
      } catch (NumberFormatException e) {
        // fall through to the message
      }
      throw new IllegalArgumentException(flag + ": " + v + " (expected: " + min + ".." + max + ")");
    }
  }
}
