package io.hoptrace.propagation.w3c;

import org.jspecify.annotations.Nullable;

/**
 * The W3C {@code tracestate} header: a list of up to 32 {@code key=value} members, e.g. {@code
 * congo=t61rcWkgMzE,rojo=00f067aa0ba902b7}.
 *
 * <p>Grammar (W3C Trace Context, §3.3.1): a key is a simple key ({@code lcalpha} then up to 255 of
 * {@code lcalpha / DIGIT / _ - * /}) or a multi-tenant key {@code tenant@system} (tenant: {@code
 * lcalpha / DIGIT} then up to 240 key chars; system: {@code lcalpha} then up to 13); a value is 1
 * to 256 printable ASCII chars ({@code 0x20-0x7E}) except {@code ,} and {@code =}, not ending in a
 * space. Empty members and OWS around commas are tolerated. More than 32 members, a bad key or
 * value, or a duplicate key make the whole header invalid (it is then dropped; the traceparent
 * still stands).
 *
 * <p>A valid header longer than the configured maximum (at least 512, as W3C asks vendors to
 * propagate) is truncated by whole members: members longer than 128 chars go first (from the end),
 * then members from the end, as W3C recommends.
 *
 * <p>Validation is one pass with int states and allocates nothing; duplicate keys are found with a
 * 64-bit Bloom filter of key hashes, and only a filter hit re-reads the earlier keys in place.
 */
public final class TracestateCodec {
  public static final String NAME = "tracestate";

  /** W3C: vendors SHOULD propagate at least 512 chars of the combined header. */
  public static final int MIN_MAX_LENGTH = 512;

  public static final int DEFAULT_MAX_LENGTH = 512;

  public static final int MAX_MEMBERS = 32;

  /** A member longer than this is the first to go when truncating (W3C §3.3.1.5). */
  public static final int LONG_MEMBER_LENGTH = 128;

  /**
   * Inputs longer than this are refused before they are read: 32 members of the longest key (256)
   * and value (256), with {@code ", "} between them.
   */
  public static final int MAX_LENGTH = MAX_MEMBERS * (256 + 1 + 256) + (MAX_MEMBERS - 1) * 2;

  static final int MAX_SIMPLE_KEY = 256;
  static final int MAX_TENANT = 241;
  static final int MAX_SYSTEM = 14;
  static final int MAX_VALUE = 256;

  private static final int BEFORE_KEY = 0, KEY = 1, VALUE = 2, AFTER_VALUE = 3;

  /** Parses the whole value with {@link #DEFAULT_MAX_LENGTH}. */
  public static @Nullable String parse(CharSequence value) {
    return parse(value, 0, value.length(), DEFAULT_MAX_LENGTH);
  }

  /**
   * Validates {@code value[begin, end)} and returns what to propagate: the value itself when it is
   * already canonical (no OWS, no empty members) and fits {@code maxLength}; otherwise its members
   * joined by {@code ,} and truncated to fit. Returns null when the header is invalid or has no
   * members. Throws only when {@code maxLength < 512} (a programming error).
   */
  public static @Nullable String parse(CharSequence value, int begin, int end, int maxLength) {
    if (maxLength < MIN_MAX_LENGTH) {
      throw new IllegalArgumentException(
          "maxLength: " + maxLength + " (expected: >= " + MIN_MAX_LENGTH + ")");
    }
    long scan = scan(value, begin, end);
    if (scan < 0) return null;
    int members = members(scan);
    if (members == 0) return null;
    int length = normalizedLength(scan);
    if (isCanonical(scan) && length <= maxLength) {
      return value.subSequence(begin, end).toString(); // String.subSequence of the whole: no copy
    }
    return normalize(value, begin, end, members, length, maxLength);
  }

  /** True when {@code value[begin, end)} is a valid tracestate (possibly with no members). */
  public static boolean isValid(CharSequence value, int begin, int end) {
    return scan(value, begin, end) >= 0;
  }

  /**
   * One pass over the list. Returns -1 when invalid, else the normalized length (bits 0-19), the
   * member count (bits 20-25) and whether the input is already canonical (bit 26).
   */
  static long scan(CharSequence s, int begin, int end) {
    if (begin < 0 || end > s.length() || begin > end || end - begin > MAX_LENGTH) return -1;
    int state = BEFORE_KEY;
    boolean canonical = true;
    int members = 0;
    int length = 0;
    int keyBegin = 0;
    int at = -1; // index of '@' in a multi-tenant key
    int keyHash = 0;
    long bloom = 0;
    int valueBegin = 0;
    int valueEnd = -1; // one past the last non-space char of the value
    // i == end is a virtual ',' that closes the last member.
    for (int i = begin; i <= end; i++) {
      boolean last = i == end;
      char c = last ? ',' : s.charAt(i);
      switch (state) {
        case BEFORE_KEY -> {
          if (last) {
            if (i > begin) canonical = false; // trailing comma or OWS
          } else if (c == ' ' || c == '\t' || c == ',') {
            canonical = false; // OWS or an empty member
          } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            state = KEY;
            keyBegin = i;
            at = -1;
            keyHash = c;
          } else {
            return -1;
          }
        }
        case KEY -> {
          if (c == '=') {
            if (!isValidKey(s, keyBegin, at, i)) return -1;
            long bit = 1L << (keyHash & 63);
            if ((bloom & bit) != 0 && hasEarlierKey(s, begin, keyBegin, i)) return -1;
            bloom |= bit;
            state = VALUE;
            valueBegin = i + 1;
            valueEnd = -1;
          } else if (c == '@') {
            if (at >= 0) return -1;
            at = i;
            keyHash = 31 * keyHash + c;
          } else if (isKeyChar(c)) {
            keyHash = 31 * keyHash + c;
          } else {
            return -1;
          }
        }
        case VALUE -> {
          if (c == ',' || c == '\t') {
            if (valueEnd < 0 || valueEnd - valueBegin > MAX_VALUE) return -1;
            if (valueEnd != i) canonical = false; // trailing OWS
            if (++members > MAX_MEMBERS) return -1;
            length += (members > 1 ? 1 : 0) + valueEnd - keyBegin;
            state = c == ',' ? BEFORE_KEY : AFTER_VALUE;
          } else if (c > ' ' && c <= '~' && c != '=') {
            valueEnd = i + 1;
          } else if (c
              != ' ') { // a space is inside the value or trailing OWS: what follows decides
            return -1;
          }
        }
        default -> { // AFTER_VALUE: only OWS until the comma
          if (c == ',') {
            state = BEFORE_KEY;
          } else if (c != ' ' && c != '\t') {
            return -1;
          }
        }
      }
    }
    if (state == KEY) return -1;
    return length | ((long) members << 20) | (canonical ? 1L << 26 : 0L);
  }

  static int normalizedLength(long scan) {
    return (int) (scan & 0xfffff);
  }

  static int members(long scan) {
    return (int) ((scan >>> 20) & 0x3f);
  }

  static boolean isCanonical(long scan) {
    return (scan & (1L << 26)) != 0;
  }

  static boolean isKeyChar(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9')
        || c == '_'
        || c == '-'
        || c == '*'
        || c == '/';
  }

  /** Chars are already key chars and the first is lcalpha or a digit; checks shape and lengths. */
  static boolean isValidKey(CharSequence s, int keyBegin, int at, int keyEnd) {
    if (at < 0) {
      char first = s.charAt(keyBegin);
      return first >= 'a' && first <= 'z' && keyEnd - keyBegin <= MAX_SIMPLE_KEY;
    }
    int tenant = at - keyBegin;
    int system = keyEnd - at - 1;
    if (tenant < 1 || tenant > MAX_TENANT || system < 1 || system > MAX_SYSTEM) return false;
    char systemFirst = s.charAt(at + 1);
    return systemFirst >= 'a' && systemFirst <= 'z';
  }

  /**
   * Whether {@code s[keyBegin, keyEnd)} equals a key of an earlier member. The list before {@code
   * keyBegin} is already valid, so values hold no {@code ,} and keys end at {@code =}.
   */
  static boolean hasEarlierKey(CharSequence s, int listBegin, int keyBegin, int keyEnd) {
    int keyLength = keyEnd - keyBegin;
    int i = listBegin;
    while (i < keyBegin) {
      char c = s.charAt(i);
      if (c == ' ' || c == '\t' || c == ',') {
        i++;
        continue;
      }
      int other = i;
      while (s.charAt(i) != '=') i++;
      if (i - other == keyLength && regionMatches(s, other, keyBegin, keyLength)) return true;
      while (i < keyBegin && s.charAt(i) != ',') i++;
    }
    return false;
  }

  static boolean regionMatches(CharSequence s, int a, int b, int length) {
    for (int k = 0; k < length; k++) {
      if (s.charAt(a + k) != s.charAt(b + k)) return false;
    }
    return true;
  }

  /** The success path when the input is not canonical or too long: allocation is fine here. */
  static String normalize(
      CharSequence s, int begin, int end, int members, int length, int maxLength) {
    int[] bounds = new int[members * 2];
    int n = 0;
    int i = begin;
    while (i < end) {
      char c = s.charAt(i);
      if (c == ' ' || c == '\t' || c == ',') {
        i++;
        continue;
      }
      int memberBegin = i;
      while (i < end && s.charAt(i) != ',') i++;
      int memberEnd = i;
      while (s.charAt(memberEnd - 1) == ' ' || s.charAt(memberEnd - 1) == '\t') memberEnd--;
      bounds[n++] = memberBegin;
      bounds[n++] = memberEnd;
    }
    boolean[] dropped = new boolean[members];
    int kept = members;
    // First members longer than 128 chars, from the end; then any member from the end.
    for (int pass = 0; pass < 2 && length > maxLength; pass++) {
      for (int m = members - 1; m >= 0 && length > maxLength; m--) {
        if (dropped[m]) continue;
        int memberLength = bounds[2 * m + 1] - bounds[2 * m];
        if (pass == 0 && memberLength <= LONG_MEMBER_LENGTH) continue;
        dropped[m] = true;
        kept--;
        length -= memberLength + (kept > 0 ? 1 : 0);
      }
    }
    StringBuilder out = new StringBuilder(length);
    for (int m = 0; m < members; m++) {
      if (dropped[m]) continue;
      if (out.length() > 0) out.append(',');
      out.append(s, bounds[2 * m], bounds[2 * m + 1]);
    }
    return out.toString();
  }

  private TracestateCodec() {}
}
