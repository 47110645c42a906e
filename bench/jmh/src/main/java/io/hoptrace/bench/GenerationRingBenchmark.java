package io.hoptrace.bench;

import io.hoptrace.store.GenerationRing;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The generation ring on the request path: one put and one get per inbound request (register, then
 * look up), with the system ticker, as the proxy runs it. Target: put+get under 150 ns.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class GenerationRingBenchmark {
  static final int KEYS = 4096; // a power of two: the index is a mask

  GenerationRing<Long, Long> ring =
      GenerationRing.newBuilder()
          .generations(3)
          .period(Duration.ofHours(1)) // no advance inside a run: steady state
          .capPerGeneration(65_536)
          .build();
  final Long[] keys = new Long[KEYS];
  final Long[] absent = new Long[KEYS];
  int next;

  @Setup
  public void setup() {
    for (int i = 0; i < KEYS; i++) {
      keys[i] = 0x9e3779b97f4a7c15L * (i + 1); // span-id-like: spread bits
      absent[i] = -keys[i];
      ring.put(keys[i], keys[i]);
    }
  }

  /** Register then look up: the pair every inbound request costs. */
  @Benchmark
  public Long putGet() {
    Long k = keys[next++ & (KEYS - 1)];
    ring.put(k, k);
    return ring.get(k);
  }

  /** A hit in the current generation. */
  @Benchmark
  public Long getHit() {
    return ring.get(keys[next++ & (KEYS - 1)]);
  }

  /** A miss: the worst case, every generation is tried. */
  @Benchmark
  public Long getMiss() {
    return ring.get(absent[next++ & (KEYS - 1)]);
  }
}
