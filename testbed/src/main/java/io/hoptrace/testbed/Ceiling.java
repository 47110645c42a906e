package io.hoptrace.testbed;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The best any timing-only online rule could do, computed from the ground truth alone: an oracle
 * that knows, at the moment of each call, which requests are in flight at the app and in which
 * phase each is (which call it will make next, and since when it has been heading for it), and that
 * knows the true service-time distribution, but not which request made this call.
 *
 * <p>A request is <em>eligible</em> for a call of kind K (caller, callee, path) at time t when its
 * current phase ends in a call of kind K: it has not yet made that call, it is not waiting for an
 * earlier call's answer, and its endpoint makes such a call next. Given everything the oracle
 * knows, the probability that eligible request i made the call at t is proportional to the hazard
 * of its phase duration at its elapsed time, {@code h_i(t - phaseStart_i) = f_i / S_i}; the
 * Bayes-optimal choice is the largest, and it is right with probability {@code max h / Σ h}. That
 * expectation, per call, is the ceiling. With exponential phases the hazard is the constant {@code
 * 1/mean}: among eligible requests of the same endpoint the posterior is uniform, whatever their
 * ages. A call made together with the previous one (a parallel step) has an infinite hazard: the
 * oracle knows who just made the sibling call.
 *
 * <p>Reconcile and the refined span may exceed this ceiling: they also know what happened after the
 * call (when each candidate ended). Background (timer) calls are not scored and have no phase.
 */
final class Ceiling {
  private final String dist;
  private final Map<String, Group> byKind = new HashMap<>();

  /** The calls of one kind, sorted by phase start, and the longest phase among them. */
  private static final class Group {
    final List<Truth.Call> calls = new ArrayList<>();
    long longest;
  }

  Ceiling(List<Truth.Call> calls, String dist) {
    this.dist = new Dist(dist, 1).kind();
    for (Truth.Call c : calls) {
      if (c.phaseMeanMillis() < 0) continue;
      Group g = byKind.computeIfAbsent(c.kind(), k -> new Group());
      g.calls.add(c);
      g.longest = Math.max(g.longest, c.atNanos() - c.phaseStartNanos());
    }
    for (Group g : byKind.values()) {
      g.calls.sort(Comparator.comparingLong(Truth.Call::phaseStartNanos));
    }
  }

  /** The oracle's ceiling for one call and how many requests were eligible for it. */
  record Odds(double ceiling, int eligible) {}

  /** The probability that the Bayes-optimal timing-only choice for {@code c} is right. */
  Odds of(Truth.Call c) {
    Group g = byKind.get(c.kind());
    if (g == null || c.phaseMeanMillis() < 0) return new Odds(1, 1);
    long t = c.atNanos();
    int hi = upper(g.calls, t); // phases that began at or before t
    int eligible = 0;
    int infinite = 0;
    double sum = 0;
    double max = 0;
    for (int i = hi - 1; i >= 0; i--) {
      Truth.Call w = g.calls.get(i);
      if (t - w.phaseStartNanos() > g.longest) break; // no phase this long
      if (w.atNanos() < t) continue; // that request made this call already
      eligible++;
      double h = hazard(dist, w.phaseMeanMillis(), t - w.phaseStartNanos());
      if (h == Double.POSITIVE_INFINITY) {
        infinite++;
      } else {
        sum += h;
        max = Math.max(max, h);
      }
    }
    if (eligible == 0) return new Odds(1, 1); // cannot happen: c is its own window
    if (infinite > 0) return new Odds(1.0 / infinite, eligible);
    if (sum <= 0) return new Odds(1.0 / eligible, eligible);
    return new Odds(max / sum, eligible);
  }

  private static int upper(List<Truth.Call> calls, long t) {
    int lo = 0;
    int hi = calls.size();
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (calls.get(mid).phaseStartNanos() <= t) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /**
   * The hazard (per ms) of a phase of {@code kind} with mean {@code meanMillis} that has lasted
   * {@code elapsedNanos}: the density over the survival. Infinite for a phase that is due (mean 0,
   * a fixed phase past its length, a uniform one past its maximum).
   */
  static double hazard(String kind, double meanMillis, long elapsedNanos) {
    if (meanMillis <= 0) return Double.POSITIVE_INFINITY;
    double tau = elapsedNanos / 1e6;
    return switch (kind) {
      case "exp" -> 1 / meanMillis;
      case "fixed" -> tau >= meanMillis ? Double.POSITIVE_INFINITY : 0;
      case "uniform" ->
          tau >= 2 * meanMillis ? Double.POSITIVE_INFINITY : 1 / (2 * meanMillis - tau);
      case "lognormal" -> {
        if (tau <= 0) yield 0;
        double sigma = Dist.LOGNORMAL_SIGMA;
        double mu = Math.log(meanMillis) - sigma * sigma / 2;
        double z = (Math.log(tau) - mu) / sigma;
        yield millsInverse(z) / (sigma * tau);
      }
      default -> throw new IllegalArgumentException("dist: " + kind);
    };
  }

  /**
   * φ(z) / Q(z), the standard normal density over its upper tail, stable for large z: with Q(z) =
   * erfc(z/√2)/2 and the Chebyshev fit erfc(x) = t·exp(-x² + P(t)) (relative error below 1.2e-7,
   * Numerical Recipes' erfcc), the exp(-x²) cancels.
   */
  static double millsInverse(double z) {
    double x = z / Math.sqrt(2);
    double t = 1 / (1 + 0.5 * Math.abs(x));
    double poly =
        -1.26551223
            + t
                * (1.00002368
                    + t
                        * (0.37409196
                            + t
                                * (0.09678418
                                    + t
                                        * (-0.18628806
                                            + t
                                                * (0.27886807
                                                    + t
                                                        * (-1.13520398
                                                            + t
                                                                * (1.48851587
                                                                    + t
                                                                        * (-0.82215223
                                                                            + t
                                                                                * 0.17087277))))))));
    double density = Math.exp(-x * x) / Math.sqrt(2 * Math.PI);
    if (x >= 0) return 2 / (Math.sqrt(2 * Math.PI) * t * Math.exp(poly));
    double erfc = 2 - t * Math.exp(-x * x + poly);
    return density / (erfc / 2);
  }
}
