package io.hoptrace.propagation.b3;

import io.hoptrace.context.HexCodec;
import io.hoptrace.context.TraceContext;
import io.hoptrace.propagation.HeaderSetter;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The multi-header B3 form: {@code X-B3-TraceId} (16 or 32 lowercase hex; 16 is left-padded to 128
 * bits), {@code X-B3-SpanId}, optional {@code X-B3-ParentSpanId}, {@code X-B3-Sampled} ({@code
 * 0}/{@code 1}, and {@code true}/{@code false} from old clients) and {@code X-B3-Flags: 1} (debug,
 * read as sampled). Trace id and span id come together or not at all; sampled or flags alone carry
 * no context.
 */
public final class B3MultiCodec {
  public static final String TRACE_ID = "X-B3-TraceId";
  public static final String SPAN_ID = "X-B3-SpanId";
  public static final String PARENT_SPAN_ID = "X-B3-ParentSpanId";
  public static final String SAMPLED = "X-B3-Sampled";
  public static final String FLAGS = "X-B3-Flags";

  /** Every header of this format, for removal before injection. */
  public static final List<String> NAMES =
      List.of(TRACE_ID, SPAN_ID, PARENT_SPAN_ID, SAMPLED, FLAGS);

  /** Each field is at most this long; longer is invalid without being read. */
  public static final int MAX_LENGTH = 64;

  /**
   * Parses the fields into the caller's context, or returns null when they are invalid (including
   * when either of trace id or span id is missing). Absent sampling means "not decided yet": the
   * context is marked sampled, because hoptrace records every hop it proxies.
   */
  public static @Nullable TraceContext parse(
      @Nullable CharSequence traceId,
      @Nullable CharSequence spanId,
      @Nullable CharSequence parentSpanId,
      @Nullable CharSequence sampled,
      @Nullable CharSequence flags) {
    if (traceId == null || spanId == null) return null;
    int traceIdLength = trimmedLength(traceId);
    if (traceIdLength != 16 && traceIdLength != 32) return null;
    if (trimmedLength(spanId) != 16) return null;
    if (parentSpanId != null && trimmedLength(parentSpanId) != 16) return null;
    int sampledFlag = sampledFlag(sampled);
    if (sampledFlag < 0) return null;
    if (isOne(flags)) sampledFlag = TraceContext.FLAG_SAMPLED; // debug implies sampled

    int t = firstNonOws(traceId);
    int s = firstNonOws(spanId);
    int p = parentSpanId == null ? 0 : firstNonOws(parentSpanId);
    if (!HexCodec.isLowerHex(traceId, t, t + traceIdLength)
        || !HexCodec.isLowerHex(spanId, s, s + 16)
        || (parentSpanId != null && !HexCodec.isLowerHex(parentSpanId, p, p + 16))) {
      return null;
    }
    long high = traceIdLength == 32 ? HexCodec.parseLowerHex(traceId, t, t + 16) : 0L;
    long low = HexCodec.parseLowerHex(traceId, t + traceIdLength - 16, t + traceIdLength);
    long span = HexCodec.parseLowerHex(spanId, s, s + 16);
    long parent = parentSpanId == null ? 0L : HexCodec.parseLowerHex(parentSpanId, p, p + 16);
    if ((high | low) == 0L || span == 0L) return null;
    return TraceContext.newBuilder()
        .traceId(high, low)
        .spanId(span)
        .parentId(parent)
        .flags(sampledFlag)
        .build();
  }

  /**
   * Sets the headers for {@code context} (trace id as 16 hex when its high half is zero, as brave
   * does). Does not remove anything: the injector clears stale headers first.
   */
  public static <C> void inject(TraceContext context, C carrier, HeaderSetter<C> setter) {
    setter.set(
        carrier,
        TRACE_ID,
        context.traceIdHigh() == 0L
            ? HexCodec.toHex(context.traceIdLow())
            : context.traceIdString());
    setter.set(carrier, SPAN_ID, context.spanIdString());
    String parent = context.parentIdString();
    if (parent != null) setter.set(carrier, PARENT_SPAN_ID, parent);
    setter.set(carrier, SAMPLED, context.sampled() ? "1" : "0");
  }

  /** {@link TraceContext#FLAG_SAMPLED} or 0, or -1 when the value is not a sampling decision. */
  static int sampledFlag(@Nullable CharSequence sampled) {
    if (sampled == null) return TraceContext.FLAG_SAMPLED;
    int begin = firstNonOws(sampled);
    int length = trimmedLength(sampled);
    if (length == 1) {
      char c = sampled.charAt(begin);
      return c == '1' ? TraceContext.FLAG_SAMPLED : c == '0' ? 0 : -1;
    }
    if (equalsIgnoreCase(sampled, begin, length, "true")) return TraceContext.FLAG_SAMPLED;
    if (equalsIgnoreCase(sampled, begin, length, "false")) return 0;
    return -1;
  }

  static boolean isOne(@Nullable CharSequence flags) {
    return flags != null && trimmedLength(flags) == 1 && flags.charAt(firstNonOws(flags)) == '1';
  }

  static boolean equalsIgnoreCase(CharSequence s, int begin, int length, String expected) {
    if (length != expected.length()) return false;
    for (int i = 0; i < length; i++) {
      if (Character.toLowerCase(s.charAt(begin + i)) != expected.charAt(i)) return false;
    }
    return true;
  }

  static int firstNonOws(CharSequence s) {
    int i = 0;
    while (i < s.length() && B3SingleCodec.isOws(s.charAt(i))) i++;
    return i;
  }

  /** Length without leading and trailing OWS, or -1 when longer than {@link #MAX_LENGTH}. */
  static int trimmedLength(CharSequence s) {
    int end = s.length();
    if (end > MAX_LENGTH) return -1;
    int begin = firstNonOws(s);
    while (end > begin && B3SingleCodec.isOws(s.charAt(end - 1))) end--;
    return end - begin;
  }

  private B3MultiCodec() {}
}
