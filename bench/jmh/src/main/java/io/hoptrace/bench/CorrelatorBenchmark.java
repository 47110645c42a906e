package io.hoptrace.bench;

import io.hoptrace.context.TraceContext;
import io.hoptrace.correlation.Correlator;
import io.hoptrace.correlation.Decision;
import io.hoptrace.correlation.InboundRegistry;
import io.hoptrace.correlation.InboundRequest;
import io.hoptrace.correlation.OutboundCall;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One correlator decision for an outbound call with no header, with 0 (root), 1 (sole) and 8
 * (inferred) inbound requests in flight at the app; and one decided by a forwarded traceparent.
 * {@code endedLongAgo}: that many inbound requests (64 fill the recently-ended array) ended long
 * before the call, past the grace window, as in the bench's outbound row after its inbound row
 * (bench/README.md, "Outbound path (s17)"): with none in flight, a call looks there first.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class CorrelatorBenchmark {
  @Param({"0", "1", "8"})
  int inFlight;

  @Param({"0", "64"})
  int endedLongAgo;

  InboundRegistry registry =
      InboundRegistry.newBuilder().period(Duration.ofHours(1)).build(); // no aging in a run
  Correlator correlator = new Correlator(registry);
  OutboundCall noHeader = OutboundCall.newBuilder().build();
  OutboundCall withHeader = OutboundCall.newBuilder().build();

  @Setup
  public void setup() {
    long longAgo = registry.ticker().read() - Duration.ofSeconds(30).toNanos();
    for (int i = 0; i < endedLongAgo; i++) {
      InboundRequest r =
          registry.begin(
              TraceContext.newRoot("old-" + i), "GET /orders", "old-" + i, null, longAgo);
      registry.delivered(r, longAgo);
      registry.end(r, longAgo + i);
    }
    TraceContext first = null;
    for (int i = 0; i < inFlight; i++) {
      TraceContext server = TraceContext.newRoot("req-" + i);
      if (first == null) first = server;
      InboundRequest r =
          registry.begin(server, "GET /orders", "req-" + i, null, registry.ticker().read());
      registry.delivered(r, registry.ticker().read());
    }
    long now = registry.ticker().read();
    noHeader =
        OutboundCall.newBuilder()
            .authority("payments:8080")
            .method("POST")
            .path("/charge")
            .startNanos(now)
            .build();
    withHeader =
        OutboundCall.newBuilder()
            .forwardedContext(first != null ? first : TraceContext.newRoot(null))
            .authority("payments:8080")
            .method("POST")
            .path("/charge")
            .startNanos(now)
            .build();
  }

  @Benchmark
  public Decision decide() {
    return correlator.decide(noHeader);
  }

  @Benchmark
  public Decision decide_header() {
    return correlator.decide(withHeader);
  }
}
