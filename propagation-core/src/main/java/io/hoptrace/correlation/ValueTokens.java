package io.hoptrace.correlation;

import org.jspecify.annotations.Nullable;

/**
 * The values a request's path and query carry, as hashes: what {@link ValueSharing} compares
 * between an inbound request and an outbound call. No raw value is kept.
 *
 * <p>A token is a position and a value. Positions: path segment i (counted from the first segment
 * after the authority) when the segment contains a digit (the segments a route key folds to {@code
 * {}}: a literal segment is part of the route, so every request of the route shares it), and each
 * query parameter by name. Values shorter than {@link #MIN_LENGTH} characters ({@code page=1}) or
 * longer than {@link #MAX_LENGTH} are left out; at most {@link #MAX} tokens per request, the first
 * ones. The result is {@code [position0, value0, position1, value1, ...]}; a value hash is never 0.
 *
 * <p>Hashes are 64-bit and seeded per process, so a span log never reveals them and a hostile app
 * cannot aim collisions at a process it cannot read.
 */
final class ValueTokens {
  static final int MAX = 8;
  static final int MIN_LENGTH = 3;
  static final int MAX_LENGTH = 128;
  static final long[] NONE = new long[0];

  private static final long SEED = new java.security.SecureRandom().nextLong();
  private static final long QUERY = 0x5157_4552_5900_0000L;

  private ValueTokens() {}

  /** The tokens of {@code path} (with or without scheme and authority) and {@code query}. */
  static long[] of(String path, @Nullable String query) {
    long[] out = new long[2 * MAX];
    int n = 0;
    int start = 0;
    int scheme = path.indexOf("://");
    if (scheme > 0 && scheme < 8) {
      int slash = path.indexOf('/', scheme + 3);
      start = slash < 0 ? path.length() : slash;
    }
    int end = path.indexOf('?', start);
    if (end < 0) {
      end = path.length();
    } else if (query == null) {
      query = path.substring(end + 1);
    }
    int segment = 0;
    int i = start;
    while (i < end && n < MAX) {
      if (path.charAt(i) == '/') i++;
      int next = path.indexOf('/', i);
      if (next < 0 || next > end) next = end;
      if (next - i >= MIN_LENGTH && next - i <= MAX_LENGTH && hasDigit(path, i, next)) {
        out[2 * n] = segment + 1L;
        out[2 * n + 1] = value(path, i, next);
        n++;
      }
      segment++;
      i = next;
    }
    if (query != null) {
      int q = 0;
      while (q < query.length() && n < MAX) {
        int amp = query.indexOf('&', q);
        if (amp < 0) amp = query.length();
        int eq = query.indexOf('=', q);
        if (eq > q && eq < amp && amp - eq - 1 >= MIN_LENGTH && amp - eq - 1 <= MAX_LENGTH) {
          out[2 * n] = QUERY ^ hash(query, q, eq, SEED);
          out[2 * n + 1] = value(query, eq + 1, amp);
          n++;
        }
        q = amp + 1;
      }
    }
    if (n == 0) return NONE;
    return n == MAX ? out : java.util.Arrays.copyOf(out, 2 * n);
  }

  /** The value at {@code position}, or 0 when {@code tokens} has none there. */
  static long valueAt(long[] tokens, long position) {
    for (int i = 0; i < tokens.length; i += 2) if (tokens[i] == position) return tokens[i + 1];
    return 0;
  }

  /** A 64-bit hash of a string, for route keys. */
  static long hash(String s) {
    return hash(s, 0, s.length(), SEED);
  }

  /** Mixes two hashes into one (not symmetric). */
  static long mix(long a, long b) {
    return fmix(a * 0x9E3779B97F4A7C15L + Long.rotateLeft(b, 31) + 0x632BE59BD9B4E019L);
  }

  private static long value(String s, int from, int to) {
    long h = hash(s, from, to, ~SEED);
    return h == 0 ? 1 : h;
  }

  private static long hash(String s, int from, int to, long seed) {
    long h = seed ^ 0xCBF29CE484222325L;
    for (int i = from; i < to; i++) {
      h ^= s.charAt(i);
      h *= 0x100000001B3L;
    }
    return fmix(h ^ (to - from));
  }

  private static long fmix(long k) {
    k ^= k >>> 33;
    k *= 0xFF51AFD7ED558CCDL;
    k ^= k >>> 33;
    k *= 0xC4CEB93FE1A85394L;
    k ^= k >>> 33;
    return k;
  }

  private static boolean hasDigit(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c >= '0' && c <= '9') return true;
    }
    return false;
  }
}
