package io.hoptrace.propagation.w3c;

import io.hoptrace.context.HexCodec;
import io.hoptrace.context.TraceContext;
import org.jspecify.annotations.Nullable;

/**
 * The W3C {@code traceparent} header: {@code version-traceid-parentid-flags}, e.g. {@code
 * 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01}.
 *
 * <p>Parsing follows the Recommendation's processing model: lowercase hex only; version {@code ff}
 * is invalid; version {@code 00} must be exactly 55 chars; a future version (01..fe) is read by its
 * first four fields and, past 55 chars, must continue with {@code -}; an all-zero trace id or
 * parent id is invalid. Leading and trailing OWS (space, tab) is tolerated, as HTTP allows.
 *
 * <p>The value is validated in one pass before anything is read or allocated: a bad header costs
 * one walk and returns null. Only the sampled and random flags are kept; W3C asks that other bits
 * be zeroed when propagating, and hoptrace always writes version {@code 00}.
 */
public final class TraceparentCodec {
  public static final String NAME = "traceparent";

  /** The length of a version 00 value, and of what {@link #write} produces. */
  public static final int FORMAT_LENGTH = 55;

  /**
   * Values longer than this are refused before they are read. Future versions may append fields, so
   * this is generous; a version 00 value is exactly {@link #FORMAT_LENGTH}.
   */
  public static final int MAX_LENGTH = 512;

  /** The flags hoptrace understands and propagates: sampled (Level 1) and random (Level 2). */
  public static final int KNOWN_FLAGS = TraceContext.FLAG_SAMPLED | TraceContext.FLAG_RANDOM;

  /** Parses the whole value; see {@link #parse(CharSequence, int, int)}. */
  public static @Nullable TraceContext parse(CharSequence value) {
    return parse(value, 0, value.length());
  }

  /**
   * Parses {@code value[begin, end)} into a context whose span id is the caller's (the header's
   * parent-id) and whose parent id is zero (unknown). Returns null when the value is invalid; never
   * throws on wire input.
   */
  public static @Nullable TraceContext parse(CharSequence value, int begin, int end) {
    int at = frame(value, begin, end);
    if (at < 0) return null;
    // One read per hex char: digits are validated and accumulated together; bad goes negative
    // as soon as one is not lowercase hex.
    int bad = 0;
    long high = 0, low = 0, parent = 0;
    for (int i = at + 3; i < at + 19; i++) {
      int d = HexCodec.lowerHexDigit(value.charAt(i));
      bad |= d;
      high = (high << 4) | (d & 0xf);
    }
    for (int i = at + 19; i < at + 35; i++) {
      int d = HexCodec.lowerHexDigit(value.charAt(i));
      bad |= d;
      low = (low << 4) | (d & 0xf);
    }
    for (int i = at + 36; i < at + 52; i++) {
      int d = HexCodec.lowerHexDigit(value.charAt(i));
      bad |= d;
      parent = (parent << 4) | (d & 0xf);
    }
    int f0 = HexCodec.lowerHexDigit(value.charAt(at + 53));
    int f1 = HexCodec.lowerHexDigit(value.charAt(at + 54));
    if ((bad | f0 | f1) < 0 || (high | low) == 0L || parent == 0L) return null;
    return TraceContext.newBuilder()
        .traceId(high, low)
        .spanId(parent)
        .flags(((f0 << 4) | f1) & KNOWN_FLAGS)
        .build(); // the builder stays in this method, so escape analysis removes it
  }

  /**
   * Checks {@code value[begin, end)} in one pass without allocating. Returns the index where the
   * version starts (after leading OWS) when valid, else -1. The accessors {@link #traceIdHigh},
   * {@link #traceIdLow}, {@link #parentId} and {@link #flags} then read the fields from that index:
   * this is the allocation-free path for callers that want primitives.
   */
  public static int validate(CharSequence value, int begin, int end) {
    int at = frame(value, begin, end);
    if (at < 0) return -1;
    // The OR of a field's digits is negative if one is not lowercase hex, zero if all are zero.
    int traceId = 0;
    for (int i = at + 3; i < at + 35; i++) traceId |= HexCodec.lowerHexDigit(value.charAt(i));
    int parentId = 0;
    for (int i = at + 36; i < at + 52; i++) parentId |= HexCodec.lowerHexDigit(value.charAt(i));
    int flags =
        HexCodec.lowerHexDigit(value.charAt(at + 53))
            | HexCodec.lowerHexDigit(value.charAt(at + 54));
    if ((traceId | parentId | flags) < 0 || traceId == 0 || parentId == 0) return -1;
    return at;
  }

  /**
   * Everything but the id and flag digits: bounds, OWS, length, delimiters, version (lowercase hex,
   * not {@code ff}; {@code 00} exactly 55 chars; a future version continues with {@code -}).
   * Returns where the version starts, or -1.
   */
  static int frame(CharSequence value, int begin, int end) {
    if (begin < 0 || end > value.length() || end - begin > MAX_LENGTH) return -1;
    while (begin < end && isOws(value.charAt(begin))) begin++;
    while (end > begin && isOws(value.charAt(end - 1))) end--;
    int length = end - begin;
    if (length < FORMAT_LENGTH) return -1;
    if (value.charAt(begin + 2) != '-'
        || value.charAt(begin + 35) != '-'
        || value.charAt(begin + 52) != '-') {
      return -1;
    }
    int v0 = HexCodec.lowerHexDigit(value.charAt(begin));
    int v1 = HexCodec.lowerHexDigit(value.charAt(begin + 1));
    if ((v0 | v1) < 0) return -1;
    int version = (v0 << 4) | v1;
    if (version == 0xff) return -1;
    if (version == 0 && length != FORMAT_LENGTH) return -1;
    if (length > FORMAT_LENGTH && value.charAt(begin + FORMAT_LENGTH) != '-') return -1;
    return begin;
  }

  /** The trace id's high half of a value that {@link #validate} accepted at {@code at}. */
  public static long traceIdHigh(CharSequence value, int at) {
    return HexCodec.readLowerHex16(value, at + 3);
  }

  /** The trace id's low half of a value that {@link #validate} accepted at {@code at}. */
  public static long traceIdLow(CharSequence value, int at) {
    return HexCodec.readLowerHex16(value, at + 19);
  }

  /** The parent-id (the caller's span id) of a value that {@link #validate} accepted. */
  public static long parentId(CharSequence value, int at) {
    return HexCodec.readLowerHex16(value, at + 36);
  }

  /** The known flags ({@link #KNOWN_FLAGS}) of a value that {@link #validate} accepted. */
  public static int flags(CharSequence value, int at) {
    return (int) HexCodec.parseLowerHex(value, at + 53, at + 55) & KNOWN_FLAGS;
  }

  /**
   * Writes {@code 00-traceid-spanid-flags} naming {@code context}'s span into {@code dst} from
   * index 0 and returns the length written ({@link #FORMAT_LENGTH}).
   */
  public static int write(TraceContext context, char[] dst) {
    return write(
        context.traceIdHigh(), context.traceIdLow(), context.spanId(), context.flags(), dst);
  }

  /** Primitive form of {@link #write(TraceContext, char[])}. */
  public static int write(long traceIdHigh, long traceIdLow, long spanId, int flags, char[] dst) {
    dst[0] = '0';
    dst[1] = '0';
    dst[2] = '-';
    HexCodec.writeHexLong(traceIdHigh, dst, 3);
    HexCodec.writeHexLong(traceIdLow, dst, 19);
    dst[35] = '-';
    HexCodec.writeHexLong(spanId, dst, 36);
    dst[52] = '-';
    HexCodec.writeHexByte(flags & KNOWN_FLAGS, dst, 53);
    return FORMAT_LENGTH;
  }

  /** The header value naming {@code context}'s span. */
  public static String toString(TraceContext context) {
    byte[] buf = HexCodec.scratch(); // bytes: a char[] would be compressed into a copy
    buf[0] = '0';
    buf[1] = '0';
    buf[2] = '-';
    HexCodec.writeHexLong(context.traceIdHigh(), buf, 3);
    HexCodec.writeHexLong(context.traceIdLow(), buf, 19);
    buf[35] = '-';
    HexCodec.writeHexLong(context.spanId(), buf, 36);
    buf[52] = '-';
    HexCodec.writeHexByte(context.flags() & KNOWN_FLAGS, buf, 53);
    return HexCodec.ascii(buf, FORMAT_LENGTH);
  }

  static boolean isOws(char c) {
    return c == ' ' || c == '\t';
  }

  private TraceparentCodec() {}
}
