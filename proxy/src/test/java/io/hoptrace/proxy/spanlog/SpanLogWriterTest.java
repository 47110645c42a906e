package io.hoptrace.proxy.spanlog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hoptrace.config.Settings;
import io.hoptrace.span.Kind;
import io.hoptrace.span.Span;
import io.hoptrace.span.SpanLineEncoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 20, unit = TimeUnit.SECONDS)
class SpanLogWriterTest {
  @TempDir Path dir;

  static Settings.SpanLog settings(
      String path, long rotateSize, Duration rotateInterval, int queue) {
    return new Settings.SpanLog(path, rotateSize, rotateInterval, queue, Duration.ofMillis(10));
  }

  /** A span whose line is recognisable by its name, {@code get /n}. */
  static Span span(int i) {
    return Span.newBuilder()
        .traceId(1, 2)
        .id(i + 1)
        .kind(Kind.SERVER)
        .name("get /" + i)
        .serviceName("s")
        .build();
  }

  static String name(String line) {
    int at = line.indexOf("\"name\":\"") + 8;
    return line.substring(at, line.indexOf('"', at));
  }

  static List<String> names(Path file) throws IOException {
    List<String> out = new ArrayList<>();
    for (String line : Files.readAllLines(file)) out.add(name(line));
    return out;
  }

  @Test
  void offer_writesOneLinePerSpan_andCloseFlushesEveryLine() throws Exception {
    Path file = dir.resolve("spans.log");
    SpanLogWriter writer = new SpanLogWriter(settings(file.toString(), 0, Duration.ZERO, 10_000));
    for (int i = 0; i < 5000; i++) assertThat(writer.offer(span(i))).isTrue();
    writer.close();
    List<String> lines = names(file);
    assertThat(lines).hasSize(5000);
    assertThat(lines.get(4999)).isEqualTo("get /4999");
    assertThat(writer.written()).isEqualTo(5000);
    assertThat(writer.dropped()).isZero();
  }

  @Test
  void existingFile_isAppendedTo() throws Exception {
    Path file = dir.resolve("spans.log");
    Files.writeString(file, "{\"name\":\"old\"}\n");
    SpanLogWriter writer = new SpanLogWriter(settings(file.toString(), 0, Duration.ZERO, 10));
    writer.offer(span(1));
    writer.close();
    assertThat(names(file)).containsExactly("old", "get /1");
  }

  @Test
  void fullQueue_dropsAndCounts_neverBlocks() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    OutputStream stuckDisk =
        new OutputStream() {
          @Override
          public void write(int b) throws IOException {
            awaitRelease();
            sink.write(b);
          }

          @Override
          public void write(byte[] b, int off, int len) throws IOException {
            awaitRelease();
            sink.write(b, off, len);
          }

          private void awaitRelease() {
            try {
              release.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        };
    SpanLogWriter writer = new SpanLogWriter(settings("-", 0, Duration.ZERO, 4), stuckDisk);
    long t0 = System.nanoTime();
    int accepted = 0;
    for (int i = 0; i < 100_000; i++) {
      if (writer.offer(span(i))) accepted++;
    }
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
    assertThat(writer.dropped()).isEqualTo(100_000 - accepted).isPositive();
    release.countDown();
    writer.close();
    assertThat(writer.written()).isEqualTo(accepted);
    assertThat(sink.toString(StandardCharsets.UTF_8).split("\n", -1)).hasSize(accepted + 1);
  }

  @Test
  void offerAfterClose_isDropped() throws Exception {
    SpanLogWriter writer =
        new SpanLogWriter(settings(dir.resolve("s.log").toString(), 0, Duration.ZERO, 10));
    writer.close();
    assertThat(writer.offer(span(1))).isFalse();
    assertThat(writer.dropped()).isEqualTo(1);
  }

  @Test
  void rotatesBySize_keepingOnePreviousFile() throws Exception {
    Path file = dir.resolve("spans.log");
    SpanLogWriter writer = new SpanLogWriter(settings(file.toString(), 400, Duration.ZERO, 1000));
    List<String> all = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      writer.offer(span(i)); // ~150 bytes a line
      all.add("get /" + i);
      Thread.sleep(30); // let the writer catch up, so each line is its own batch
    }
    writer.close();
    assertThat(Files.exists(dir.resolve("spans.log.1"))).isTrue();
    assertThat(Files.size(dir.resolve("spans.log.1"))).isGreaterThanOrEqualTo(400);
    List<String> written = new ArrayList<>(names(dir.resolve("spans.log.1")));
    written.addAll(names(file));
    assertThat(written).isSubsetOf(all);
    assertThat(written.get(written.size() - 1)).isEqualTo("get /7");
  }

  @Test
  void rotatesByTime() throws Exception {
    Path file = dir.resolve("spans.log");
    SpanLogWriter writer =
        new SpanLogWriter(settings(file.toString(), 0, Duration.ofMillis(100), 1000));
    writer.offer(span(1));
    Thread.sleep(300);
    writer.offer(span(2));
    writer.close();
    assertThat(names(dir.resolve("spans.log.1"))).containsExactly("get /1");
    assertThat(names(file)).containsExactly("get /2");
  }

  /**
   * Once an interval passes without a line the writer parks with no deadline (it woke every flush
   * interval, idle or not), and the next offer still wakes it and is written.
   */
  @Test
  void idleWriter_parksWithoutADeadline_untilTheNextOffer() throws Exception {
    Path file = dir.resolve("spans.log");
    SpanLogWriter writer = new SpanLogWriter(settings(file.toString(), 0, Duration.ZERO, 1000));
    writer.offer(span(1));
    awaitWritten(writer, 1);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (writer.thread().getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(writer.thread().getState()).isEqualTo(Thread.State.WAITING);
    Thread.sleep(100); // ten flush intervals: it stays parked
    assertThat(writer.thread().getState()).isEqualTo(Thread.State.WAITING);
    writer.offer(span(2));
    awaitWritten(writer, 2);
    writer.close();
    assertThat(names(file)).containsExactly("get /1", "get /2");
  }

  /** An idle writer with lines in its file still wakes to rotate it once it is old enough. */
  @Test
  void idleWriter_rotatesByTime_withoutAnotherLine() throws Exception {
    Path file = dir.resolve("spans.log");
    SpanLogWriter writer =
        new SpanLogWriter(settings(file.toString(), 0, Duration.ofMillis(200), 1000));
    writer.offer(span(1));
    awaitWritten(writer, 1);
    Path previous = dir.resolve("spans.log.1");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!Files.exists(previous) && System.nanoTime() < deadline) Thread.sleep(10);
    assertThat(names(previous)).containsExactly("get /1");
    // The new file is empty: nothing to rotate, so the writer parks without a deadline again.
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (writer.thread().getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(writer.thread().getState()).isEqualTo(Thread.State.WAITING);
    writer.close();
    assertThat(Files.size(file)).isZero();
  }

  private static void awaitWritten(SpanLogWriter writer, long lines) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (writer.written() < lines && System.nanoTime() < deadline) Thread.sleep(1);
    assertThat(writer.written()).isEqualTo(lines);
  }

  @Test
  void offerBuilder_writesTheLineOfTheBuiltSpan() throws Exception {
    Path file = dir.resolve("spans.log");
    SpanLogWriter writer = new SpanLogWriter(settings(file.toString(), 0, Duration.ZERO, 10));
    Span.Builder b =
        Span.newBuilder().traceId(1, 2).id(3).kind(Kind.CLIENT).name("get /b").serviceName("s");
    assertThat(writer.offer(b.tag("k", "v"))).isTrue();
    b.name("get /reused"); // the builder is the caller's again once offer returned
    assertThat(writer.offer(b)).isTrue();
    writer.close();
    assertThat(Files.readAllLines(file))
        .containsExactly(
            SpanLineEncoder.create().encodeToString(b.name("get /b").build()),
            SpanLineEncoder.create().encodeToString(b.name("get /reused").build()));
  }

  /** The outbound hop's sink: a builder's line and a span's line, as offer writes them. */
  @Test
  void sink_writesBuildersAndSpans_asOfferDoes() throws Exception {
    Path file = dir.resolve("spans.log");
    SpanLogWriter writer = new SpanLogWriter(settings(file.toString(), 0, Duration.ZERO, 10));
    SpanSink sink = writer.sink();
    Span.Builder b =
        Span.newBuilder().traceId(1, 2).id(3).kind(Kind.CLIENT).name("get /b").serviceName("s");
    sink.acceptBuilder(b.tag("k", "v").remoteEndpoint("10.0.0.1", 80));
    b.name("get /reused"); // the caller's again once acceptBuilder returned
    sink.accept(span(7));
    writer.close();
    assertThat(Files.readAllLines(file))
        .containsExactly(
            SpanLineEncoder.create().encodeToString(b.name("get /b").build()),
            SpanLineEncoder.create().encodeToString(span(7)));
    assertThat(writer.written()).isEqualTo(2);
  }

  /** Any other sink (a test's list) gets the built span from acceptBuilder. */
  @Test
  void sinkDefault_acceptBuilder_buildsTheSpan() {
    List<Span> spans = new ArrayList<>();
    SpanSink sink = spans::add;
    Span.Builder b =
        Span.newBuilder().traceId(1, 2).id(3).kind(Kind.CLIENT).name("get /b").serviceName("s");
    sink.acceptBuilder(b);
    b.name("get /later");
    assertThat(spans).hasSize(1);
    assertThat(spans.get(0).name()).isEqualTo("get /b");
  }

  @Test
  void offerBuilder_refused_throws_andLeavesNoHalfLine() throws Exception {
    Path file = dir.resolve("spans.log");
    SpanLogWriter writer = new SpanLogWriter(settings(file.toString(), 0, Duration.ZERO, 10));
    assertThatThrownBy(() -> writer.offer(Span.newBuilder().traceId(1, 2).id(3)))
        .isInstanceOf(NullPointerException.class);
    writer.offer(span(7));
    writer.close();
    assertThat(names(file)).containsExactly("get /7");
    assertThat(writer.written()).isEqualTo(1);
    assertThat(writer.dropped()).isZero();
  }

  /**
   * Several request threads at once, while the writer swaps batches: every line whole, in order.
   */
  @Test
  void concurrentOffers_everyAcceptedLineWrittenWhole_inEachThreadsOrder() throws Exception {
    Path file = dir.resolve("spans.log");
    SpanLogWriter writer = new SpanLogWriter(settings(file.toString(), 0, Duration.ZERO, 1_000));
    int threads = 4;
    int each = 20_000;
    AtomicLong accepted = new AtomicLong();
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> offering = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      Thread th =
          new Thread(
              () -> {
                try {
                  start.await();
                } catch (InterruptedException e) {
                  return;
                }
                for (int i = 0; i < each; i++) {
                  if (writer.offer(span(thread * each + i))) accepted.incrementAndGet();
                }
              });
      th.start();
      offering.add(th);
    }
    start.countDown();
    for (Thread th : offering) th.join();
    writer.close();

    List<String> lines = Files.readAllLines(file);
    assertThat((long) lines.size()).isEqualTo(accepted.get()).isEqualTo(writer.written());
    assertThat(writer.written() + writer.dropped()).isEqualTo((long) threads * each);
    int[] last = new int[threads];
    java.util.Arrays.fill(last, -1);
    for (String line : lines) {
      assertThat(line).startsWith("{\"traceId\":").endsWith("}}");
      int n = Integer.parseInt(name(line).substring("get /".length()));
      int thread = n / each;
      assertThat(n).isGreaterThan(last[thread]); // each thread's lines in its order
      last[thread] = n;
    }
  }

  /**
   * A writer of {@code queue} lines with a 5 s flush interval, one line written: it is then
   * sleeping its whole interval.
   */
  private static SpanLogWriter sleepingWriter(Path file, int queue) throws Exception {
    SpanLogWriter writer =
        new SpanLogWriter(
            new Settings.SpanLog(file.toString(), 0, Duration.ZERO, queue, Duration.ofSeconds(5)));
    writer.offer(span(0)); // wakes the idle writer; it then sleeps a whole interval
    Thread.sleep(100);
    return writer;
  }

  /**
   * One batch larger than a write call is given ({@link SpanLogWriter#WRITE_SLICE_BYTES}): the
   * lines gather while the writer sleeps its interval, and close writes them in one batch, slice
   * after slice, every line whole and in order.
   */
  @Test
  void aBatchLargerThanOneWriteSlice_isWrittenWhole() throws Exception {
    Path file = dir.resolve("spans.log");
    SpanLogWriter writer = sleepingWriter(file, 10_000);
    int n = 1500;
    for (int i = 1; i <= n; i++) assertThat(writer.offer(span(i))).isTrue();
    long batchBytes = Files.size(file);
    writer.close();
    List<String> lines = names(file);
    assertThat(Files.size(file) - batchBytes).isGreaterThan(2L * SpanLogWriter.WRITE_SLICE_BYTES);
    assertThat(lines).hasSize(n + 1);
    for (int i = 0; i <= n; i++) assertThat(lines.get(i)).isEqualTo("get /" + i);
    assertThat(writer.written()).isEqualTo(n + 1);
  }

  /**
   * The writer sleeps a whole flush interval (5 s here) while lines arrive, but a burst past half
   * the queue wakes it at once: the burst is written, not dropped.
   */
  @Test
  void burstPastHalfTheQueue_wakesTheWriterBeforeItsInterval() throws Exception {
    Path file = dir.resolve("spans.log");
    SpanLogWriter writer = sleepingWriter(file, 100);
    for (int round = 0; round < 5; round++) {
      long before = writer.written();
      for (int i = 0; i < 60; i++) assertThat(writer.offer(span(i))).isTrue();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
      while (writer.written() < before + 50 && System.nanoTime() < deadline) Thread.sleep(1);
      assertThat(writer.written()).isGreaterThanOrEqualTo(before + 50); // long before 5 s
    }
    writer.close();
    assertThat(writer.dropped()).isZero();
    assertThat(writer.written()).isEqualTo(301);
  }
}
