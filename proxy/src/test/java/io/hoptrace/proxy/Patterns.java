package io.hoptrace.proxy;

import java.io.InputStream;
import java.util.zip.CRC32;

/** Deterministic test bodies of any length, generated and checked without buffering. */
final class Patterns {
  private static final byte[] BLOCK = new byte[64 * 1024];

  static {
    for (int i = 0; i < BLOCK.length; i++) BLOCK[i] = (byte) (i * 31 + (i >>> 8));
  }

  static byte[] block() {
    return BLOCK;
  }

  /** A stream of {@code length} pattern bytes. */
  static InputStream stream(long length) {
    return new InputStream() {
      long position;

      @Override
      public int read() {
        if (position >= length) return -1;
        return BLOCK[(int) (position++ % BLOCK.length)] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (position >= length) return -1;
        int offset = (int) (position % BLOCK.length);
        int n = (int) Math.min(Math.min(len, BLOCK.length - offset), length - position);
        System.arraycopy(BLOCK, offset, b, off, n);
        position += n;
        return n;
      }
    };
  }

  /** The CRC32 of {@code length} pattern bytes. */
  static long crc(long length) {
    CRC32 crc = new CRC32();
    for (long done = 0; done < length; ) {
      int n = (int) Math.min(BLOCK.length, length - done);
      crc.update(BLOCK, 0, n);
      done += n;
    }
    return crc.getValue();
  }

  private Patterns() {}
}
