package io.hoptrace.proxy.spanlog;

import io.hoptrace.config.Settings;
import io.hoptrace.span.LineBuffer;
import io.hoptrace.span.Span;
import io.hoptrace.span.SpanLineEncoder;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * Writes span lines on its own thread. The request path only {@link #offer}s a finished span to a
 * bounded queue; when the queue is full the line is dropped and counted, so a slow disk costs
 * spans, never latency. The writer drains the queue in batches and flushes whenever it catches up,
 * so a {@code tail -f} sees lines promptly.
 *
 * <p>Wake-ups: an offer does not wake the writer while lines keep coming. After catching up the
 * writer sleeps one batch window ({@link #BATCH_WINDOW_NANOS}, at most the flush interval) and
 * writes whatever arrived meanwhile in one go; only when a window passed without a line does it
 * park until the next offer wakes it. Under load that is one wake-up (and one {@code write}) per
 * window instead of one per request (bench/README.md, "Profile findings"); an idle writer still
 * writes the first line at once.
 *
 * <p>A {@link LineListener} (the exporters, the admin page) gets each encoded line on the writer
 * thread, before it reaches the disk, so a failing disk does not stop export.
 */
public final class SpanLogWriter implements AutoCloseable {
  /** Gets every encoded line on the writer thread; must not block (offer, count, return). */
  @FunctionalInterface
  public interface LineListener {
    /**
     * One span line: UTF-8 JSON without the trailing newline, a fresh array the listener may keep
     * (and share) but must not modify.
     */
    void line(byte[] line);
  }

  private static final LineListener NO_LISTENER = line -> {};

  private static final int BATCH = 1024;

  /** How long the writer lets lines gather after catching up, while lines are arriving. */
  static final long BATCH_WINDOW_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  private final ArrayBlockingQueue<Span> queue;
  private final SpanLineEncoder encoder = SpanLineEncoder.create();
  private final LineBuffer buffer = new LineBuffer(64 * 1024); // writer thread only
  private final @Nullable Path path;
  private final @Nullable OutputStream stdout;
  private final long rotateSize;
  private final long rotateIntervalNanos;
  private final long pollNanos;
  private final Thread thread;
  private final LineListener listener;
  private final LongAdder written = new LongAdder();
  private final LongAdder dropped = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final long windowNanos;
  private volatile boolean closing;

  /** The writer is parked until the next offer: that offer wakes it. */
  private volatile boolean parked;

  // Writer thread only.
  private OutputStream out;
  private long size;
  private boolean failing; // hardening: reported once until a flush succeeds again
  private long firstLineNanos; // when the current file got its first line: the age for rotation

  /** Opens the span log (creating or appending to the file) and starts the writer thread. */
  public SpanLogWriter(Settings.SpanLog settings) throws IOException {
    this(settings, null, NO_LISTENER);
  }

  /** Also hands every encoded line to {@code listener} (see {@link LineListener}). */
  public SpanLogWriter(Settings.SpanLog settings, LineListener listener) throws IOException {
    this(settings, null, listener);
  }

  /** With {@code stdout} standing in for standard output (tests). */
  SpanLogWriter(Settings.SpanLog settings, @Nullable OutputStream stdout) throws IOException {
    this(settings, stdout, NO_LISTENER);
  }

  SpanLogWriter(Settings.SpanLog settings, @Nullable OutputStream stdout, LineListener listener)
      throws IOException {
    this.stdout = stdout;
    this.listener = java.util.Objects.requireNonNull(listener, "listener");
    this.queue = new ArrayBlockingQueue<>(settings.queueSize());
    this.path = settings.stdout() ? null : Path.of(settings.path());
    this.rotateSize = settings.rotateSize();
    this.rotateIntervalNanos = settings.rotateInterval().toNanos();
    this.pollNanos = Math.max(1, settings.flushInterval().toNanos());
    this.windowNanos = Math.min(BATCH_WINDOW_NANOS, pollNanos);
    this.out = open();
    this.thread = new Thread(this::run, "hoptrace-spanlog");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Queues one span for its line. Never blocks: returns false and counts a drop when the queue is
   * full or the writer is closed. The span is immutable and holds no request objects; it is encoded
   * on the writer thread into one reused buffer.
   */
  public boolean offer(Span span) {
    if (!closing && queue.offer(span)) {
      if (parked) {
        parked = false;
        LockSupport.unpark(thread);
      }
      return true;
    }
    dropped.increment();
    if (!closing) LockSupport.unpark(thread); // full: the writer is behind, let it run now
    return false;
  }

  /** Lines written so far. */
  public long written() {
    return written.sum();
  }

  /** Lines dropped because the queue was full (or the writer closed). */
  public long dropped() {
    return dropped.sum();
  }

  /** Lines lost to write errors (disk full, file removed, ...). */
  public long failed() {
    return failed.sum();
  }

  /** Lines waiting for the writer. */
  public int queued() {
    return queue.size();
  }

  private OutputStream open() throws IOException {
    if (path == null) {
      size = 0;
      OutputStream target = stdout != null ? stdout : new FileOutputStream(FileDescriptor.out);
      return new BufferedOutputStream(target, 64 * 1024);
    }
    Path parent = path.toAbsolutePath().getParent();
    if (parent != null) Files.createDirectories(parent);
    size = Files.exists(path) ? Files.size(path) : 0;
    return new BufferedOutputStream(
        Files.newOutputStream(path, StandardOpenOption.CREATE, StandardOpenOption.APPEND),
        64 * 1024);
  }

  private void run() {
    List<Span> batch = new ArrayList<>(BATCH);
    while (true) {
      if (queue.drainTo(batch, BATCH) > 0) {
        write(batch);
        batch.clear();
        continue; // until caught up
      }
      flush();
      maybeRotate();
      if (closing) {
        if (queue.isEmpty()) break;
        continue;
      }
      // Caught up: let the next lines gather for one window (offers do not wake us meanwhile).
      LockSupport.parkNanos(this, windowNanos);
      if (Thread.interrupted()) closing = true;
      if (closing || !queue.isEmpty()) continue;
      // A whole window without a line: park until an offer wakes us (or the poll interval ends).
      // parked is set before the last look at the queue, so an offer either sees it or is seen.
      parked = true;
      if (queue.isEmpty() && !closing) LockSupport.parkNanos(this, pollNanos);
      parked = false;
      if (Thread.interrupted()) closing = true;
    }
    flush();
    closeQuietly();
  }

  private void write(List<Span> batch) {
    buffer.reset();
    if (size == 0) firstLineNanos = System.nanoTime();
    for (Span span : batch) {
      int start = buffer.length();
      encoder.encode(span, buffer); // any span gives one valid line
      if (listener != NO_LISTENER) {
        // The one copy: the buffer is reused, the listener's queues keep the line.
        byte[] line = Arrays.copyOfRange(buffer.array(), start, buffer.length() - 1);
        try {
          listener.line(line);
        } catch (RuntimeException e) {
          // A listener bug must not stop the span log; the line is still written.
        }
      }
    }
    try {
      buffer.writeTo(out);
      size += buffer.length();
      written.add(batch.size());
    } catch (IOException e) {
      failed.add(batch.size());
      failing(e);
    }
  }

  private void flush() {
    try {
      out.flush();
      if (failing) {
        failing = false;
        System.err.println("hoptrace: span log writable again: " + where());
      }
    } catch (IOException e) {
      failed.increment();
      failing(e);
    }
  }

  /** hardening: a failing span log is reported once (and its recovery once), never per line. */
  private void failing(IOException e) {
    if (failing) return;
    failing = true;
    System.err.println(
        "hoptrace: span log write failed ("
            + where()
            + ": "
            + e.getMessage()
            + "); requests go on, lost lines are counted in hoptrace_spanlog_failed");
  }

  private String where() {
    return path == null ? "stdout" : path.toString();
  }

  private void maybeRotate() {
    if (path == null) return;
    boolean bySize = rotateSize > 0 && size >= rotateSize;
    boolean byTime =
        rotateIntervalNanos > 0
            && size > 0
            && System.nanoTime() - firstLineNanos >= rotateIntervalNanos;
    if (!bySize && !byTime) return;
    closeQuietly();
    try {
      Files.move(
          path,
          path.resolveSibling(path.getFileName() + ".1"),
          StandardCopyOption.REPLACE_EXISTING);
      out = open();
    } catch (IOException e) {
      failed.increment();
      try {
        out = open();
      } catch (IOException again) {
        throw new UncheckedIOException(again);
      }
    }
  }

  private void closeQuietly() {
    try {
      if (path == null) out.flush(); // never close the process's stdout
      else out.close();
    } catch (IOException e) {
      failed.increment();
    }
  }

  /** Stops accepting lines, writes every queued line, flushes and closes the file. */
  @Override
  public void close() {
    closing = true;
    LockSupport.unpark(thread);
    try {
      thread.join(TimeUnit.SECONDS.toMillis(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
