package io.hoptrace.proxy.spanlog;

import static java.util.Objects.requireNonNull;

import io.hoptrace.config.Settings;
import io.hoptrace.span.LineBuffer;
import io.hoptrace.span.Span;
import io.hoptrace.span.SpanLineEncoder;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * Writes span lines on its own thread. The request path {@link #offer}s a finished span: it is
 * encoded there and then, on the offering thread, straight into a shared pending buffer of bytes
 * (under a lock held for the encoding only), so nothing per request is queued as objects and the
 * writer keeps no request objects. At most {@code span-log.queue-size} lines wait; beyond that a
 * line is dropped and counted, so a slow disk costs spans, never latency. The writer swaps the
 * pending buffer for its own empty one and writes the whole batch with one write call (nothing is
 * held in a stream buffer), so a {@code tail -f} sees lines promptly and the counters are honest:
 * {@link #written} counts lines whose write returned, {@link #failed} the lines of batches whose
 * write failed (disk full, file unwritable), which are cut back out of the file. A failure is
 * reported once on stderr, and once more when writing works again; a span-log path that no longer
 * names the open file (removed, replaced) is reopened within a second. Lines reach the file in the
 * order their offers returned; {@link #close} writes every line that was accepted.
 *
 * <p>Wake-ups: an offer does not wake the writer while lines keep coming. After catching up the
 * writer sleeps one flush interval ({@code span-log.flush-interval}) and writes whatever arrived
 * meanwhile in one go; only when an interval passed without a line does it park until the next
 * offer wakes it (or a rotation by age is due: an idle writer does not wake otherwise). Under load
 * that is one wake-up (and one {@code write}) per flush interval instead of one per request
 * (bench/README.md, "Profile findings", "Span path (s15)"); an idle writer still writes the first
 * line at once, and an offer that takes the pending lines past {@link #WAKE_BYTES} or half the
 * queue wakes the writer at once, so a burst is neither held in memory nor dropped while the writer
 * sleeps.
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

    /**
     * One span line as {@code bytes[from, to)} of the writer's batch buffer, which is reused once
     * this returns: a listener that keeps the line copies it. By default a fresh copy goes to
     * {@link #line(byte[])}; a listener that keeps lines in storage of its own (the admin page's
     * recent lines) overrides this to copy only once, into that.
     */
    default void line(byte[] bytes, int from, int to) {
      line(Arrays.copyOfRange(bytes, from, to));
    }
  }

  private static final LineListener NO_LISTENER = line -> {};

  /** The capacity each of the two buffers starts with (and goes back to after a burst). */
  private static final int INITIAL_BYTES = 64 * 1024;

  /** A writer buffer grown past this by a burst is given back once a batch uses under a quarter. */
  private static final int SHRINK_BYTES = 1024 * 1024;

  /** The most one write call is given (the JDK's temporary direct buffer for it is this large). */
  static final int WRITE_SLICE_BYTES = 64 * 1024;

  private static final long CHECK_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** Pending bytes that wake the writer before its flush interval is over. */
  static final int WAKE_BYTES = 256 * 1024;

  private final SpanLineEncoder encoder = SpanLineEncoder.create();
  private final SpanSink sink =
      new SpanSink() {
        @Override
        public void accept(Span span) {
          offer(span);
        }

        @Override
        public void acceptBuilder(Span.Builder builder) {
          offer(builder);
        }
      };
  private final int capacity; // lines that may wait
  private final int highWater; // pending lines that wake the writer before its interval is over
  private final Object lock = new Object();

  // Guarded by lock: the lines offered since the writer last took them, and how many.
  private LineBuffer pending = new LineBuffer(INITIAL_BYTES);
  private int pendingLines;

  private LineBuffer batch = new LineBuffer(INITIAL_BYTES); // writer thread only
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
  private volatile boolean closing;

  /** The writer is parked until the next offer: that offer wakes it. */
  private volatile boolean parked;

  // Writer thread only.
  private @Nullable FileChannel channel; // the file, when path != null
  private @Nullable Object fileKey; // the open file's identity (inode), to notice a replaced path
  private @Nullable OutputStream stream; // standard output, when path == null
  private long lastCheckNanos = System.nanoTime();
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
    this.listener = requireNonNull(listener, "listener");
    this.capacity = settings.queueSize();
    this.highWater = Math.max(1, capacity / 2);
    this.path = settings.stdout() ? null : Path.of(settings.path());
    this.rotateSize = settings.rotateSize();
    this.rotateIntervalNanos = settings.rotateInterval().toNanos();
    this.pollNanos = Math.max(1, settings.flushInterval().toNanos());
    open();
    this.thread = new Thread(this::run, "hoptrace-spanlog");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Encodes one span's line for the writer. Never blocks on the disk: returns false and counts a
   * drop when {@code span-log.queue-size} lines are already waiting or the writer is closed.
   */
  public boolean offer(Span span) {
    requireNonNull(span, "span");
    return offer(span, null);
  }

  /**
   * As {@link #offer(Span)} for {@code builder.build()}, without building the span: the line is
   * encoded from the builder, which the caller may reuse once this returns. Throws what {@link
   * Span.Builder#build()} throws for a span it would refuse.
   */
  public boolean offer(Span.Builder builder) {
    requireNonNull(builder, "builder");
    return offer(null, builder);
  }

  /**
   * This writer as a {@link SpanSink}: spans and builders are offered ({@link #offer(Span)}, {@link
   * #offer(Span.Builder)}), a line that does not fit the queue counted as dropped.
   */
  public SpanSink sink() {
    return sink;
  }

  private boolean offer(@Nullable Span span, Span.@Nullable Builder builder) {
    boolean accepted = false;
    boolean wake = false;
    synchronized (lock) {
      // closing is read under the lock: once the writer has seen it and found nothing pending,
      // every later offer sees it too (the writer's unlock happens before this lock).
      if (!closing && pendingLines < capacity) {
        LineBuffer out = pending;
        int start = out.length();
        try {
          if (span != null) {
            encoder.encode(span, out);
          } else {
            encoder.encode(requireNonNull(builder), out);
          }
        } catch (RuntimeException e) {
          out.truncate(start); // never half a line
          throw e;
        }
        pendingLines++;
        accepted = true;
        // Once per batch: the offer that crosses the mark.
        wake = (start < WAKE_BYTES && out.length() >= WAKE_BYTES) || pendingLines == highWater;
      }
    }
    if (accepted) {
      if (parked || wake) {
        parked = false;
        LockSupport.unpark(thread);
      }
      return true;
    }
    dropped.increment();
    if (!closing) LockSupport.unpark(thread); // full: the writer is behind, let it run now
    return false;
  }

  /** Lines written so far: their write call returned (they are in the file as far as the OS is). */
  public long written() {
    return written.sum();
  }

  /** Lines dropped because the queue was full (or the writer closed). */
  public long dropped() {
    return dropped.sum();
  }

  /** Lines lost to write errors (disk full, file unwritable or replaced by a directory, ...). */
  public long failed() {
    return failed.sum();
  }

  /** Lines waiting for the writer. */
  public int queued() {
    synchronized (lock) {
      return pendingLines;
    }
  }

  /** Takes the pending lines into {@link #batch} (swapping the buffers); returns how many. */
  private int takePending() {
    LineBuffer empty = batch;
    empty.reset();
    int lines;
    synchronized (lock) {
      lines = pendingLines;
      if (lines == 0) return 0;
      batch = pending;
      pending = empty;
      pendingLines = 0;
    }
    return lines;
  }

  private boolean nothingPending() {
    synchronized (lock) {
      return pendingLines == 0;
    }
  }

  private void open() throws IOException {
    if (path == null) {
      size = 0;
      stream = stdout != null ? stdout : new FileOutputStream(FileDescriptor.out);
      return;
    }
    Path parent = path.toAbsolutePath().getParent();
    if (parent != null) Files.createDirectories(parent);
    FileChannel opened =
        FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    try {
      size = opened.size();
      fileKey = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
    } catch (IOException e) {
      opened.close();
      throw e;
    }
    channel = opened;
  }

  private void run() {
    while (true) {
      checkFile(); // rate-limited: one look at the path a second
      boolean last = closing; // read before the take: see offer
      int lines = takePending();
      if (lines > 0) {
        write(batch, lines);
        continue; // until caught up
      }
      if (last) break;
      maybeRotate();
      if (closing) continue;
      // Caught up: let the next lines gather for one flush interval (offers do not wake us
      // meanwhile, unless they pass the high-water marks).
      LockSupport.parkNanos(this, pollNanos);
      if (Thread.interrupted()) closing = true;
      if (closing || !nothingPending()) continue;
      // A whole interval without a line: park until an offer wakes us, or until a rotation by
      // age is due; an idle sidecar's writer does not wake otherwise (it woke 5 times a second).
      // parked is set before the last look at the pending lines (under the lock an offer takes
      // too), so an offer either sees it or is seen.
      parked = true;
      if (nothingPending() && !closing) {
        long rotateIn = nanosToTimedRotation();
        if (rotateIn == Long.MAX_VALUE) LockSupport.park(this);
        else if (rotateIn > 0) LockSupport.parkNanos(this, rotateIn);
      }
      parked = false;
      if (Thread.interrupted()) closing = true;
    }
    closeQuietly();
  }

  /** The writer thread (tests: whether it is parked without a deadline). */
  Thread thread() {
    return thread;
  }

  /** How long until {@link #maybeRotate()} rotates by age; {@link Long#MAX_VALUE}: never. */
  private long nanosToTimedRotation() {
    if (path == null || channel == null || rotateIntervalNanos <= 0 || size == 0) {
      return Long.MAX_VALUE;
    }
    return rotateIntervalNanos - (System.nanoTime() - firstLineNanos);
  }

  private void write(LineBuffer lines, int count) {
    if (size == 0) firstLineNanos = System.nanoTime();
    if (listener != NO_LISTENER) {
      // The buffer is reused: the listener copies what it keeps (LineListener). A line never
      // holds a raw newline (the encoder escapes it), so the newlines split the batch.
      byte[] bytes = lines.array();
      int end = lines.length();
      for (int start = 0; start < end; ) {
        int newline = start;
        while (bytes[newline] != '\n') newline++;
        int from = start;
        start = newline + 1;
        try {
          listener.line(bytes, from, newline);
        } catch (RuntimeException e) {
          // A listener bug must not stop the span log; the line is still written.
        }
      }
    }
    // hardening: a line counts as written only once the write call returned for the whole batch
    // (the bytes are in the file, as far as the OS is concerned); a failed batch counts as failed
    // whole, and the file is cut back to where it was, so it never keeps half a line.
    try {
      if (path != null) {
        FileChannel target = channel;
        if (target == null) throw new IOException("not open (see the earlier error)");
        try {
          // In slices: the JDK copies a heap buffer into a temporary direct buffer as large as
          // what is left to write, and keeps the largest per thread for good, so one batch of a
          // burst (MBs when this thread got no CPU for a while) stayed resident (s32).
          byte[] array = lines.array();
          int end = lines.length();
          for (int at = 0; at < end; ) {
            int slice = Math.min(WRITE_SLICE_BYTES, end - at);
            ByteBuffer bytes = ByteBuffer.wrap(array, at, slice);
            while (bytes.hasRemaining()) target.write(bytes);
            at += slice;
          }
        } catch (IOException e) {
          cutBack(target);
          throw e;
        }
      } else {
        OutputStream target = requireNonNull(stream);
        lines.writeTo(target);
        target.flush();
      }
      size += lines.length();
      written.add(count);
      writable();
    } catch (IOException e) {
      failed.add(count);
      failing(e);
    }
    // A burst grew the buffer: give the memory back once the batches are small again.
    if (lines.array().length > SHRINK_BYTES && lines.length() < lines.array().length / 4) {
      batch = new LineBuffer(INITIAL_BYTES);
    }
  }

  /** Drops the part of a failed batch that did reach the file. */
  private void cutBack(FileChannel target) {
    try {
      if (target.size() > size) target.truncate(size);
    } catch (IOException e) {
      // the file is gone or broken: the next check reopens it
    }
  }

  /**
   * hardening: at most once a second, makes sure the path still names the open file. A span log
   * removed, replaced (by a directory, by another file) or whose directory went away would
   * otherwise take every line into an unlinked inode with no error. When the path no longer names
   * it, the file is reopened (created again, directories too); while that fails, every batch counts
   * as failed and the error is reported once.
   */
  private void checkFile() {
    if (path == null) return;
    long nanos = System.nanoTime();
    if (nanos - lastCheckNanos < CHECK_INTERVAL_NANOS) return;
    lastCheckNanos = nanos;
    BasicFileAttributes now;
    try {
      now = Files.readAttributes(path, BasicFileAttributes.class);
    } catch (IOException e) {
      now = null; // gone (or its directory is)
    }
    // A file system without file keys cannot tell a replaced file: then only a missing path or a
    // directory in its place reopens.
    if (channel != null
        && now != null
        && !now.isDirectory()
        && (fileKey == null || fileKey.equals(now.fileKey()))) {
      return;
    }
    closeQuietly();
    try {
      open();
    } catch (IOException e) {
      failing(e);
    }
  }

  private void writable() {
    if (failing) {
      failing = false;
      System.err.println("hoptrace: span log writable again: " + where());
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
            + e
            + "); requests go on, lost lines are counted in hoptrace_spanlog_failed");
  }

  private String where() {
    return path == null ? "stdout" : path.toString();
  }

  private void maybeRotate() {
    if (path == null || channel == null) return;
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
    } catch (IOException e) {
      failing(e); // keep appending to the same file
    }
    try {
      open();
    } catch (IOException e) {
      failing(e); // the next check tries again
    }
  }

  private void closeQuietly() {
    try {
      if (path == null) {
        if (stream != null) stream.flush(); // never close the process's stdout
      } else if (channel != null) {
        channel.close();
      }
    } catch (IOException e) {
      // nothing buffered here: every line was written or counted already
    }
    channel = null;
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
