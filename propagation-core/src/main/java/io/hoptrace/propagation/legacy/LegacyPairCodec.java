package io.hoptrace.propagation.legacy;

import static java.util.Objects.requireNonNull;

import io.hoptrace.context.HexCodec;
import io.hoptrace.context.TraceContext;
import io.hoptrace.propagation.HeaderSetter;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A pair of legacy id headers with configurable names, such as {@code X-Trace-Id} and {@code
 * X-Span-Id}: a trace id of 16 or 32 hex (16 is left-padded to 128 bits) and a span id of 16 hex.
 *
 * <p>Unlike W3C and B3, hex is accepted in either case: home-grown systems vary, and rejecting
 * {@code ABCD...} would restart traces that are perfectly identifiable. Ids are normalised to
 * lowercase when written. Both headers must be present: a trace id alone names no caller span.
 * Written trace ids are 16 hex when the high half is zero (so a 64-bit system gets back what it
 * sent) and 32 otherwise.
 */
public final class LegacyPairCodec {
  /** Each field is at most this long (OWS included); longer is invalid without being read. */
  public static final int MAX_LENGTH = 64;

  final String traceIdName;
  final String spanIdName;

  /** Names are validated as HTTP tokens; throws {@link IllegalArgumentException} otherwise. */
  public static LegacyPairCodec of(String traceIdName, String spanIdName) {
    checkHeaderName("legacy.traceIdHeader", traceIdName);
    checkHeaderName("legacy.spanIdHeader", spanIdName);
    if (traceIdName.equalsIgnoreCase(spanIdName)) {
      throw new IllegalArgumentException(
          "legacy.spanIdHeader: " + spanIdName + " (expected: different from the trace id header)");
    }
    return new LegacyPairCodec(traceIdName, spanIdName);
  }

  LegacyPairCodec(String traceIdName, String spanIdName) {
    this.traceIdName = traceIdName;
    this.spanIdName = spanIdName;
  }

  public String traceIdName() {
    return traceIdName;
  }

  public String spanIdName() {
    return spanIdName;
  }

  /** Both header names, for removal before injection. */
  public List<String> names() {
    return List.of(traceIdName, spanIdName);
  }

  /**
   * Parses the pair into the caller's context (sampled, no parent), or null when either is missing
   * or invalid.
   */
  public static @Nullable TraceContext parse(
      @Nullable CharSequence traceId, @Nullable CharSequence spanId) {
    if (traceId == null || spanId == null) return null;
    if (traceId.length() > MAX_LENGTH || spanId.length() > MAX_LENGTH) return null;
    int t = firstNonOws(traceId);
    int tEnd = lastNonOws(traceId, t);
    int s = firstNonOws(spanId);
    int sEnd = lastNonOws(spanId, s);
    int traceIdLength = tEnd - t;
    if ((traceIdLength != 16 && traceIdLength != 32) || sEnd - s != 16) return null;
    int bad = 0;
    long high = 0;
    long low = 0;
    for (int i = t; i < tEnd; i++) {
      int d = HexCodec.anyCaseHexDigit(traceId.charAt(i));
      bad |= d;
      high = (high << 4) | (low >>> 60);
      low = (low << 4) | (d & 0xf);
    }
    long span = 0;
    for (int i = s; i < sEnd; i++) {
      int d = HexCodec.anyCaseHexDigit(spanId.charAt(i));
      bad |= d;
      span = (span << 4) | (d & 0xf);
    }
    if (bad < 0 || (high | low) == 0L || span == 0L) return null;
    return TraceContext.newBuilder().traceId(high, low).spanId(span).build();
  }

  /** Sets both headers for {@code context}, in lowercase. */
  public <C> void inject(TraceContext context, C carrier, HeaderSetter<C> setter) {
    setter.set(
        carrier,
        traceIdName,
        context.traceIdHigh() == 0L
            ? HexCodec.toHex(context.traceIdLow())
            : context.traceIdString());
    setter.set(carrier, spanIdName, context.spanIdString());
  }

  static int firstNonOws(CharSequence s) {
    int i = 0;
    while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) i++;
    return i;
  }

  static int lastNonOws(CharSequence s, int begin) {
    int end = s.length();
    while (end > begin && (s.charAt(end - 1) == ' ' || s.charAt(end - 1) == '\t')) end--;
    return end;
  }

  /** An RFC 9110 token: what a header name may be. */
  public static void checkHeaderName(String key, String name) {
    requireNonNull(name, key);
    boolean ok = !name.isEmpty();
    for (int i = 0; ok && i < name.length(); i++) {
      char c = name.charAt(i);
      ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }
    if (!ok) {
      throw new IllegalArgumentException(
          key + ": \"" + name + "\" (expected: an HTTP header name)");
    }
  }

  @Override
  public String toString() {
    return "LegacyPairCodec{" + traceIdName + ", " + spanIdName + "}";
  }
}
