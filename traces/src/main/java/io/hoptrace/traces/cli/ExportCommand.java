package io.hoptrace.traces.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.hoptrace.traces.SpanLogFiles;
import io.hoptrace.traces.SpanLogReader;
import io.hoptrace.traces.SpanRecord;
import io.hoptrace.traces.export.OtlpHttpExporter;
import io.hoptrace.traces.export.SpanExporter;
import io.hoptrace.traces.export.ZipkinExporter;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * {@code hoptrace export --zipkin URL | --otlp URL [options] FILE|DIR...}: sends existing span logs
 * to a backend in bulk. Spans are read as {@code hoptrace traces} reads them (rotated files,
 * several services, duplicates once, bad lines skipped) and sent in batches with retries.
 */
public final class ExportCommand {
  static final String USAGE =
      """
      usage: hoptrace export (--zipkin URL | --otlp URL) [options] FILE|DIR...
        Sends span logs to a tracing backend.

        --zipkin URL       Zipkin v2 JSON: http://zipkin:9411 (POST /api/v2/spans is added)
        --otlp URL         OTLP/HTTP: http://collector:4318 (POST /v1/traces is added)
        --otlp-json        send OTLP as JSON instead of protobuf
        --batch-size N     spans per request (default 500)
        --timeout D        per request (default 10s)
        --retries N        retries per batch after a transient failure (default 3)
        --trace ID         only this trace
      """;

  private ExportCommand() {}

  /** Runs the command; returns the exit code: 0 ok, 2 bad usage, 1 some spans not sent. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    String zipkin = null;
    String otlp = null;
    boolean otlpJson = false;
    int batchSize = 500;
    long timeoutMicros = 10_000_000;
    int retries = 3;
    String trace = null;
    List<Path> paths = new ArrayList<>();
    try {
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        switch (a) {
          case "-h", "--help" -> {
            out.print(USAGE);
            return 0;
          }
          case "--zipkin" -> zipkin = value(args, ++i, a);
          case "--otlp" -> otlp = value(args, ++i, a);
          case "--otlp-json" -> otlpJson = true;
          case "--batch-size" -> batchSize = integer(value(args, ++i, a), a, 1, 100_000);
          case "--retries" -> retries = integer(value(args, ++i, a), a, 0, 100);
          case "--trace" -> trace = value(args, ++i, a).toLowerCase(java.util.Locale.ROOT);
          case "--timeout" -> {
            String v = value(args, ++i, a);
            timeoutMicros = Durations.parseMicros(v);
            if (timeoutMicros <= 0) {
              throw new IllegalArgumentException(a + ": " + v + " (expected: a duration like 10s)");
            }
          }
          default -> {
            if (a.startsWith("-") && a.length() > 1) {
              throw new IllegalArgumentException("unknown option " + a);
            }
            paths.add(Path.of(a));
          }
        }
      }
      if ((zipkin == null) == (otlp == null)) {
        throw new IllegalArgumentException("give exactly one of --zipkin URL or --otlp URL");
      }
      if (paths.isEmpty()) {
        throw new IllegalArgumentException("no span logs given (expected: FILE|DIR...)");
      }
    } catch (IllegalArgumentException e) {
      return usage(err, e.getMessage());
    }

    Duration timeout = Duration.ofNanos(TimeUnit.MICROSECONDS.toNanos(timeoutMicros));
    SpanExporter exporter;
    try {
      exporter =
          zipkin != null
              ? new ZipkinExporter(URI.create(zipkin), timeout)
              : new OtlpHttpExporter(
                  URI.create(otlp),
                  otlpJson ? OtlpHttpExporter.Encoding.JSON : OtlpHttpExporter.Encoding.PROTOBUF,
                  timeout);
    } catch (IllegalArgumentException e) {
      return usage(err, (zipkin != null ? "--zipkin: " : "--otlp: ") + e.getMessage());
    }

    List<Path> missing = new ArrayList<>();
    List<Path> files = SpanLogFiles.expand(paths, missing);
    for (Path m : missing) err.println("hoptrace export: not found or unreadable: " + m);
    SpanLogReader reader = new SpanLogReader().readAll(files);
    List<byte[]> lines = new ArrayList<>();
    for (SpanRecord s : reader.spans()) {
      if (trace == null || s.traceId().equals(trace) || s.traceId().endsWith(trace)) {
        lines.add(s.line().getBytes(UTF_8));
      }
    }

    long sent = 0;
    long failed = 0;
    int batches = 0;
    try (exporter) {
      for (int from = 0; from < lines.size(); from += batchSize) {
        List<byte[]> batch = lines.subList(from, Math.min(lines.size(), from + batchSize));
        batches++;
        SpanExporter.Result result = sendWithRetries(exporter, batch, retries);
        if (result == SpanExporter.Result.SUCCESS) {
          sent += batch.size();
        } else {
          failed += batch.size();
          err.println(
              "hoptrace export: batch of "
                  + batch.size()
                  + " spans not accepted: "
                  + exporter.lastError());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      err.println("hoptrace export: interrupted");
      return 1;
    }
    out.println(
        "exported "
            + sent
            + " of "
            + lines.size()
            + " spans in "
            + batches
            + (batches == 1 ? " batch" : " batches")
            + " to "
            + endpoint(exporter)
            + (reader.malformedLines() > 0
                ? "; " + reader.malformedLines() + " malformed lines skipped"
                : ""));
    return failed == 0 ? 0 : 1;
  }

  private static SpanExporter.Result sendWithRetries(
      SpanExporter exporter, List<byte[]> batch, int retries) throws InterruptedException {
    long delayMillis = 200;
    SpanExporter.Result result = exporter.export(batch);
    for (int i = 0; i < retries && result == SpanExporter.Result.RETRY; i++) {
      Thread.sleep(delayMillis);
      delayMillis = Math.min(5_000, delayMillis * 2);
      result = exporter.export(batch);
    }
    return result;
  }

  private static String endpoint(SpanExporter e) {
    if (e instanceof ZipkinExporter z) return z.endpoint().toString();
    if (e instanceof OtlpHttpExporter o) return o.endpoint().toString();
    return e.name();
  }

  private static int usage(PrintStream err, @Nullable String message) {
    err.println("hoptrace export: " + message);
    err.println("try: hoptrace export --help");
    return 2;
  }

  private static String value(String[] args, int i, String flag) {
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
