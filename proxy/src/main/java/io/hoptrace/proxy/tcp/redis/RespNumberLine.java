package io.hoptrace.proxy.tcp.redis;

/**
 * One RESP number line ({@code -12\r\n}: a length or a count), read a byte at a time as it arrives.
 * Both directions' parsers read these the same way; at most 18 digits, so the value never
 * overflows.
 */
final class RespNumberLine {
  long magnitude;
  boolean negative;
  int digits;
  boolean sawCr;
  boolean failed;

  void reset() {
    magnitude = 0;
    negative = false;
    digits = 0;
    sawCr = false;
    failed = false;
  }

  /** Returns true when the line is complete; after false, {@link #failed} says whether it broke. */
  boolean accept(byte b) {
    if (sawCr) {
      if (b == '\n' && digits > 0) return true;
      failed = true;
      return false;
    }
    if (b == '\r') {
      sawCr = true;
    } else if (b == '-' && digits == 0 && !negative) {
      negative = true;
    } else if (b >= '0' && b <= '9' && digits < 18) {
      magnitude = magnitude * 10 + (b - '0');
      digits++;
    } else {
      failed = true;
    }
    return false;
  }

  long value() {
    return negative ? -magnitude : magnitude;
  }
}
