package io.hoptrace.context;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Lowercase hex for ids. Parsing is strict (lowercase only, as W3C requires) and allocation free:
 * callers check {@link #isLowerHex} first, then {@link #parseLowerHex}, so that a failed parse
 * costs one pass and nothing on the heap.
 */
public final class HexCodec {
  static final char[] HEX_DIGITS = "0123456789abcdef".toCharArray();
  private static final byte[] HEX_BYTES = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

  /**
   * True when every char in {@code [begin, end)} is one of {@code 0-9a-f}; false for an empty
   * range.
   */
  public static boolean isLowerHex(CharSequence s, int begin, int end) {
    if (begin >= end || end > s.length()) return false;
    for (int i = begin; i < end; i++) {
      char c = s.charAt(i);
      if ((c < '0' || c > '9') && (c < 'a' || c > 'f')) return false;
    }
    return true;
  }

  /**
   * Parses up to 16 lowercase hex chars in {@code [begin, end)} as an unsigned long. The caller has
   * already checked {@link #isLowerHex}; an invalid char yields an undefined value, never an
   * exception.
   */
  public static long parseLowerHex(CharSequence s, int begin, int end) {
    long result = 0;
    for (int i = begin; i < end; i++) {
      char c = s.charAt(i);
      result = (result << 4) | (c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return result;
  }

  /** Writes {@code v} as 16 lowercase hex chars into {@code dst} at {@code pos}. */
  public static void writeHexLong(long v, char[] dst, int pos) {
    for (int i = 15; i >= 0; i--) {
      dst[pos + i] = HEX_DIGITS[(int) (v & 0xf)];
      v >>>= 4;
    }
  }

  /** Writes one byte as 2 lowercase hex chars into {@code dst} at {@code pos}. */
  public static void writeHexByte(int b, char[] dst, int pos) {
    dst[pos] = HEX_DIGITS[(b >> 4) & 0xf];
    dst[pos + 1] = HEX_DIGITS[b & 0xf];
  }

  /** Writes {@code v} as 16 lowercase hex ASCII bytes into {@code dst} at {@code pos}. */
  public static void writeHexLong(long v, byte[] dst, int pos) {
    for (int i = 15; i >= 0; i--) {
      dst[pos + i] = HEX_BYTES[(int) (v & 0xf)];
      v >>>= 4;
    }
  }

  /** Writes the low {@code digits} hex digits of {@code v}, lowercase ASCII, at {@code pos}. */
  public static void writeHex(long v, int digits, byte[] dst, int pos) {
    for (int i = digits - 1; i >= 0; i--) {
      dst[pos + i] = HEX_BYTES[(int) (v & 0xf)];
      v >>>= 4;
    }
  }

  /** Writes one byte as 2 lowercase hex ASCII bytes into {@code dst} at {@code pos}. */
  public static void writeHexByte(int b, byte[] dst, int pos) {
    dst[pos] = HEX_BYTES[(b >> 4) & 0xf];
    dst[pos + 1] = HEX_BYTES[b & 0xf];
  }

  /**
   * This thread's scratch array of {@value #SCRATCH_LENGTH} bytes, to write a String's text into
   * just before {@link #ascii} copies it: the String is then the only array made (a fresh scratch
   * array per id was 56–72 B of each request id and traceparent value, bench/README.md, "Allocation
   * sites (s20)"). Use it only between writing and the {@code ascii} call, with no call in between
   * that could use it too; never keep it or hand it out.
   */
  public static byte[] scratch() {
    return SCRATCH.get();
  }

  /** The longest text {@link #scratch()} holds: a traceparent value (55) fits. */
  public static final int SCRATCH_LENGTH = 64;

  private static final ThreadLocal<byte[]> SCRATCH =
      ThreadLocal.withInitial(() -> new byte[SCRATCH_LENGTH]);

  /**
   * The String of {@code ascii[0, length)}. Built from bytes, not chars: a Latin-1 String keeps one
   * byte per char, so a char[] would be compressed into a second array (bench/README.md,
   * "Allocation per request (s14)").
   */
  public static String ascii(byte[] ascii, int length) {
    return new String(ascii, 0, length, StandardCharsets.ISO_8859_1);
  }

  /** 16 lowercase hex chars. */
  public static String toHex(long v) {
    byte[] buf = scratch();
    writeHexLong(v, buf, 0);
    return ascii(buf, 16);
  }

  /** 32 lowercase hex chars: high then low. */
  public static String toHex(long high, long low) {
    byte[] buf = scratch();
    writeHexLong(high, buf, 0);
    writeHexLong(low, buf, 16);
    return ascii(buf, 32);
  }

  /**
   * The value of a lowercase hex digit ({@code 0-9a-f}), or -1. Codecs OR the results together
   * while accumulating a long, so that one pass both validates and reads an id.
   */
  public static int lowerHexDigit(char c) {
    return c < 128 ? LOWER_HEX_VALUES[c] : -1;
  }

  /** Reads 16 chars at {@code pos} that {@link #lowerHexDigit} accepted; no checks, no branches. */
  public static long readLowerHex16(CharSequence s, int pos) {
    long result = 0;
    for (int i = pos; i < pos + 16; i++) result = (result << 4) | LOWER_HEX_VALUES[s.charAt(i)];
    return result;
  }

  // A lookup table beats two range checks per char on the parse hot path.
  private static final byte[] LOWER_HEX_VALUES = new byte[128];

  static {
    Arrays.fill(LOWER_HEX_VALUES, (byte) -1);
    for (int i = 0; i < 16; i++) LOWER_HEX_VALUES[HEX_DIGITS[i]] = (byte) i;
  }

  /** The value of a hex digit of either case, or -1: for legacy formats that are not strict. */
  public static int anyCaseHexDigit(char c) {
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return lowerHexDigit(c);
  }

  private HexCodec() {}
}
