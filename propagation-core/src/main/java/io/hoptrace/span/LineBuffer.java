package io.hoptrace.span;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A growable byte buffer that span lines are encoded into, {@link #reset()} and reused for every
 * line (or every batch of lines), so encoding allocates nothing once the buffer has grown to the
 * largest line (or batch). Not thread-safe: the span-log writer guards its buffers with a lock.
 */
public final class LineBuffer {
  byte[] bytes;
  int length;

  /** A buffer with room for a typical span line (512 bytes); it grows as needed. */
  public LineBuffer() {
    this(512);
  }

  public LineBuffer(int initialCapacity) {
    if (initialCapacity < 1) {
      throw new IllegalArgumentException(
          "initialCapacity: " + initialCapacity + " (expected: >= 1)");
    }
    this.bytes = new byte[initialCapacity];
  }

  /** Forgets the content; keeps the capacity. */
  public void reset() {
    length = 0;
  }

  /** Forgets everything after the first {@code length} bytes (e.g. a line half encoded). */
  public void truncate(int length) {
    if (length < 0 || length > this.length) {
      throw new IllegalArgumentException(
          "length: " + length + " (expected: 0.." + this.length + ")");
    }
    this.length = length;
  }

  /** How many bytes are held: the content is {@code array()[0 .. length())}. */
  public int length() {
    return length;
  }

  /** The backing array (valid up to {@link #length()}); replaced when the buffer grows. */
  public byte[] array() {
    return bytes;
  }

  /** Writes the content to {@code out}. */
  public void writeTo(OutputStream out) throws IOException {
    out.write(bytes, 0, length);
  }

  /** A copy of the content. */
  public byte[] toByteArray() {
    return Arrays.copyOf(bytes, length);
  }

  /** The content decoded as UTF-8: for tests and logs. */
  @Override
  public String toString() {
    return new String(bytes, 0, length, StandardCharsets.UTF_8);
  }

  /** Makes room for {@code extra} more bytes; returns the (possibly new) array. */
  byte[] ensure(int extra) {
    int needed = length + extra;
    if (needed < 0) throw new IllegalStateException("line too long: " + length + " + " + extra);
    if (needed > bytes.length) {
      int grown = Math.max(needed, bytes.length * 2);
      bytes = Arrays.copyOf(bytes, grown < 0 ? needed : grown);
    }
    return bytes;
  }
}
