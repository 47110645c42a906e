package io.hoptrace.testbed;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CI smoke run of the accuracy testbed: three services in a chain, each behind its own
 * hoptrace, a few serial requests (one in flight at a time) and a short Poisson burst. The pipeline
 * must produce a score table, and serial calls (the sole case) must all be right. The real numbers
 * come from bench/accuracy.sh.
 */
class AccuracySmokeTest {
  @TempDir Path dir;

  final PrintStream quiet =
      new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);

  @Test
  void serialChain_everyCallRight_andTheTableRenders() throws Exception {
    AccuracyBench.Options serial =
        AccuracyBench.parse(
            new String[] {"--topologies", "chain", "--dist", "fixed", "--serial", "15"});
    serial = withOut(serial);

    Scorer.Result r = AccuracyBench.runOne("chain", "learned", serial, quiet);

    assertThat(r.n[0]).isEqualTo(30); // 15 requests x (front→b, b→c), all with one in flight
    assertThat(r.online[0]).isEqualTo(r.n[0]);
    assertThat(r.span[0]).isEqualTo(r.n[0]);
    assertThat(r.reconciled[0]).isEqualTo(r.n[0]);
    assertThat(r.unmatched).isZero();
    assertThat(r.links).containsOnlyKeys("sole");
    String table = Scorer.table(List.of(r));
    assertThat(table).contains("| learned | online (callee's trace id) | 30 | 100.0% |");
    // one request in flight: the oracle always knows, and the ceiling row says so
    assertThat(r.ceiling[0]).isEqualTo(30.0);
    assertThat(table).contains("| learned | ceiling (timing-only, oracle) | 30 | 100.0% |");
  }

  @Test
  void shortPoissonBurst_scoresEveryCall() throws Exception {
    AccuracyBench.Options burst =
        withOut(
            AccuracyBench.parse(
                new String[] {
                  "--topologies",
                  "mixed",
                  "--warmup",
                  "4:1",
                  "--phases",
                  "30:2",
                  "--max-requests",
                  "200"
                }));

    Scorer.Result r = AccuracyBench.runOne("mixed", "learned", burst, quiet);

    assertThat(r.total()).isGreaterThan(20);
    assertThat(r.unmatched).isLessThanOrEqualTo(r.total() / 20);
    assertThat(Scorer.details(r)).contains("background calls:");
    double ceiling = 0;
    for (int b = 0; b < Scorer.BUCKETS.length; b++) {
      ceiling += r.ceiling[b];
      assertThat(r.ceiling[b]).isBetween(0.0, (double) r.n[b]);
      assertThat(r.eligible[b]).isGreaterThanOrEqualTo(r.n[b]);
    }
    assertThat(ceiling).isPositive();
  }

  /**
   * The shop topology end to end (real sockets, the proxy's query parsing included): order calls
   * carry the order's id, and with several orders in flight the learned rule links by it. Few
   * calls, so only what must hold: value evidence is seen, and when it names one candidate it is
   * right far more often than not.
   */
  @Test
  void shopBurst_valueEvidenceReachesTheSpans() throws Exception {
    AccuracyBench.Options burst =
        withOut(
            AccuracyBench.parse(
                new String[] {
                  "--topologies",
                  "shop",
                  "--warmup",
                  "4:3",
                  "--phases",
                  "60:3",
                  "--max-requests",
                  "250"
                }));

    Scorer.Result r = AccuracyBench.runOne("shop", "learned", burst, quiet);

    assertThat(r.total()).isGreaterThan(20);
    assertThat(r.unmatched).isLessThanOrEqualTo(r.total() / 20);
    assertThat(r.value[0]).as("calls whose value only one candidate had").isPositive();
    assertThat(r.value[1]).isGreaterThanOrEqualTo(r.value[0] * 8 / 10);
    assertThat(Scorer.details(r)).contains("value-sharing evidence");
  }

  AccuracyBench.Options withOut(AccuracyBench.Options o) {
    return new AccuracyBench.Options(
        o.topologies(),
        o.rules(),
        o.dist(),
        o.warmup(),
        o.phases(),
        o.maxRequests(),
        dir,
        o.seed(),
        o.serial());
  }
}
