package io.hoptrace.testbed;

import io.hoptrace.traces.SpanLogReader;
import io.hoptrace.traces.SpanRecord;
import io.hoptrace.traces.reconcile.Reconciler;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The accuracy benchmark (docs/accuracy.md; run by {@code bench/accuracy.sh}): for each topology
 * and each correlator rule, starts the toy services behind their hoptraces, warms up at a low rate
 * (the learned rule learns from the exact links it sees), then runs the measured phases of
 * open-loop Poisson load, stops everything (flushing the span logs), reconciles the logs, scores,
 * and prints markdown tables. Options:
 *
 * <pre>
 *   --topologies mixed,chain,fanout,shop
 *   --rules learned,learned_timing,most_recent,oldest   (learned_timing: without value sharing)
 *   --dist exp|fixed|uniform|lognormal
 *   --warmup RATE:SECONDS             (default 4:8)
 *   --phases RATE:SECONDS,...         (default 20:8,60:8,120:8)
 *   --max-requests N                  (default 20000, a hard bound)
 *   --out DIR                         (default target/accuracy)
 *   --seed N
 *   --serial N                        (N requests one at a time instead: the smoke check)
 * </pre>
 */
public final class AccuracyBench {
  record Options(
      List<String> topologies,
      List<String> rules,
      String dist,
      LoadGenerator.Phase warmup,
      List<LoadGenerator.Phase> phases,
      int maxRequests,
      Path out,
      long seed,
      int serial) {}

  public static void main(String[] args) throws Exception {
    java.util.logging.Logger.getLogger("io.undertow").setLevel(java.util.logging.Level.WARNING);
    java.util.logging.Logger.getLogger("org.xnio").setLevel(java.util.logging.Level.WARNING);
    Options o = parse(args);
    String report = run(o, System.out);
    Files.createDirectories(o.out());
    Files.writeString(o.out().resolve("report.md"), report, StandardCharsets.UTF_8);
    System.out.println(report);
    System.exit(0);
  }

  static Options parse(String[] args) {
    Map<String, String> a = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) throw new IllegalArgumentException("bad option: " + args[i]);
      a.put(args[i].substring(2), args[i + 1]);
    }
    return new Options(
        List.of(a.getOrDefault("topologies", "mixed").split(",", -1)),
        List.of(a.getOrDefault("rules", "learned,most_recent,oldest").split(",", -1)),
        a.getOrDefault("dist", "exp"),
        phases(a.getOrDefault("warmup", "4:8")).get(0),
        phases(a.getOrDefault("phases", "20:8,60:8,120:8")),
        Integer.parseInt(a.getOrDefault("max-requests", "20000")),
        Path.of(a.getOrDefault("out", "target/accuracy")),
        Long.parseLong(a.getOrDefault("seed", "1")),
        Integer.parseInt(a.getOrDefault("serial", "0")));
  }

  static List<LoadGenerator.Phase> phases(String spec) {
    List<LoadGenerator.Phase> phases = new ArrayList<>();
    for (String p : spec.split(",", -1)) {
      String[] rs = p.split(":", -1);
      phases.add(new LoadGenerator.Phase(Double.parseDouble(rs[0]), Double.parseDouble(rs[1])));
    }
    return phases;
  }

  /** Runs every topology x rule and returns the markdown report. */
  static String run(Options o, PrintStream log) throws Exception {
    StringBuilder report = new StringBuilder();
    report.append(
        String.format(
            Locale.ROOT,
            "dist=%s warmup=%s phases=%s seed=%d%n%n",
            o.dist(),
            o.warmup(),
            o.phases(),
            o.seed()));
    for (String topology : o.topologies()) {
      List<Scorer.Result> results = new ArrayList<>();
      for (String rule : o.rules()) {
        log.printf("accuracy: %s / %s ...%n", topology, rule);
        results.add(runOne(topology, rule, o, log));
      }
      report.append("### topology ").append(topology).append("\n\n");
      report.append(Scorer.table(results)).append('\n');
      for (Scorer.Result r : results) report.append(Scorer.details(r));
    }
    return report.toString();
  }

  /** Runs one topology with one rule and scores it (also what the smoke test calls). */
  static Scorer.Result runOne(String topologyName, String rule, Options o, PrintStream log)
      throws Exception {
    Topology topology = Topology.named(topologyName);
    Path dir = o.out().resolve(topologyName).resolve(rule);
    Files.createDirectories(dir);
    try (java.nio.file.DirectoryStream<Path> old = Files.newDirectoryStream(dir, "*.jsonl")) {
      for (Path file : old) Files.delete(file);
    }
    Truth truth = new Truth();
    AtomicBoolean measuring = new AtomicBoolean(false);
    Map<String, ToyApp> apps = new LinkedHashMap<>();
    LoadGenerator load = new LoadGenerator(o.seed());
    try {
      for (Topology.Service s : topology.services()) {
        apps.put(
            s.name(), new ToyApp(s, new Dist(o.dist(), 1), apps, truth, dir, rule, measuring::get));
      }
      ToyApp front = apps.get(topology.front().name());
      if (o.serial() > 0) {
        measuring.set(true);
        load.runSerial(front, o.serial());
      } else {
        load.run(front, List.of(o.warmup()), o.maxRequests());
        measuring.set(true);
        load.run(front, o.phases(), o.maxRequests());
      }
      measuring.set(false);
    } finally {
      List<ToyApp> reverse = new ArrayList<>(apps.values());
      java.util.Collections.reverse(reverse);
      for (ToyApp app : reverse) app.close();
    }
    truth.write(dir.resolve("truth.json"));
    List<Path> logs = new ArrayList<>();
    for (ToyApp app : apps.values()) logs.add(app.spanLog);
    List<SpanRecord> spans = new SpanLogReader().readAll(logs).spans();
    List<SpanRecord> reconciled = Reconciler.newBuilder().build().reconcile(spans);
    writeLines(dir.resolve("reconciled.spans.jsonl"), reconciled);
    long failures = load.failed.get();
    for (ToyApp app : apps.values()) failures += app.failures.get();
    log.printf(
        "accuracy: %s / %s: %d requests, %d failures, %d span lines%n",
        topologyName, rule, load.sent.get(), failures, spans.size());
    return Scorer.score(
        rule, truth.inbound(), truth.calls(), byId(spans), byId(reconciled), o.dist());
  }

  static Map<String, SpanRecord> byId(List<SpanRecord> spans) {
    Map<String, SpanRecord> m = new HashMap<>();
    for (SpanRecord s : spans) m.put(s.id(), s);
    return m;
  }

  static void writeLines(Path file, List<SpanRecord> spans) throws IOException {
    StringBuilder b = new StringBuilder();
    for (SpanRecord s : spans) b.append(s.line()).append('\n');
    Files.writeString(file, b, StandardCharsets.UTF_8);
  }

  private AccuracyBench() {}
}
