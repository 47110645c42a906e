package io.hoptrace.proxy.tcp.mysql;

import java.nio.charset.StandardCharsets;

/**
 * Turns SQL text into a statement safe and useful to record: every literal (strings, numbers, hex
 * and bit values) becomes {@code ?}, comments go (they may carry values), whitespace collapses, and
 * a list of placeholders collapses to one ({@code IN (?, ?, ?)} becomes {@code IN (?)}) so one
 * query shape gives one statement. One pass over the bytes; the output is bounded.
 */
final class SqlNormalizer {
  private SqlNormalizer() {}

  /**
   * Normalises {@code length} bytes of {@code sql} from {@code offset}; the result has at most
   * {@code maxChars} characters plus {@code ...} when cut, or when {@code inputCut} says the text
   * is only the start of a longer statement. An unterminated literal still becomes {@code ?}.
   */
  static String normalize(byte[] sql, int offset, int length, int maxChars, boolean inputCut) {
    byte[] out = new byte[maxChars + 1];
    int n = 0;
    int i = offset;
    int end = offset + length;
    boolean truncated = false;
    boolean space = false;
    while (i < end) {
      int c = sql[i] & 0xff;
      int next = i + 1 < end ? sql[i + 1] & 0xff : -1;
      int emit; // byte to emit, or -1 for a placeholder
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        space = n > 0;
        i++;
        continue;
      } else if (c == '#' || (c == '-' && next == '-' && isSpaceOrEnd(sql, i + 2, end))) {
        while (i < end && sql[i] != '\n') i++;
        space = n > 0;
        continue;
      } else if (c == '/' && next == '*') {
        i += 2;
        while (i < end && !(sql[i] == '*' && i + 1 < end && sql[i + 1] == '/')) i++;
        i = Math.min(end, i + 2);
        space = n > 0;
        continue;
      } else if (c == '\'' || c == '"') {
        i = skipQuoted(sql, i, end, c);
        emit = -1;
      } else if ((c == 'x' || c == 'X' || c == 'b' || c == 'B' || c == 'n' || c == 'N')
          && next == '\''
          && !(identifierBefore(out, n) && !space)) {
        i = skipQuoted(sql, i + 1, end, '\'');
        emit = -1;
      } else if (c == '`') {
        int start = i;
        i++;
        while (i < end && sql[i] != '`') i++;
        i = Math.min(end, i + 1);
        if (space) n = put(out, n, ' ');
        space = false;
        for (int j = start; j < i && n <= maxChars; j++) n = put(out, n, sql[j]);
        if (n > maxChars) {
          truncated = true;
          break;
        }
        continue;
      } else if (c == '-' && isDigit(next) && operatorBefore(out, n)) {
        i = skipNumber(sql, i + 1, end); // a negative number: one literal, not "-?"
        emit = -1;
      } else if (isDigit(c) && !(identifierBefore(out, n) && !space)) {
        i = skipNumber(sql, i, end);
        emit = -1;
      } else if (c == '.' && isDigit(next) && !(identifierBefore(out, n) && !space)) {
        i = skipNumber(sql, i, end);
        emit = -1;
      } else {
        emit = c;
        i++;
      }
      if (emit == -1) {
        // A placeholder right after "?," continues a list: drop it and its separator.
        int k = n;
        while (k > 0 && out[k - 1] == ' ') k--;
        if (k > 0 && out[k - 1] == ',') {
          int m = k - 1;
          while (m > 0 && out[m - 1] == ' ') m--;
          if (m > 0 && out[m - 1] == '?') {
            n = m;
            space = false;
            continue;
          }
        }
      }
      if (space) n = put(out, n, ' ');
      space = false;
      n = put(out, n, emit == -1 ? '?' : emit);
      if (n > maxChars) {
        truncated = true;
        break;
      }
    }
    if (n > maxChars) n = maxChars;
    String s = new String(out, 0, n, StandardCharsets.UTF_8);
    return truncated || inputCut ? s + "..." : s;
  }

  private static int put(byte[] out, int n, int b) {
    if (n < out.length) out[n] = (byte) b;
    return n + 1;
  }

  private static boolean isSpaceOrEnd(byte[] sql, int i, int end) {
    return i >= end || sql[i] == ' ' || sql[i] == '\t' || sql[i] == '\n' || sql[i] == '\r';
  }

  private static boolean isDigit(int c) {
    return c >= '0' && c <= '9';
  }

  /** The output so far ends in an identifier character: {@code t1}, {@code col_2} are names. */
  private static boolean identifierBefore(byte[] out, int n) {
    if (n == 0) return false;
    int c = out[n - 1] & 0xff;
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || isDigit(c)
        || c == '_'
        || c == '$'
        || c >= 0x80;
  }

  /** The output so far ends where a value is expected: {@code (}, {@code ,}, a comparison. */
  private static boolean operatorBefore(byte[] out, int n) {
    int k = n;
    while (k > 0 && out[k - 1] == ' ') k--;
    if (k == 0) return false;
    int c = out[k - 1];
    return c == '(' || c == ',' || c == '=' || c == '<' || c == '>';
  }

  /** Index after the literal quoted by {@code quote} starting at {@code i}. */
  private static int skipQuoted(byte[] sql, int i, int end, int quote) {
    i++;
    while (i < end) {
      int c = sql[i] & 0xff;
      if (c == '\\') {
        i += 2;
      } else if (c == quote) {
        if (i + 1 < end && sql[i + 1] == quote) {
          i += 2; // a doubled quote is an escaped quote
        } else {
          return i + 1;
        }
      } else {
        i++;
      }
    }
    return end;
  }

  /** Index after a number: digits, hex {@code 0x..}, a fraction, an exponent. */
  private static int skipNumber(byte[] sql, int i, int end) {
    if (sql[i] == '0' && i + 1 < end && (sql[i + 1] == 'x' || sql[i + 1] == 'X')) {
      i += 2;
      while (i < end && Character.digit(sql[i], 16) >= 0) i++;
      return i;
    }
    while (i < end && (isDigit(sql[i]) || sql[i] == '.')) i++;
    if (i < end && (sql[i] == 'e' || sql[i] == 'E')) {
      int j = i + 1;
      if (j < end && (sql[j] == '+' || sql[j] == '-')) j++;
      if (j < end && isDigit(sql[j])) {
        i = j;
        while (i < end && isDigit(sql[i])) i++;
      }
    }
    return i;
  }

  /** The statement's first keyword, uppercased ({@code SELECT}, {@code INSERT}, ...). */
  static String operation(String normalized) {
    int i = 0;
    int n = normalized.length();
    while (i < n && (normalized.charAt(i) == '(' || normalized.charAt(i) == ' ')) i++;
    int start = i;
    while (i < n && Character.isLetter(normalized.charAt(i)) && i - start < 32) i++;
    if (i == start) return "UNKNOWN";
    return normalized.substring(start, i).toUpperCase(java.util.Locale.ROOT);
  }
}
