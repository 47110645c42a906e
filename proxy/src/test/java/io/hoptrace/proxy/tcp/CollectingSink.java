package io.hoptrace.proxy.tcp;

import io.hoptrace.span.Span;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A {@link SpanSink} that keeps spans in a list, for assertions. */
public final class CollectingSink implements SpanSink {
  final List<Span> spans = new ArrayList<>();

  @Override
  public synchronized void accept(Span span) {
    spans.add(span);
    notifyAll();
  }

  public synchronized List<Span> spans() {
    return new ArrayList<>(spans);
  }

  /** Waits (bounded) until at least {@code count} spans arrived; returns them all. */
  public synchronized List<Span> await(int count, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (spans.size() < count) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError(
            "expected " + count + " spans within " + timeout + ", got " + spans);
      }
      wait(Math.max(1L, left / 1_000_000L));
    }
    return new ArrayList<>(spans);
  }

  public synchronized void clear() {
    spans.clear();
  }
}
