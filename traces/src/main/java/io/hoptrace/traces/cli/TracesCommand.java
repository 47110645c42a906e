package io.hoptrace.traces.cli;

import static java.util.Objects.requireNonNull;

import io.hoptrace.traces.SpanFollower;
import io.hoptrace.traces.SpanLogFiles;
import io.hoptrace.traces.SpanLogReader;
import io.hoptrace.traces.Trace;
import io.hoptrace.traces.TraceAssembler;
import io.hoptrace.traces.TraceFilter;
import io.hoptrace.traces.TraceJson;
import io.hoptrace.traces.web.TraceSource;
import io.hoptrace.traces.web.TracesHttpServer;
import io.hoptrace.traces.web.TracesWebHandler;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * {@code hoptrace traces FILES|DIRS...}: reads span logs from any number of services and shows them
 * as traces — a list, one waterfall ({@code --trace}), a live feed ({@code --follow}) or a web page
 * ({@code --serve}).
 */
public final class TracesCommand {
  static final String USAGE =
      """
      usage: hoptrace traces [options] FILE|DIR...
        Reads span logs (rotated files and several services' logs merge) and shows traces.

        --trace ID            one trace as a waterfall (ID: trace id, unique prefix, or request id)
        --service NAME        only traces that touch this service
        --min-duration D      only traces at least this long (250ms, 1.5s, 2m)
        --status S            ok | error | any (default any)
        --since T, --until T  time window: an ISO instant (2026-11-25T10:00:00Z) or an age (15m)
        --query Q             a trace id (or prefix) or a request id
        --limit N             list at most N traces (default 20; 0 = all)
        --follow              keep reading; print each trace once no span arrived for a while
        --quiet-period D      how long "a while" is for --follow (default 2s)
        --waterfall           with --follow: print each trace as a waterfall, not one line
        --serve PORT          serve the waterfall page on PORT (0: any free port)
        --bind ADDR           address for --serve (default 127.0.0.1)
        --json                machine-readable output
        --width N             output width (default: $COLUMNS, else 100)
        --no-color, --color   colour is on only when writing to a terminal
        --ascii, --unicode    drawing characters (default: Unicode when the locale is UTF-8)
      """;

  private TracesCommand() {}

  /** Runs the command; returns the exit code: 0 ok, 2 bad usage, 1 other failure. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return run(args, out, err, Environment.system());
  }

  /** What the command reads from its surroundings, pinned in tests. */
  record Environment(
      LongSupplier nowMicros, Map<String, String> env, boolean terminal, LongSupplier nanoTime) {
    static Environment system() {
      return new Environment(
          () -> TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis()),
          System.getenv(),
          isTerminal(),
          System::nanoTime);
    }

    /**
     * Colour only on a terminal. Up to JDK 21 {@code System.console()} is null when stdout is
     * redirected; from JDK 22 it is never null and {@code isTerminal()} tells.
     */
    @SuppressWarnings("SystemConsoleNull") // the JDK 22+ case is handled by isTerminal() below
    static boolean isTerminal() {
      java.io.Console console = System.console();
      if (console == null) return false;
      try {
        Object terminal = java.io.Console.class.getMethod("isTerminal").invoke(console);
        return Boolean.TRUE.equals(terminal);
      } catch (ReflectiveOperationException e) {
        return true; // JDK 17..21: a non-null console is a terminal
      }
    }
  }

  static int run(String[] args, PrintStream out, PrintStream err, Environment environment) {
    requireNonNull(args, "args");
    Options o;
    try {
      o = Options.parse(args, environment);
    } catch (IllegalArgumentException e) {
      err.println("hoptrace traces: " + e.getMessage());
      err.println("try: hoptrace traces --help");
      return 2;
    }
    if (o.help) {
      out.print(USAGE);
      return 0;
    }
    try {
      if (o.serve >= 0) return serve(o, out, err);
      if (o.follow) return follow(o, out, environment);
      return o.trace != null ? showTrace(o, out, err) : list(o, out, err);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 0; // --follow and --serve end when interrupted
    }
  }

  private static List<Path> files(Options o, PrintStream err) {
    List<Path> missing = new ArrayList<>();
    List<Path> files = SpanLogFiles.expand(o.paths, missing);
    for (Path m : missing) err.println("hoptrace traces: not found or unreadable: " + m);
    return files;
  }

  private static int list(Options o, PrintStream out, PrintStream err) {
    List<Path> files = files(o, err);
    SpanLogReader reader = new SpanLogReader().readAll(files);
    reportProblems(reader, err);
    List<Trace> matching = new ArrayList<>();
    for (Trace t : TraceAssembler.assemble(reader.spans())) {
      if (o.filter.matches(t)) matching.add(t);
    }
    List<Trace> shown =
        o.limit == 0 ? matching : matching.subList(0, Math.min(o.limit, matching.size()));
    if (o.json) {
      out.println(
          TraceJson.list(shown, matching.size(), reader.spans().size(), reader.malformedLines()));
      return 0;
    }
    for (String line : TraceListRenderer.render(shown, o.style)) out.println(line);
    StringBuilder summary = new StringBuilder();
    summary
        .append(shown.size() < matching.size() ? shown.size() + " of " : "")
        .append(matching.size())
        .append(matching.size() == 1 ? " trace" : " traces")
        .append(", ")
        .append(reader.spans().size())
        .append(" spans from ")
        .append(files.size())
        .append(files.size() == 1 ? " file" : " files");
    if (reader.malformedLines() > 0) {
      summary.append("; ").append(reader.malformedLines()).append(" malformed lines skipped");
    }
    out.println(summary);
    return 0;
  }

  private static int showTrace(Options o, PrintStream out, PrintStream err) {
    SpanLogReader reader = new SpanLogReader().readAll(files(o, err));
    reportProblems(reader, err);
    String q = requireNonNull(o.trace).toLowerCase(Locale.ROOT);
    TraceFilter f = TraceFilter.newBuilder().query(q).build();
    List<Trace> found = new ArrayList<>();
    for (Trace t : TraceAssembler.assemble(reader.spans())) {
      if (t.traceId().equals(q)) {
        found.clear();
        found.add(t);
        break;
      }
      if (f.matches(t)) found.add(t);
    }
    if (found.isEmpty()) {
      err.println("hoptrace traces: no trace matches " + o.trace);
      return 1;
    }
    if (found.size() > 1) {
      err.println(
          "hoptrace traces: " + found.size() + " traces match " + o.trace + "; give more digits:");
      for (Trace t : found) err.println("  " + t.traceId() + "  " + t.rootName());
      return 2;
    }
    Trace t = found.get(0);
    if (o.json) {
      out.println(TraceJson.trace(t));
    } else {
      for (String line : WaterfallRenderer.render(t, o.style)) out.println(line);
    }
    return 0;
  }

  private static int follow(Options o, PrintStream out, Environment environment)
      throws InterruptedException {
    if (!o.json && !o.waterfall) {
      out.println(TraceListRenderer.render(List.of(), o.style).get(0));
    }
    SpanFollower follower =
        new SpanFollower(
            o.paths,
            TimeUnit.MICROSECONDS.toNanos(o.quietPeriodMicros),
            t -> {
              if (!o.filter.matches(t)) return;
              if (o.json) {
                out.println(TraceJson.summary(t));
              } else if (o.waterfall) {
                for (String line : WaterfallRenderer.render(t, o.style)) out.println(line);
                out.println();
              } else {
                List<String> lines = TraceListRenderer.render(List.of(t), o.style);
                out.println(lines.get(1));
              }
              out.flush();
            });
    long sleepMillis = Math.max(10, Math.min(500, o.quietPeriodMicros / 4_000));
    while (!Thread.currentThread().isInterrupted()) {
      follower.poll(environment.nanoTime().getAsLong());
      Thread.sleep(sleepMillis);
    }
    return 0;
  }

  private static int serve(Options o, PrintStream out, PrintStream err)
      throws InterruptedException {
    InetSocketAddress address;
    try {
      address = new InetSocketAddress(InetAddress.getByName(o.bind), o.serve);
    } catch (UnknownHostException e) {
      err.println("hoptrace traces: --bind: unknown address " + o.bind);
      return 2;
    }
    TracesWebHandler handler = new TracesWebHandler(TraceSource.ofFiles(o.paths));
    try (TracesHttpServer server = TracesHttpServer.start(address, handler)) {
      out.println(
          "hoptrace traces: serving http://"
              + hostLiteral(server.address())
              + ":"
              + server.port()
              + "/ (Ctrl-C stops)");
      out.flush();
      while (true) Thread.sleep(60_000);
    } catch (IOException e) {
      err.println("hoptrace traces: cannot listen on " + address + ": " + e.getMessage());
      return 1;
    }
  }

  private static String hostLiteral(InetSocketAddress a) {
    String host = a.getAddress().getHostAddress();
    return host.contains(":") ? "[" + host + "]" : host;
  }

  private static void reportProblems(SpanLogReader reader, PrintStream err) {
    for (String u : reader.unreadable()) err.println("hoptrace traces: unreadable: " + u);
  }

  /** Parsed flags. */
  static final class Options {
    final List<Path> paths = new ArrayList<>();
    @Nullable String trace;
    TraceFilter filter = TraceFilter.ALL;
    int limit = 20;
    boolean json;
    boolean follow;
    boolean waterfall;
    long quietPeriodMicros = 2_000_000;
    int serve = -1;
    String bind = "127.0.0.1";
    boolean help;
    Style style = new Style(100, false, false);

    static Options parse(String[] args, Environment environment) {
      Options o = new Options();
      TraceFilter.Builder filter = TraceFilter.newBuilder();
      Integer width = null;
      Boolean color = null;
      Boolean unicode = null;
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        String inline = null;
        if (a.startsWith("--") && a.indexOf('=') > 0) {
          inline = a.substring(a.indexOf('=') + 1);
          a = a.substring(0, a.indexOf('='));
        }
        switch (a) {
          case "-h", "--help" -> o.help = true;
          case "--trace" -> o.trace = value(args, ++i, a, inline);
          case "--service" -> filter.service(value(args, ++i, a, inline));
          case "--min-duration" ->
              filter.minDurationMicros(duration(value(args, ++i, a, inline), a));
          case "--status" -> filter.status(status(value(args, ++i, a, inline)));
          case "--since" ->
              filter.sinceMicros(instant(value(args, ++i, a, inline), a, environment));
          case "--until" ->
              filter.untilMicros(instant(value(args, ++i, a, inline), a, environment));
          case "--query", "-q" -> filter.query(value(args, ++i, a, inline));
          case "--limit" -> o.limit = integer(value(args, ++i, a, inline), a, 0, 1_000_000);
          case "--json" -> o.json = true;
          case "--follow", "-f" -> o.follow = true;
          case "--waterfall" -> o.waterfall = true;
          case "--quiet-period" -> o.quietPeriodMicros = duration(value(args, ++i, a, inline), a);
          case "--serve" -> o.serve = integer(value(args, ++i, a, inline), a, 0, 65535);
          case "--bind" -> o.bind = value(args, ++i, a, inline);
          case "--width" ->
              width = integer(value(args, ++i, a, inline), a, Style.MIN_WIDTH, Style.MAX_WIDTH);
          case "--no-color" -> color = false;
          case "--color" -> color = true;
          case "--ascii" -> unicode = false;
          case "--unicode" -> unicode = true;
          default -> {
            if (a.startsWith("-") && a.length() > 1) {
              throw new IllegalArgumentException("unknown option " + a);
            }
            o.paths.add(Path.of(a));
          }
        }
        if (inline != null) i--; // the value was part of this argument
      }
      if (o.help) return o;
      if (o.paths.isEmpty()) {
        throw new IllegalArgumentException("no span logs given (expected: FILE|DIR...)");
      }
      if (o.trace != null && o.follow) {
        throw new IllegalArgumentException("--trace and --follow do not combine");
      }
      if (o.serve >= 0 && (o.follow || o.trace != null)) {
        throw new IllegalArgumentException("--serve does not combine with --trace or --follow");
      }
      if (o.quietPeriodMicros <= 0 || o.quietPeriodMicros > 3_600_000_000L) {
        throw new IllegalArgumentException("--quiet-period: expected 1ms..1h");
      }
      o.filter = filter.build();
      Map<String, String> env = environment.env();
      if (width == null) width = columns(env.get("COLUMNS"));
      if (color == null) color = environment.terminal() && !env.containsKey("NO_COLOR");
      if (unicode == null) unicode = utf8Locale(env);
      o.style = new Style(width, color, unicode);
      return o;
    }

    private static String value(String[] args, int i, String flag, @Nullable String inline) {
      if (inline != null) return inline;
      if (i >= args.length) throw new IllegalArgumentException(flag + ": missing value");
      return args[i];
    }

    private static long duration(String v, String flag) {
      long micros = Durations.parseMicros(v);
      if (micros < 0) {
        throw new IllegalArgumentException(flag + ": " + v + " (expected: a duration like 250ms)");
      }
      return micros;
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

    private static TraceFilter.Status status(String v) {
      return switch (v.strip().toLowerCase(Locale.ROOT)) {
        case "ok" -> TraceFilter.Status.OK;
        case "error", "errors" -> TraceFilter.Status.ERROR;
        case "any", "all" -> TraceFilter.Status.ANY;
        default ->
            throw new IllegalArgumentException("--status: " + v + " (expected: ok|error|any)");
      };
    }

    /** An ISO instant, or an age such as {@code 15m} (that long before now). */
    private static long instant(String v, String flag, Environment environment) {
      long age = Durations.parseMicros(v);
      if (age >= 0 && !v.contains("T")) return environment.nowMicros().getAsLong() - age;
      try {
        Instant i = Instant.parse(v.strip());
        return TimeUnit.SECONDS.toMicros(i.getEpochSecond()) + i.getNano() / 1_000;
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException(
            flag + ": " + v + " (expected: 2026-11-25T10:00:00Z or an age like 15m)");
      }
    }

    private static int columns(@Nullable String columns) {
      if (columns != null) {
        try {
          int n = Integer.parseInt(columns.strip());
          if (n > 0) return Math.max(Style.MIN_WIDTH, Math.min(Style.MAX_WIDTH, n));
        } catch (NumberFormatException e) {
          // not a number: use the default
        }
      }
      return 100;
    }

    private static boolean utf8Locale(Map<String, String> env) {
      for (String key : new String[] {"LC_ALL", "LC_CTYPE", "LANG"}) {
        String v = env.get(key);
        if (v != null && !v.isEmpty()) {
          String l = v.toLowerCase(Locale.ROOT);
          return l.contains("utf-8") || l.contains("utf8");
        }
      }
      return false;
    }
  }
}
