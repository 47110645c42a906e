package io.hoptrace.propagation.b3;

import io.hoptrace.context.HexCodec;
import io.hoptrace.context.TraceContext;
import org.jspecify.annotations.Nullable;

/**
 * The single {@code b3} header: {@code {traceId}-{spanId}[-{sampling}[-{parentSpanId}]]}, where the
 * trace id is 16 or 32 lowercase hex (16 is left-padded to 128 bits), span ids are 16 lowercase
 * hex, and sampling is {@code 0}, {@code 1} or {@code d} (debug, read as sampled). The
 * sampling-only forms {@code 0}, {@code 1} and {@code d} carry no context: {@link #parse} returns
 * null for them and {@link #isSamplingOnly} recognises them.
 *
 * <p>Like brave's {@code B3SingleFormat}: lowercase only, positional, validated in one pass before
 * anything is read or allocated. Leading and trailing OWS is tolerated.
 */
public final class B3SingleCodec {
  public static final String NAME = "b3";

  /** The longest valid value: 32 + 1 + 16 + 1 + 1 + 1 + 16. */
  public static final int FORMAT_MAX_LENGTH = 68;

  /** Values longer than this (OWS included) are refused before they are read. */
  public static final int MAX_LENGTH = 256;

  /** Parses the whole value; see {@link #parse(CharSequence, int, int)}. */
  public static @Nullable TraceContext parse(CharSequence value) {
    return parse(value, 0, value.length());
  }

  /**
   * Parses {@code value[begin, end)} into the caller's context (span id = the header's span id,
   * parent id = its parent span id or zero). Absent sampling means "not decided yet": the context
   * is marked sampled, because hoptrace records every hop it proxies. Returns null when invalid.
   */
  public static @Nullable TraceContext parse(CharSequence value, int begin, int end) {
    if (begin < 0 || end > value.length() || begin > end || end - begin > MAX_LENGTH) return null;
    while (begin < end && isOws(value.charAt(begin))) begin++;
    while (end > begin && isOws(value.charAt(end - 1))) end--;
    int length = end - begin;
    if (length < 16 + 1 + 16 || length > FORMAT_MAX_LENGTH) return null;

    int traceIdLength = value.charAt(begin + 16) == '-' ? 16 : 32;
    int spanIdBegin = begin + traceIdLength + 1;
    if (traceIdLength == 32 && (length < 32 + 1 + 16 || value.charAt(begin + 32) != '-')) {
      return null;
    }
    int spanIdEnd = spanIdBegin + 16;
    int sampled = TraceContext.FLAG_SAMPLED;
    int parentBegin = -1;
    if (end != spanIdEnd) {
      // "-s" or "-s-parent16"
      if (end - spanIdEnd != 2 && end - spanIdEnd != 2 + 1 + 16) return null;
      if (value.charAt(spanIdEnd) != '-') return null;
      char s = value.charAt(spanIdEnd + 1);
      if (s == '0') {
        sampled = 0;
      } else if (s != '1' && s != 'd') {
        return null;
      }
      if (end - spanIdEnd > 2) {
        if (value.charAt(spanIdEnd + 2) != '-') return null;
        parentBegin = spanIdEnd + 3;
      }
    }
    if (!HexCodec.isLowerHex(value, begin, begin + traceIdLength)
        || !HexCodec.isLowerHex(value, spanIdBegin, spanIdEnd)
        || (parentBegin >= 0 && !HexCodec.isLowerHex(value, parentBegin, parentBegin + 16))) {
      return null;
    }
    long traceIdHigh = traceIdLength == 32 ? HexCodec.parseLowerHex(value, begin, begin + 16) : 0L;
    long traceIdLow = HexCodec.parseLowerHex(value, spanIdBegin - 17, spanIdBegin - 1);
    long spanId = HexCodec.parseLowerHex(value, spanIdBegin, spanIdEnd);
    long parentId = parentBegin >= 0 ? HexCodec.parseLowerHex(value, parentBegin, end) : 0L;
    if ((traceIdHigh | traceIdLow) == 0L || spanId == 0L) return null;
    return TraceContext.newBuilder()
        .traceId(traceIdHigh, traceIdLow)
        .spanId(spanId)
        .parentId(parentId)
        .flags(sampled)
        .build();
  }

  /** True for the sampling-only forms {@code 0}, {@code 1} and {@code d}, which carry no ids. */
  public static boolean isSamplingOnly(CharSequence value) {
    int begin = 0;
    int end = value.length();
    if (end > MAX_LENGTH) return false;
    while (begin < end && isOws(value.charAt(begin))) begin++;
    while (end > begin && isOws(value.charAt(end - 1))) end--;
    if (end - begin != 1) return false;
    char c = value.charAt(begin);
    return c == '0' || c == '1' || c == 'd';
  }

  /**
   * Writes {@code traceId-spanId-sampled[-parentId]} into {@code dst} from index 0 and returns the
   * length. The trace id is 16 hex when its high half is zero (as it came from a 64-bit system,
   * like brave does) and 32 otherwise. {@code dst} needs {@link #FORMAT_MAX_LENGTH} chars.
   */
  public static int write(TraceContext context, char[] dst) {
    int pos = 0;
    if (context.traceIdHigh() != 0L) {
      HexCodec.writeHexLong(context.traceIdHigh(), dst, pos);
      pos += 16;
    }
    HexCodec.writeHexLong(context.traceIdLow(), dst, pos);
    pos += 16;
    dst[pos++] = '-';
    HexCodec.writeHexLong(context.spanId(), dst, pos);
    pos += 16;
    dst[pos++] = '-';
    dst[pos++] = context.sampled() ? '1' : '0';
    if (context.hasParent()) {
      dst[pos++] = '-';
      HexCodec.writeHexLong(context.parentId(), dst, pos);
      pos += 16;
    }
    return pos;
  }

  /** The header value for {@code context}. */
  public static String toString(TraceContext context) {
    char[] buf = new char[FORMAT_MAX_LENGTH];
    return new String(buf, 0, write(context, buf));
  }

  static boolean isOws(char c) {
    return c == ' ' || c == '\t';
  }

  private B3SingleCodec() {}
}
