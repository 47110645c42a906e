package io.hoptrace.correlation;

import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import io.hoptrace.propagation.requestid.RequestIdCodec;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Two pieces of an inbound request's end (bench/README.md, "Inbound path (s18)"), before and after:
 * the request metrics (a Dropwizard meter mark, a timer update and the context outcome's mark; the
 * old meters read the clock and kept three moving averages each) and the ended-request store's
 * reading of a generated request id (checked, scanned for upper case and parsed per half, then in
 * one pass). The before variants are the old code, copied here.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class InboundEndBenchmark {
  final MetricRegistry oldRegistry = new MetricRegistry();
  final Meter oldRequests = oldRegistry.meter("hoptrace.inbound.requests");
  final Timer oldLatency = oldRegistry.timer("hoptrace.inbound.latency");
  final Meter oldStarted = oldRegistry.meter("hoptrace.inbound.context.started");
  final ProxyMetrics metrics = new ProxyMetrics();
  final String requestId = RequestIdCodec.newRequestId();
  long duration = 250_000;

  @Benchmark
  public void before_metrics() {
    oldRequests.mark();
    oldLatency.update(duration++ & 0xfffff, TimeUnit.NANOSECONDS);
    oldStarted.mark();
  }

  @Benchmark
  public void after_metrics() {
    metrics.requestDone(ProxyMetrics.Hop.INBOUND, duration++ & 0xfffff);
    metrics.inboundContext("started");
  }

  @Benchmark
  public void before_requestIdBits(Blackhole bh) {
    String rid = requestId;
    long hi = 0L;
    long lo = 0L;
    if (EndedRequests.isCanonicalUuid(rid)) {
      hi = RequestIdCodec.uuidToTraceIdHigh(rid);
      lo = RequestIdCodec.uuidToTraceIdLow(rid);
    }
    bh.consume(hi);
    bh.consume(lo);
  }

  @Benchmark
  public void after_requestIdBits(Blackhole bh) {
    String rid = requestId;
    long hi = 0L;
    long lo = 0L;
    if (EndedRequests.hasUuidShape(rid)) {
      hi = EndedRequests.canonicalHexHalf(rid, 0, 18);
      lo = EndedRequests.canonicalHexHalf(rid, 19, RequestIdCodec.UUID_LENGTH);
      if ((hi | lo) == -1L && !EndedRequests.isCanonicalUuid(rid)) {
        hi = 0L;
        lo = 0L;
      }
    }
    bh.consume(hi);
    bh.consume(lo);
  }
}
