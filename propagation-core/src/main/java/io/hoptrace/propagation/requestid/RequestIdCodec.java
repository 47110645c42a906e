package io.hoptrace.propagation.requestid;

import io.hoptrace.context.HexCodec;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * {@code X-Request-Id}: an opaque id that load balancers and apps log. A valid one is visible ASCII
 * ({@code 0x21-0x7E}) without {@code ,}, {@code "} or {@code \}, 1 to {@code maxLength} chars
 * (default {@value #DEFAULT_MAX_LENGTH}); leading and trailing OWS is trimmed. Anything else is
 * invalid: it would break a log line, a CSV, or a header list.
 *
 * <p>When the id is a UUID ({@code 8-4-4-4-12} hex, either case) it can seed a trace id, so the
 * trace and the request id name the same 128 bits.
 */
public final class RequestIdCodec {
  public static final String NAME = "X-Request-Id";

  public static final int DEFAULT_MAX_LENGTH = 128;

  /** A UUID's text length. */
  public static final int UUID_LENGTH = 36;

  /**
   * The trimmed request id, or null when absent or invalid. Allocates only when the value had OWS
   * to trim (a {@code String} without OWS is returned as is).
   */
  public static @Nullable String parse(@Nullable CharSequence value, int maxLength) {
    if (value == null) return null;
    int end = value.length();
    if (end > maxLength + 64) return null; // bound the trim walk
    int begin = 0;
    while (begin < end && isOws(value.charAt(begin))) begin++;
    while (end > begin && isOws(value.charAt(end - 1))) end--;
    if (!isValid(value, begin, end, maxLength)) return null;
    return value.subSequence(begin, end).toString();
  }

  /** True when {@code value[begin, end)} is a valid request id of at most {@code maxLength}. */
  public static boolean isValid(CharSequence value, int begin, int end, int maxLength) {
    if (begin < 0 || end > value.length() || begin >= end || end - begin > maxLength) return false;
    for (int i = begin; i < end; i++) {
      char c = value.charAt(i);
      if (c <= ' ' || c > '~' || c == ',' || c == '"' || c == '\\') return false;
    }
    return true;
  }

  /** True when {@code value} is a UUID ({@code 8-4-4-4-12} hex, either case). */
  public static boolean isUuid(CharSequence value) {
    if (value.length() != UUID_LENGTH) return false;
    int bad = 0;
    for (int i = 0; i < UUID_LENGTH; i++) {
      char c = value.charAt(i);
      if (i == 8 || i == 13 || i == 18 || i == 23) {
        if (c != '-') return false;
      } else {
        bad |= HexCodec.anyCaseHexDigit(c);
      }
    }
    return bad >= 0;
  }

  /**
   * True when {@code value} is a UUID that can seed a trace id: not all zero (W3C forbids an
   * all-zero trace id). Then {@link #uuidToTraceIdHigh} and {@link #uuidToTraceIdLow} read it.
   */
  public static boolean isUuidTraceId(CharSequence value) {
    return isUuid(value) && (uuidToTraceIdHigh(value) | uuidToTraceIdLow(value)) != 0L;
  }

  /** The first 64 bits of a UUID that {@link #isUuid} accepted. */
  public static long uuidToTraceIdHigh(CharSequence uuid) {
    return readHex(uuid, 0, 18);
  }

  /** The last 64 bits of a UUID that {@link #isUuid} accepted. */
  public static long uuidToTraceIdLow(CharSequence uuid) {
    return readHex(uuid, 19, UUID_LENGTH);
  }

  /**
   * A new random (version 4) UUID in lowercase, from {@link ThreadLocalRandom}: unlike {@link
   * java.util.UUID#randomUUID()} it takes no lock on a shared {@code SecureRandom}. Request ids are
   * correlation ids, not secrets.
   */
  public static String newRequestId() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long high = (random.nextLong() & ~0xf000L) | 0x4000L; // version 4
    long low = (random.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L; // IETF variant
    return toUuid(high, low);
  }

  /** The canonical lowercase UUID text of 128 bits. */
  public static String toUuid(long high, long low) {
    byte[] out = HexCodec.scratch();
    HexCodec.writeHex(high >>> 32, 8, out, 0);
    out[8] = '-';
    HexCodec.writeHex(high >>> 16, 4, out, 9);
    out[13] = '-';
    HexCodec.writeHex(high, 4, out, 14);
    out[18] = '-';
    HexCodec.writeHex(low >>> 48, 4, out, 19);
    out[23] = '-';
    HexCodec.writeHex(low, 12, out, 24);
    return HexCodec.ascii(out, UUID_LENGTH);
  }

  /** Reads the hex digits of {@code s[begin, end)}, skipping dashes. */
  static long readHex(CharSequence s, int begin, int end) {
    long result = 0;
    for (int i = begin; i < end; i++) {
      char c = s.charAt(i);
      if (c == '-') continue;
      result = (result << 4) | (HexCodec.anyCaseHexDigit(c) & 0xf);
    }
    return result;
  }

  static boolean isOws(char c) {
    return c == ' ' || c == '\t';
  }

  private RequestIdCodec() {}
}
