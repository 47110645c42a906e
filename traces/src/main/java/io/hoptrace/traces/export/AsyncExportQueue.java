package io.hoptrace.traces.export;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Exports span lines off the request path: {@link #offer} never blocks (a full queue drops the line
 * and counts it), one worker thread sends batches, retrying transient failures with exponential
 * backoff. Counters — spans {@link #sent}, {@link #failed} (refused, or retries exhausted) and
 * {@link #dropped} (queue full, or still queued at shutdown) — are plain getters for a metrics
 * bridge.
 */
public final class AsyncExportQueue implements AutoCloseable {
  private final SpanExporter exporter;
  private final ArrayBlockingQueue<byte[]> queue;
  private final int batchSize;
  private final long flushIntervalNanos;
  private final Backoff backoff;
  private final long closeTimeoutNanos;
  private final Thread worker;
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong retries = new AtomicLong();
  private volatile boolean closed;
  private volatile long closeDeadlineNanos = Long.MAX_VALUE;
  private final Object idle = new Object();
  // Offered and not yet sent or given up on (queued + in the worker's hands).
  private final AtomicLong outstanding = new AtomicLong();

  private AsyncExportQueue(Builder b) {
    this.exporter = b.exporter;
    this.queue = new ArrayBlockingQueue<>(b.capacity);
    this.batchSize = b.batchSize;
    this.flushIntervalNanos = b.flushInterval.toNanos();
    this.backoff = new Backoff(b.maxAttempts, b.initialBackoff, b.maxBackoff);
    this.closeTimeoutNanos = b.closeTimeout.toNanos();
    this.worker = new Thread(this::work, "hoptrace-export-" + exporter.name());
    this.worker.setDaemon(true);
    this.worker.start();
  }

  public static Builder newBuilder(SpanExporter exporter) {
    return new Builder(requireNonNull(exporter, "exporter"));
  }

  /** Queues one encoded span line; false (and counted as dropped) when full or closed. */
  public boolean offer(byte[] spanLine) {
    outstanding.incrementAndGet();
    if (closed || !queue.offer(spanLine)) {
      outstanding.decrementAndGet();
      dropped.incrementAndGet();
      return false;
    }
    return true;
  }

  /** Queues one span line given as text. */
  public boolean offer(String spanLine) {
    return offer(spanLine.getBytes(UTF_8));
  }

  /** Spans the backend accepted. */
  public long sent() {
    return sent.get();
  }

  /** Spans in batches the backend refused, or whose retries ran out. */
  public long failed() {
    return failed.get();
  }

  /** Spans refused by {@link #offer} (queue full or closed) or still queued at close. */
  public long dropped() {
    return dropped.get();
  }

  /** Batches sent (successfully or not). */
  public long batches() {
    return batches.get();
  }

  /** Retries after transient failures. */
  public long retries() {
    return retries.get();
  }

  /** Spans waiting in the queue. */
  public int queued() {
    return queue.size();
  }

  public LongSupplier sentCounter() {
    return this::sent;
  }

  public LongSupplier failedCounter() {
    return this::failed;
  }

  public LongSupplier droppedCounter() {
    return this::dropped;
  }

  public String exporterName() {
    return exporter.name();
  }

  /**
   * Waits until everything queued so far was sent or given up on, or {@code timeout} passed. For
   * tests and orderly shutdown; never called on the request path.
   */
  public boolean awaitIdle(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (idle) {
      while (outstanding.get() > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) return false;
        TimeUnit.NANOSECONDS.timedWait(idle, Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
      }
    }
    return true;
  }

  /**
   * Stops accepting spans, sends what is queued for up to the close timeout, then stops the worker;
   * what is left is counted as dropped.
   */
  @Override
  public void close() {
    if (closed) return;
    closeDeadlineNanos = System.nanoTime() + closeTimeoutNanos;
    closed = true;
    worker.interrupt(); // wake a waiting poll; the worker drains until the deadline
    try {
      worker.join(TimeUnit.NANOSECONDS.toMillis(closeTimeoutNanos) + 1_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    dropped.addAndGet(queue.size());
    queue.clear();
    exporter.close();
  }

  private void work() {
    List<byte[]> batch = new ArrayList<>(batchSize);
    while (true) {
      if (closed && (queue.isEmpty() || System.nanoTime() > closeDeadlineNanos)) return;
      try {
        if (!fill(batch)) continue;
      } catch (InterruptedException e) {
        if (!closed) return; // interrupted by someone else: stop
        queue.drainTo(batch, batchSize - batch.size());
        if (batch.isEmpty()) continue;
      }
      send(batch);
      outstanding.addAndGet(-batch.size());
      batch.clear();
      synchronized (idle) {
        idle.notifyAll();
      }
    }
  }

  /** Takes up to batchSize lines, waiting at most the flush interval after the first one. */
  private boolean fill(List<byte[]> batch) throws InterruptedException {
    byte[] first = closed ? queue.poll() : queue.poll(flushIntervalNanos, TimeUnit.NANOSECONDS);
    if (first == null) return false;
    batch.add(first);
    long deadline = System.nanoTime() + flushIntervalNanos;
    while (batch.size() < batchSize) {
      queue.drainTo(batch, batchSize - batch.size());
      if (batch.size() >= batchSize || closed) break;
      long left = deadline - System.nanoTime();
      if (left <= 0) break;
      byte[] next = queue.poll(left, TimeUnit.NANOSECONDS);
      if (next == null) break;
      batch.add(next);
    }
    return true;
  }

  private void send(List<byte[]> batch) {
    batches.incrementAndGet();
    SpanExporter.Result result;
    try {
      result =
          backoff.run(
              () -> exporter.export(batch),
              () -> closed && System.nanoTime() > closeDeadlineNanos,
              retries::incrementAndGet);
    } catch (InterruptedException e) {
      // Interrupted while backing off during close: one more try, then give up.
      try {
        result = exporter.export(batch);
      } catch (InterruptedException again) {
        result = SpanExporter.Result.RETRY;
      }
    } catch (RuntimeException e) {
      result = SpanExporter.Result.FAILURE; // an exporter bug must not kill the worker
    }
    if (result == SpanExporter.Result.SUCCESS) {
      sent.addAndGet(batch.size());
    } else {
      failed.addAndGet(batch.size());
    }
  }

  /** Exponential backoff for transient failures: initial, x2 each time, capped. */
  static final class Backoff {
    final int maxAttempts;
    final long initialNanos;
    final long maxNanos;

    Backoff(int maxAttempts, Duration initial, Duration max) {
      this.maxAttempts = maxAttempts;
      this.initialNanos = initial.toNanos();
      this.maxNanos = max.toNanos();
    }

    interface Attempt {
      SpanExporter.Result run() throws InterruptedException;
    }

    interface Stop {
      boolean now();
    }

    SpanExporter.Result run(Attempt attempt, Stop stop, Runnable onRetry)
        throws InterruptedException {
      long delay = initialNanos;
      SpanExporter.Result result = SpanExporter.Result.RETRY;
      for (int i = 1; i <= maxAttempts; i++) {
        result = attempt.run();
        if (result != SpanExporter.Result.RETRY || i == maxAttempts || stop.now()) return result;
        onRetry.run();
        TimeUnit.NANOSECONDS.sleep(delay);
        delay = Math.min(maxNanos, delay * 2);
      }
      return result;
    }
  }

  /** Options for {@link AsyncExportQueue}; every one has a default. */
  public static final class Builder {
    final SpanExporter exporter;
    int capacity = 10_000;
    int batchSize = 500;
    Duration flushInterval = Duration.ofSeconds(1);
    int maxAttempts = 5;
    Duration initialBackoff = Duration.ofMillis(200);
    Duration maxBackoff = Duration.ofSeconds(10);
    Duration closeTimeout = Duration.ofSeconds(5);

    Builder(SpanExporter exporter) {
      this.exporter = exporter;
    }

    /** Spans held at most; beyond it {@code offer} drops (default 10000). */
    public Builder capacity(int capacity) {
      if (capacity < 1)
        throw new IllegalArgumentException("capacity: " + capacity + " (expected: >= 1)");
      this.capacity = capacity;
      return this;
    }

    /** Spans per request at most (default 500). */
    public Builder batchSize(int batchSize) {
      if (batchSize < 1)
        throw new IllegalArgumentException("batchSize: " + batchSize + " (expected: >= 1)");
      this.batchSize = batchSize;
      return this;
    }

    /** How long a partial batch waits for more spans (default 1s). */
    public Builder flushInterval(Duration flushInterval) {
      this.flushInterval = positive(flushInterval, "flushInterval");
      return this;
    }

    /** Tries per batch, the first included (default 5). */
    public Builder maxAttempts(int maxAttempts) {
      if (maxAttempts < 1)
        throw new IllegalArgumentException("maxAttempts: " + maxAttempts + " (expected: >= 1)");
      this.maxAttempts = maxAttempts;
      return this;
    }

    /** First retry delay, doubled on each retry up to {@code max} (defaults 200ms, 10s). */
    public Builder backoff(Duration initial, Duration max) {
      this.initialBackoff = positive(initial, "initialBackoff");
      this.maxBackoff = positive(max, "maxBackoff");
      return this;
    }

    /** How long {@link AsyncExportQueue#close()} keeps sending (default 5s). */
    public Builder closeTimeout(Duration closeTimeout) {
      this.closeTimeout = positive(closeTimeout, "closeTimeout");
      return this;
    }

    public AsyncExportQueue build() {
      return new AsyncExportQueue(this);
    }

    private static Duration positive(Duration d, String name) {
      requireNonNull(d, name);
      if (d.isNegative() || d.isZero())
        throw new IllegalArgumentException(name + ": " + d + " (expected: > 0)");
      return d;
    }
  }
}
