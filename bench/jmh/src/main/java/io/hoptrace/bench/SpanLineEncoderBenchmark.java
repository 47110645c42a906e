package io.hoptrace.bench;

import io.hoptrace.span.Kind;
import io.hoptrace.span.LineBuffer;
import io.hoptrace.span.Span;
import io.hoptrace.span.SpanLineEncoder;
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

/**
 * Encoding a typical span line (12 tags, ASCII, a parent, an IPv4 peer) into a reused buffer, as
 * the span-log writer thread does. Target: under 1 µs, no allocation.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class SpanLineEncoderBenchmark {
  final SpanLineEncoder encoder = SpanLineEncoder.create();
  final LineBuffer buffer = new LineBuffer();
  final Span typical =
      Span.newBuilder()
          .traceId(0x0af7651916cd43ddL, 0x8448eb211c80319cL)
          .id(0xb7ad6b7169203331L)
          .parentId(0x00f067aa0ba902b7L)
          .kind(Kind.CLIENT)
          .name("post /payments/charge")
          .timestampMicros(1_732_530_000_123_456L)
          .durationMicros(18_734)
          .serviceName("orders")
          .remoteEndpoint("10.42.7.19", 8080)
          .tag("http.method", "POST")
          .tag("http.path", "/payments/charge")
          .tag("http.status_code", "201")
          .tag("http.request_id", "3f2b8c1e-9d4a-4e7b-a1c2-5d6e7f8a9b0c")
          .tag("http.host", "payments.internal:8080")
          .tag("http.user_agent", "okhttp/4.12.0")
          .tag("http.request.size", "312")
          .tag("http.response.size", "1045")
          .tag("net.peer.name", "payments")
          .tag("hoptrace.link", "inferred")
          .tag("hoptrace.candidates", "3")
          .tag("hoptrace.score", "fewest_calls:calls=0,age_us=1520,ties=1")
          .build();

  @Benchmark
  public int encode() {
    buffer.reset();
    encoder.encode(typical, buffer);
    return buffer.length();
  }
}
