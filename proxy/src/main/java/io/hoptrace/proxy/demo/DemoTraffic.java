package io.hoptrace.proxy.demo;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The burst: checkouts sent to front's hoptrace from outside, most one at a time (each app then has
 * one request in flight, so every link is {@code sole}), the last fifth in rounds of {@link #ROUND}
 * at once (several in flight: the correlator has to choose, {@code inferred}). A progress line
 * shows how far it got: redrawn with {@code \r} on a terminal, a plain line every ten checkouts
 * otherwise.
 */
final class DemoTraffic {
  static final int ROUND = 4;

  /** How one checkout went. */
  record Outcome(String id, boolean concurrent, int status, String body) {
    boolean ok() {
      return status == 200;
    }
  }

  private final DemoSystem system;
  private final PrintStream out;
  private final boolean terminal;
  private final HttpClient caller =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private int done;
  private int failed;

  DemoTraffic(DemoSystem system, PrintStream out, boolean terminal) {
    this.system = system;
    this.out = out;
    this.terminal = terminal;
  }

  /** Number of checkouts sent one at a time out of {@code total}. */
  static int serialCount(int total) {
    return total - total / 5;
  }

  List<Outcome> run(int total) throws InterruptedException {
    List<Outcome> outcomes = new ArrayList<>(total);
    int serial = serialCount(total);
    progress(total);
    for (int i = 1; i <= serial; i++) {
      outcomes.add(record(checkout(String.valueOf(i), false), total));
    }
    ExecutorService pool = Executors.newFixedThreadPool(ROUND, DemoThreads.named("caller"));
    try {
      for (int first = serial + 1; first <= total; first += ROUND) {
        List<Future<Outcome>> round = new ArrayList<>();
        for (int i = first; i < first + ROUND && i <= total; i++) {
          String id = String.valueOf(i);
          round.add(pool.submit(() -> checkout(id, true)));
        }
        for (Future<Outcome> f : round) outcomes.add(record(await(f), total));
      }
    } finally {
      pool.shutdownNow();
    }
    if (terminal) out.println();
    out.flush();
    return outcomes;
  }

  private Outcome checkout(String id, boolean concurrent) throws InterruptedException {
    String url = system.front.url("/checkout/" + id);
    try {
      HttpResponse<String> response =
          system.checkout(
              () ->
                  caller.send(
                      HttpRequest.newBuilder(URI.create(url))
                          .timeout(Duration.ofSeconds(10))
                          .build(),
                      HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)));
      return new Outcome(id, concurrent, response.statusCode(), response.body().strip());
    } catch (IOException e) {
      return new Outcome(id, concurrent, 0, e.toString());
    }
  }

  private static Outcome await(Future<Outcome> f) throws InterruptedException {
    try {
      return f.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      return new Outcome("?", true, 0, e.toString());
    }
  }

  private Outcome record(Outcome o, int total) {
    done++;
    if (!o.ok()) failed++;
    progress(total);
    return o;
  }

  private void progress(int total) {
    if (terminal) {
      int width = 30;
      int filled = total == 0 ? width : done * width / total;
      out.print(
          "\r  traffic  ["
              + "#".repeat(filled)
              + ".".repeat(width - filled)
              + "] "
              + done
              + "/"
              + total
              + " checkouts"
              + (failed > 0 ? ", " + failed + " failed" : ""));
      out.flush();
    } else if (done == total || (done > 0 && done % 10 == 0)) {
      out.println(
          "  traffic  "
              + done
              + "/"
              + total
              + " checkouts"
              + (failed > 0 ? ", " + failed + " failed" : ""));
    }
  }
}
