package io.hoptrace.traces.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class AsyncExportQueueTest {
  /** An exporter that answers from a script, then SUCCESS; records every batch size. */
  static final class ScriptedExporter implements SpanExporter {
    final ConcurrentLinkedQueue<Result> script = new ConcurrentLinkedQueue<>();
    final List<Integer> batches = Collections.synchronizedList(new ArrayList<>());
    final CountDownLatch release;

    ScriptedExporter(int blockedCalls) {
      this.release = new CountDownLatch(blockedCalls > 0 ? 1 : 0);
    }

    @Override
    public Result export(List<byte[]> spanLines) throws InterruptedException {
      batches.add(spanLines.size());
      release.await(10, TimeUnit.SECONDS);
      Result r = script.poll();
      return r == null ? Result.SUCCESS : r;
    }

    @Override
    public String name() {
      return "scripted";
    }
  }

  static AsyncExportQueue.Builder fast(SpanExporter e) {
    return AsyncExportQueue.newBuilder(e)
        .flushInterval(Duration.ofMillis(20))
        .backoff(Duration.ofMillis(1), Duration.ofMillis(4));
  }

  @Test
  void offer_batchesBySize() throws Exception {
    ScriptedExporter e = new ScriptedExporter(0);
    try (AsyncExportQueue q = fast(e).batchSize(3).flushInterval(Duration.ofSeconds(5)).build()) {
      for (int i = 0; i < 9; i++) q.offer("{}");
      assertThat(q.awaitIdle(Duration.ofSeconds(10))).isTrue();
      assertThat(q.sent()).isEqualTo(9);
      assertThat(e.batches).allMatch(n -> n <= 3);
    }
  }

  @Test
  void offer_partialBatch_isSentAfterTheFlushInterval() throws Exception {
    ScriptedExporter e = new ScriptedExporter(0);
    try (AsyncExportQueue q = fast(e).batchSize(100).build()) {
      q.offer("{}");
      q.offer("{}");
      assertThat(q.awaitIdle(Duration.ofSeconds(10))).isTrue();
      assertThat(q.sent()).isEqualTo(2);
      assertThat(e.batches).containsExactly(2);
    }
  }

  @Test
  void transientFailures_areRetriedWithBackoff() throws Exception {
    ScriptedExporter e = new ScriptedExporter(0);
    e.script.add(SpanExporter.Result.RETRY);
    e.script.add(SpanExporter.Result.RETRY);
    try (AsyncExportQueue q = fast(e).maxAttempts(5).build()) {
      q.offer("{}");
      assertThat(q.awaitIdle(Duration.ofSeconds(10))).isTrue();
      assertThat(q.sent()).isEqualTo(1);
      assertThat(q.retries()).isEqualTo(2);
      assertThat(q.failed()).isZero();
      assertThat(e.batches).containsExactly(1, 1, 1);
    }
  }

  @Test
  void retriesExhausted_countAsFailed() throws Exception {
    ScriptedExporter e = new ScriptedExporter(0);
    for (int i = 0; i < 3; i++) e.script.add(SpanExporter.Result.RETRY);
    try (AsyncExportQueue q = fast(e).maxAttempts(3).build()) {
      q.offer("{}");
      q.offer("{}");
      assertThat(q.awaitIdle(Duration.ofSeconds(10))).isTrue();
      assertThat(q.failed()).isEqualTo(2);
      assertThat(q.sent()).isZero();
    }
  }

  @Test
  void permanentFailure_isNotRetried() throws Exception {
    ScriptedExporter e = new ScriptedExporter(0);
    e.script.add(SpanExporter.Result.FAILURE);
    try (AsyncExportQueue q = fast(e).build()) {
      q.offer("{}");
      assertThat(q.awaitIdle(Duration.ofSeconds(10))).isTrue();
      assertThat(q.failed()).isEqualTo(1);
      assertThat(q.retries()).isZero();
    }
  }

  @Test
  void offer_whenFull_dropsWithoutBlocking() throws Exception {
    ScriptedExporter e = new ScriptedExporter(1); // the first export blocks until released
    try (AsyncExportQueue q =
        fast(e).capacity(4).batchSize(1).closeTimeout(Duration.ofSeconds(5)).build()) {
      long start = System.nanoTime();
      int accepted = 0;
      for (int i = 0; i < 1_000; i++) {
        if (q.offer("{}")) accepted++;
      }
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(1_000);
      assertThat(accepted).isBetween(4, 5); // the queue, plus possibly one in the worker's hands
      assertThat(q.dropped()).isEqualTo(1_000 - accepted);
      e.release.countDown();
      assertThat(q.awaitIdle(Duration.ofSeconds(10))).isTrue();
      assertThat(q.sent()).isEqualTo(accepted);
    }
  }

  @Test
  void close_sendsWhatIsQueuedThenRefuses() throws Exception {
    ScriptedExporter e = new ScriptedExporter(0);
    AsyncExportQueue q = fast(e).batchSize(2).flushInterval(Duration.ofSeconds(30)).build();
    for (int i = 0; i < 5; i++) q.offer("{}");
    q.close();
    assertThat(q.sent()).isEqualTo(5);
    assertThat(q.offer("{}")).isFalse();
    assertThat(q.dropped()).isEqualTo(1);
  }

  @Test
  void counters_areExposedAsSuppliers() throws Exception {
    ScriptedExporter e = new ScriptedExporter(0);
    try (AsyncExportQueue q = fast(e).build()) {
      q.offer("{}");
      assertThat(q.awaitIdle(Duration.ofSeconds(10))).isTrue();
      assertThat(q.sentCounter().getAsLong()).isEqualTo(1);
      assertThat(q.failedCounter().getAsLong()).isZero();
      assertThat(q.droppedCounter().getAsLong()).isZero();
    }
  }

  @Test
  void builder_rejectsNonsense() {
    ScriptedExporter e = new ScriptedExporter(0);
    assertThatThrownBy(() -> AsyncExportQueue.newBuilder(e).capacity(0))
        .hasMessage("capacity: 0 (expected: >= 1)");
    assertThatThrownBy(() -> AsyncExportQueue.newBuilder(e).flushInterval(Duration.ZERO))
        .hasMessageStartingWith("flushInterval: PT0S");
  }

  @Test
  void zipkinBody_joinsLinesWithoutReencoding() {
    byte[] body =
        ZipkinExporter.body(
            List.of(
                "{\"a\":1}\n".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                " {\"b\":2}".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                "\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    assertThat(new String(body, java.nio.charset.StandardCharsets.UTF_8))
        .isEqualTo("[{\"a\":1},{\"b\":2}]");
  }

  @Test
  void zipkinUrl_getsTheDefaultPath() {
    assertThat(
            new ZipkinExporter(java.net.URI.create("http://zipkin:9411"), Duration.ofSeconds(1))
                .endpoint())
        .hasToString("http://zipkin:9411/api/v2/spans");
    assertThat(
            new ZipkinExporter(java.net.URI.create("http://c:9411/custom"), Duration.ofSeconds(1))
                .endpoint())
        .hasToString("http://c:9411/custom");
    assertThatThrownBy(
            () -> new ZipkinExporter(java.net.URI.create("ftp://x"), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
