package io.hoptrace.proxy.spanlog;

import io.hoptrace.context.TraceContext;
import io.hoptrace.span.Kind;
import io.hoptrace.span.LineBuffer;
import io.hoptrace.span.Span;
import io.hoptrace.span.SpanLineEncoder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
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
 * One SERVER span line from the request path to the bytes the writer hands to {@code write}, the
 * whole per-span work on one thread (bench/README.md, "Span path (s15)"): as it was ({@code
 * before}: a {@link Span} built and copied, queued in an {@link ArrayBlockingQueue}, drained in
 * batches of 64 and encoded by the writer) and as it is ({@code after}: encoded from the builder
 * under the writer's lock into the pending buffer, which the writer swaps every 64 lines). The
 * wake-ups of the writer are not in it (see bench/lib/threads.sh). {@code after} is all on the
 * request thread but the swap; {@code before_requestThreadOnly} is what the request thread did
 * before. Run with {@code -prof gc}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class SpanPathBenchmark {
  static final int BATCH = 64;

  final TraceContext context = TraceContext.newRoot(null);
  final SpanLineEncoder encoder = SpanLineEncoder.create();
  final String requestId = "3f2b8c1e-9d4a-4e7b-a1c2-5d6e7f8a9b0c";

  // before: the queue of Span objects and the writer's batch
  final ArrayBlockingQueue<Span> queue = new ArrayBlockingQueue<>(16384);
  final List<Span> drained = new ArrayList<>(1024);
  final LineBuffer writerBuffer = new LineBuffer(64 * 1024);

  // after: the pending buffer and the writer's, swapped under the lock
  final Object lock = new Object();
  LineBuffer pending = new LineBuffer(64 * 1024);
  LineBuffer batch = new LineBuffer(64 * 1024);
  int pendingLines;

  int n;

  Span.Builder server() {
    return server(Span.newBuilder());
  }

  Span.Builder server(Span.Builder empty) {
    return empty
        .context(context)
        .kind(Kind.SERVER)
        .name("get /r/hoptrace-inbound")
        .timestampMicros(1_732_530_000_123_456L)
        .durationMicros(312)
        .serviceName("bench-a")
        .remoteEndpoint("127.0.0.1", 41234)
        .tag("http.method", "GET")
        .tag("http.path", "/r/hoptrace-inbound")
        .tag("http.status_code", "200")
        .tag("http.request_id", requestId)
        .tag("hoptrace.context", "started");
  }

  @Benchmark
  public int before() {
    queue.offer(server().build());
    if (++n % BATCH != 0) return n;
    writerBuffer.reset();
    queue.drainTo(drained, 1024);
    for (Span span : drained) encoder.encode(span, writerBuffer);
    drained.clear();
    return writerBuffer.length();
  }

  /** The request thread's share of {@link #before}: build and queue (the queue emptied unread). */
  @Benchmark
  public int before_requestThreadOnly() {
    queue.offer(server().build());
    if (++n % BATCH == 0) queue.clear();
    return n;
  }

  @Benchmark
  public int after() {
    return offer(server());
  }

  /** s16: {@link #after} with this thread's builder, emptied, instead of a new one per span. */
  @Benchmark
  public int reusedBuilder() {
    return offer(server(ThreadSpanBuilder.get()));
  }

  int offer(Span.Builder span) {
    synchronized (lock) {
      encoder.encode(span, pending);
      pendingLines++;
    }
    if (++n % BATCH != 0) return n;
    LineBuffer empty = batch;
    empty.reset();
    synchronized (lock) {
      batch = pending;
      pending = empty;
      pendingLines = 0;
    }
    return batch.length();
  }
}
