package io.hoptrace.testbed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The timing-only ceiling on hand-built ground truth: who is eligible, and the oracle's odds. */
class CeilingTest {
  static final long MS = 1_000_000;
  final List<Truth.Call> calls = new ArrayList<>();

  /** Request {@code gt} of front, heading for a call to b /b since {@code phaseStart} ms. */
  Truth.Call call(String gt, double phaseStart, double at, double mean) {
    return call("front", gt, "b", "/b", phaseStart, at, mean);
  }

  Truth.Call call(
      String caller,
      String gt,
      String callee,
      String path,
      double phaseStart,
      double at,
      double mean) {
    Truth.Call c =
        new Truth.Call(
            caller,
            gt,
            gt + ".x",
            callee,
            1,
            true,
            path,
            (long) (at * MS),
            (long) (phaseStart * MS),
            mean);
    calls.add(c);
    return c;
  }

  @Test
  void exponential_uniformOverTheEligible_whateverTheirAges() {
    Truth.Call first = call("A", 0, 10, 5);
    call("B", 8, 12, 5); // began after A, still heading for the call at 10
    call("C", 9.5, 30, 5);
    Truth.Call last = call("D", 20, 31, 5); // began after 10: not eligible for A's call

    Ceiling ceiling = new Ceiling(calls, "exp");

    Ceiling.Odds odds = ceiling.of(first);
    assertThat(odds.eligible()).isEqualTo(3);
    assertThat(odds.ceiling()).isCloseTo(1 / 3.0, within(1e-9));
    // at 31, C has made its call (at 30): D alone
    assertThat(ceiling.of(last).eligible()).isEqualTo(1);
    assertThat(ceiling.of(last).ceiling()).isEqualTo(1.0);
  }

  @Test
  void requestsThatMadeTheCall_orHeadElsewhere_areNotEligible() {
    call("A", 0, 5, 5); // made its call before 10
    Truth.Call c = call("B", 2, 10, 5);
    call("front", "C", "c", "/c", 0, 20, 5); // heading for another destination
    call("front", "D", "b", "/other", 0, 20, 5); // another path
    call("mid", "E", "b", "/b", 0, 20, 5); // another caller
    call("F", 9, 11, 5);

    Ceiling.Odds odds = new Ceiling(calls, "exp").of(c);

    assertThat(odds.eligible()).isEqualTo(2); // B and F
    assertThat(odds.ceiling()).isCloseTo(0.5, within(1e-9));
  }

  @Test
  void exponential_aShorterPhaseIsLikelier() {
    Truth.Call order = call("A", 0, 10, 5); // hazard 1/5 per ms
    call("B", 0, 20, 10); // hazard 1/10

    assertThat(new Ceiling(calls, "exp").of(order).ceiling()).isCloseTo(2 / 3.0, within(1e-9));
  }

  @Test
  void aParallelSibling_isKnownToTheOracle() {
    call("front", "A", "b", "/b", 0, 10, 5);
    Truth.Call sibling = call("front", "A", "c", "/c", 10, 10, 0); // same instant as A's call
    call("front", "B", "c", "/c", 0, 1, 5); // B made its c call long ago
    call("front", "C", "b", "/b", 0, 30, 5); // C still heading for b: not for c

    Ceiling.Odds odds = new Ceiling(calls, "exp").of(sibling);

    assertThat(odds.eligible()).isEqualTo(1);
    assertThat(odds.ceiling()).isEqualTo(1.0);
  }

  @Test
  void timersHaveNoPhase_andAreNeverEligible() {
    Truth.Call c = call("A", 0, 10, 5);
    calls.add(new Truth.Call("front", null, "B1", "b", 1, true, "/b", 5 * MS, 5 * MS, -1));

    assertThat(new Ceiling(calls, "exp").of(c).eligible()).isEqualTo(1);
  }

  @Test
  void fixed_onlyTheDueAreEligibleInPractice() {
    Truth.Call due = call("A", 0, 10.2, 10); // 10 ms phase, made at 10.2 (a little late)
    call("B", 5, 15, 10); // 5.2 ms into its 10 ms: hazard 0
    call("C", 0.1, 10.3, 10); // also due

    Ceiling.Odds odds = new Ceiling(calls, "fixed").of(due);

    assertThat(odds.eligible()).isEqualTo(3);
    assertThat(odds.ceiling()).isCloseTo(0.5, within(1e-9));
  }

  @Test
  void hazards_matchDensityOverSurvival() {
    assertThat(Ceiling.hazard("exp", 5, 1 * MS)).isEqualTo(0.2);
    assertThat(Ceiling.hazard("exp", 5, 40 * MS)).isEqualTo(0.2);
    assertThat(Ceiling.hazard("uniform", 5, 0)).isCloseTo(0.1, within(1e-12));
    assertThat(Ceiling.hazard("uniform", 5, 5 * MS)).isCloseTo(0.2, within(1e-12));
    assertThat(Ceiling.hazard("uniform", 5, 10 * MS)).isInfinite();
    assertThat(Ceiling.hazard("fixed", 5, 4 * MS)).isZero();
    assertThat(Ceiling.hazard("anything", 0, 0)).isInfinite();
    // log-normal: against a numerical density / survival (trapezoid integration of the density)
    double mean = 10;
    double sigma = Dist.LOGNORMAL_SIGMA;
    double mu = Math.log(mean) - sigma * sigma / 2;
    for (double tau : new double[] {1, 5, 10, 30, 80}) {
      double f = density(tau, mu, sigma);
      double survival = 0;
      double step = 0.001;
      for (double x = tau; x < 5000; x += step) {
        survival += step * 0.5 * (density(x, mu, sigma) + density(x + step, mu, sigma));
        if (x > 200) step = 0.05;
      }
      assertThat(Ceiling.hazard("lognormal", mean, (long) (tau * MS)))
          .as("tau=%s", tau)
          .isCloseTo(f / survival, within(1e-3 * f / survival));
    }
    // far in the tail the ratio stays finite and grows (no 0/0)
    assertThat(Ceiling.hazard("lognormal", mean, 100_000 * MS))
        .isGreaterThan(Ceiling.hazard("lognormal", mean, 10_000 * MS) / 20)
        .isFinite();
    assertThatThrownBy(() -> new Ceiling(calls, "gamma"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("gamma");
  }

  static double density(double x, double mu, double sigma) {
    double z = (Math.log(x) - mu) / sigma;
    return Math.exp(-z * z / 2) / (x * sigma * Math.sqrt(2 * Math.PI));
  }
}
