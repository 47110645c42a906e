package io.hoptrace.proxy;

import io.hoptrace.config.Settings;
import io.hoptrace.config.SettingsException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;

/** {@code hoptrace run}: parse flags, load settings, start, and drain on Ctrl-C / SIGTERM. */
final class RunCommand implements Command {
  static final String USAGE =
      """
      usage: hoptrace run [options]

        --service NAME        service name on every span line         (service)
        --inbound [HOST:]PORT inbound listener; 0 = ephemeral          (inbound.host, inbound.port)
        --app HOST:PORT       the app to forward to                    (app)
        --outbound [HOST:]PORT outbound listener (the app's HTTP_PROXY) (outbound.host, outbound.port)
        --admin [HOST:]PORT   /healthz /readyz /metrics; off if absent (admin.host, admin.port)
        --span-log PATH|-     span lines to a file, or - for stdout    (span-log.path)
        --config FILE         HOCON settings file (see reference.conf)
        --set KEY=VALUE       any other setting, e.g. --set drain-time=30s
        --help                print this help

      Precedence: flags > HOPTRACE_* environment variables > --config file > defaults.
      Each bound listener prints one line to stderr: "hoptrace: NAME listening on HOST:PORT".
      Exit codes: 0 clean shutdown, 2 bad configuration, 1 other failure.
      """;

  @Override
  public int run(String[] args, PrintStream out, PrintStream err) {
    Map<String, String> overrides = new LinkedHashMap<>();
    Path configFile = null;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (arg.equals("--help") || arg.equals("-h")) {
        out.print(USAGE);
        return 0;
      }
      String value;
      int eq = arg.indexOf('=');
      String flag = arg.startsWith("--") && eq > 0 ? arg.substring(0, eq) : arg;
      if (eq > 0 && arg.startsWith("--")) {
        value = arg.substring(eq + 1);
      } else if (i + 1 < args.length) {
        value = args[++i];
      } else {
        return usageError(err, "missing value for " + arg);
      }
      switch (flag) {
        case "--service" -> overrides.put("service", value);
        case "--inbound" -> listener(overrides, "inbound", value);
        case "--app" -> overrides.put("app", value);
        case "--outbound" -> listener(overrides, "outbound", value);
        case "--admin" -> listener(overrides, "admin", value);
        case "--span-log" -> overrides.put("span-log.path", value);
        case "--config" -> configFile = Path.of(value);
        case "--set" -> {
          int kv = value.indexOf('=');
          if (kv <= 0) return usageError(err, "--set expects KEY=VALUE, got " + value);
          overrides.put(value.substring(0, kv), value.substring(kv + 1));
        }
        default -> {
          return usageError(err, "unknown option " + arg);
        }
      }
    }

    Settings settings;
    try {
      settings = Settings.load(configFile, System.getenv(), overrides);
    } catch (SettingsException e) {
      err.println("hoptrace: bad configuration: " + e.getMessage());
      return 2;
    }
    return serve(settings, err);
  }

  /** {@code PORT} or {@code HOST:PORT}. */
  private static void listener(Map<String, String> overrides, String name, String value) {
    int colon = value.lastIndexOf(':');
    if (colon > 0) {
      String host = value.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
      overrides.put(name + ".host", host);
      overrides.put(name + ".port", value.substring(colon + 1));
    } else {
      overrides.put(name + ".port", value);
    }
  }

  private static int usageError(PrintStream err, String message) {
    err.println("hoptrace run: " + message);
    err.print(USAGE);
    return 2;
  }

  private static int serve(Settings settings, PrintStream err) {
    Hoptrace hoptrace;
    try {
      hoptrace = Hoptrace.start(settings, err);
    } catch (Exception e) {
      err.println("hoptrace: cannot start: " + describe(e));
      return 1;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    // Ctrl-C and SIGTERM run shutdown hooks; the drain happens in the hook, then the process
    // ends with 0 rather than the JVM's 130/143: a requested shutdown that drained is clean.
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  err.println(
                      "hoptrace: shutting down, draining for up to "
                          + settings.drainTime().toMillis()
                          + "ms");
                  hoptrace.close();
                  err.println("hoptrace: stopped");
                  err.flush();
                  stopped.countDown();
                  Runtime.getRuntime().halt(0);
                },
                "hoptrace-shutdown"));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  private static String describe(Throwable e) {
    @Nullable Throwable t = e;
    StringBuilder b = new StringBuilder();
    while (t != null) {
      if (b.length() > 0) b.append(": ");
      b.append(t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName());
      t = t.getCause() == t ? null : t.getCause();
    }
    return b.toString();
  }
}
