package io.hoptrace.bench;

import io.hoptrace.context.TraceContext;
import io.hoptrace.propagation.w3c.TraceparentCodec;
import io.hoptrace.propagation.w3c.TracestateCodec;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
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
 * traceparent parse and format, what every hop does at least twice. Parsing to primitives ({@code
 * validate} plus the field accessors) is the allocation-free path; parsing to a {@link
 * TraceContext} allocates the context (and its builder, unless escape analysis removes it).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class TraceparentBenchmark {
  String valid = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  String invalid = "00-0af7651916cd43dd8448eb211c80319c-B7AD6B7169203331-01";
  String tracestate = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";
  TraceContext context = TraceContext.newRoot(null);
  char[] buffer = new char[TraceparentCodec.FORMAT_LENGTH];

  @Benchmark
  public void parse_toPrimitives(Blackhole bh) {
    String s = valid;
    int at = TraceparentCodec.validate(s, 0, s.length());
    if (at < 0) return;
    bh.consume(TraceparentCodec.traceIdHigh(s, at));
    bh.consume(TraceparentCodec.traceIdLow(s, at));
    bh.consume(TraceparentCodec.parentId(s, at));
    bh.consume(TraceparentCodec.flags(s, at));
  }

  @Benchmark
  public @Nullable TraceContext parse_toContext() {
    return TraceparentCodec.parse(valid);
  }

  @Benchmark
  public @Nullable TraceContext parse_invalid() {
    return TraceparentCodec.parse(invalid);
  }

  @Benchmark
  public char[] format_toChars() {
    TraceparentCodec.write(context, buffer);
    return buffer;
  }

  @Benchmark
  public String format_toString() {
    return TraceparentCodec.toString(context);
  }

  @Benchmark
  public @Nullable String parseAndFormat_toString() {
    TraceContext c = TraceparentCodec.parse(valid);
    return c == null ? null : TraceparentCodec.toString(c);
  }

  @Benchmark
  public char[] parseAndFormat_primitivesToChars() {
    String s = valid;
    int at = TraceparentCodec.validate(s, 0, s.length());
    TraceparentCodec.write(
        TraceparentCodec.traceIdHigh(s, at),
        TraceparentCodec.traceIdLow(s, at),
        TraceparentCodec.parentId(s, at),
        TraceparentCodec.flags(s, at),
        buffer);
    return buffer;
  }

  @Benchmark
  public @Nullable String tracestate_parseCanonical() {
    return TracestateCodec.parse(tracestate);
  }
}
