package io.hoptrace.traces;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Follows growing span logs and hands over each trace once it is complete: once no span of it has
 * arrived for a quiet period. Files are polled (no watcher threads): each {@link #poll} reads what
 * was appended since the last one.
 *
 * <p>Rotation: a file is tracked by its file key (inode), so a log renamed to {@code spans.log.1}
 * in a followed directory is read to its end, and the new {@code spans.log} from its start. A file
 * that shrank was truncated ({@code copytruncate}) and is read again from its start. A partial last
 * line waits for its newline.
 *
 * <p>Spans already in the files when following starts are loaded as context but not reported; a
 * trace is reported when a new span for it arrives. Memory is bounded: pending traces and reported
 * traces are each capped, the oldest dropped.
 */
public final class SpanFollower {
  static final int CHUNK = 1 << 20;
  static final int MAX_CHUNKS_PER_POLL = 64;
  static final int MAX_PARTIAL = SpanRecord.MAX_LINE_LENGTH + 1;
  static final int MAX_TRACES = 10_000;

  private final List<Path> paths;
  private final int chunkSize;
  private final long quietNanos;
  private final Consumer<Trace> onComplete;
  private final Map<Object, FileState> files = new HashMap<>();
  private final Map<String, Pending> pending = new LinkedHashMap<>();
  private final LinkedHashMap<String, List<SpanRecord>> done =
      new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, List<SpanRecord>> eldest) {
          return size() > MAX_TRACES;
        }
      };
  private long malformedLines;
  private boolean started;

  /**
   * @param paths files or directories to follow
   * @param quietNanos how long a trace must receive no span before it counts as complete
   * @param onComplete called (on the polling thread) with each complete trace
   */
  public SpanFollower(List<Path> paths, long quietNanos, Consumer<Trace> onComplete) {
    this(paths, quietNanos, onComplete, CHUNK);
  }

  /** With a read size of {@code chunkSize} bytes: small in tests, to spread reads over polls. */
  SpanFollower(List<Path> paths, long quietNanos, Consumer<Trace> onComplete, int chunkSize) {
    this.chunkSize = chunkSize;
    this.paths = List.copyOf(paths);
    if (quietNanos < 0) throw new IllegalArgumentException("quietNanos: " + quietNanos);
    this.quietNanos = quietNanos;
    this.onComplete = onComplete;
  }

  /**
   * Reads what was appended, then reports the traces that have been quiet long enough. {@code
   * nowNanos} is a {@link System#nanoTime()} reading (a parameter so tests can drive time).
   */
  public void poll(long nowNanos) {
    boolean initial = !started;
    started = true;
    for (Path file : currentFiles()) readNew(file, nowNanos, initial);
    Iterator<Map.Entry<String, Pending>> it = pending.entrySet().iterator();
    List<Trace> complete = new ArrayList<>();
    while (it.hasNext()) {
      Map.Entry<String, Pending> e = it.next();
      if (nowNanos - e.getValue().lastArrivalNanos < quietNanos) continue;
      it.remove();
      List<SpanRecord> spans = e.getValue().spans;
      done.put(e.getKey(), spans);
      complete.add(TraceAssembler.assembleOne(e.getKey(), spans));
    }
    complete.sort(
        java.util.Comparator.comparingLong(Trace::startMicros).thenComparing(Trace::traceId));
    for (Trace t : complete) onComplete.accept(t);
  }

  /** Lines that were not spans, so far. */
  public long malformedLines() {
    return malformedLines;
  }

  /** Traces waiting for their quiet period. */
  public int pendingTraces() {
    return pending.size();
  }

  private List<Path> currentFiles() {
    List<Path> out = new ArrayList<>();
    for (Path p : paths) {
      if (Files.isDirectory(p)) {
        try {
          out.addAll(SpanLogFiles.inDirectory(p, false));
        } catch (IOException e) {
          // the directory may come back; try again next poll
        }
      } else if (Files.isRegularFile(p)) {
        out.add(p);
      }
    }
    return out;
  }

  private void readNew(Path file, long nowNanos, boolean initial) {
    Object key;
    long size;
    try {
      BasicFileAttributes attrs = Files.readAttributes(file, BasicFileAttributes.class);
      key = attrs.fileKey() != null ? attrs.fileKey() : file.toAbsolutePath();
      size = attrs.size();
    } catch (IOException e) {
      return;
    }
    FileState state = files.get(key);
    if (state == null) {
      state = new FileState();
      // What a file held when following started is context, however many polls it takes to read.
      if (initial) state.contextUntil = size;
      files.put(key, state);
    }
    if (size < state.position) { // truncated in place: start over
      state.position = 0;
      state.contextUntil = 0;
      state.bytes.reset();
    }
    if (size == state.position) return;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer buf = ByteBuffer.allocate((int) Math.min(chunkSize, size - state.position));
      int chunks = 0;
      while (state.position < size && chunks++ < MAX_CHUNKS_PER_POLL) {
        boolean context = state.position < state.contextUntil;
        long end = context ? state.contextUntil : size;
        buf.clear();
        buf.limit((int) Math.min(buf.capacity(), end - state.position));
        int n = ch.read(buf, state.position);
        if (n <= 0) break;
        state.position += n;
        buf.flip();
        state.bytes.write(buf.array(), 0, n);
        drainLines(state, nowNanos, context);
      }
    } catch (IOException e) {
      // The file went away between listing and reading: it is read again if it reappears.
    }
  }

  private void drainLines(FileState state, long nowNanos, boolean context) {
    byte[] bytes = state.bytes.toByteArray();
    int start = 0;
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] != '\n') continue;
      String line = new String(bytes, start, i - start, UTF_8);
      start = i + 1;
      accept(line, nowNanos, context);
    }
    state.bytes.reset();
    int rest = bytes.length - start;
    if (rest > MAX_PARTIAL) {
      malformedLines++; // a line longer than any span: skip it
    } else if (rest > 0) {
      state.bytes.write(bytes, start, rest);
    }
  }

  private void accept(String line, long nowNanos, boolean context) {
    if (line.isBlank()) return;
    SpanRecord span = SpanRecord.parse(line);
    if (span == null) {
      malformedLines++;
      return;
    }
    String traceId = span.traceId();
    if (context) {
      // Context only: a trace already in the files is not reported unless it grows.
      done.computeIfAbsent(traceId, k -> new ArrayList<>()).add(span);
      return;
    }
    Pending p = pending.get(traceId);
    if (p == null) {
      p = new Pending();
      List<SpanRecord> earlier = done.remove(traceId);
      if (earlier != null) p.spans.addAll(earlier);
      if (pending.size() >= MAX_TRACES) {
        // Overload: report the oldest pending trace early rather than grow without bound.
        Iterator<Map.Entry<String, Pending>> it = pending.entrySet().iterator();
        Map.Entry<String, Pending> oldest = it.next();
        it.remove();
        onComplete.accept(TraceAssembler.assembleOne(oldest.getKey(), oldest.getValue().spans));
      }
      pending.put(traceId, p);
    }
    for (SpanRecord s : p.spans) {
      if (s.key().equals(span.key())) return; // the same line read twice (a copied file)
    }
    p.spans.add(span);
    p.lastArrivalNanos = nowNanos;
  }

  private static final class FileState {
    long position;
    long contextUntil;
    final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
  }

  private static final class Pending {
    final List<SpanRecord> spans = new ArrayList<>();
    long lastArrivalNanos;
  }
}
