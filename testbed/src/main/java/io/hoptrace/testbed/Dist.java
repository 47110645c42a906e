package io.hoptrace.testbed;

import java.util.Locale;
import java.util.Random;

/**
 * A service-time distribution with a given mean: {@code fixed}, {@code uniform} (0..2·mean), {@code
 * exp} (exponential) or {@code lognormal} (σ = 0.8). Samples are in nanoseconds.
 */
record Dist(String kind, double meanMillis) {
  static final double LOGNORMAL_SIGMA = 0.8;

  Dist {
    kind = kind.toLowerCase(Locale.ROOT);
    if (!kind.equals("fixed")
        && !kind.equals("uniform")
        && !kind.equals("exp")
        && !kind.equals("lognormal")) {
      throw new IllegalArgumentException(
          "dist: " + kind + " (expected: fixed, uniform, exp or lognormal)");
    }
    if (!(meanMillis >= 0)) {
      throw new IllegalArgumentException("mean: " + meanMillis + " (expected: >= 0)");
    }
  }

  Dist withMean(double millis) {
    return new Dist(kind, millis);
  }

  long sampleNanos(Random random) {
    double ms =
        switch (kind) {
          case "fixed" -> meanMillis;
          case "uniform" -> random.nextDouble() * 2 * meanMillis;
          case "exp" -> -Math.log(1 - random.nextDouble()) * meanMillis;
          default -> {
            double mu = Math.log(meanMillis) - LOGNORMAL_SIGMA * LOGNORMAL_SIGMA / 2;
            yield Math.exp(mu + LOGNORMAL_SIGMA * random.nextGaussian());
          }
        };
    return (long) (ms * 1_000_000);
  }

  @Override
  public String toString() {
    return kind + "(" + meanMillis + " ms)";
  }
}
