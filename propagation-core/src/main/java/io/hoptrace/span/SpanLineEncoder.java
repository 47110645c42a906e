package io.hoptrace.span;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * Encodes a {@link Span} as one Zipkin v2 JSON object on one line (DESIGN.md "Span log"), straight
 * into UTF-8 bytes in a reusable {@link LineBuffer}: no intermediate String, no JSON library.
 *
 * <p>Keys, in this order: {@code traceId} (32 lowercase hex), {@code id}, {@code parentId} (absent
 * for a root span), {@code kind} (absent for {@link Kind#LOCAL}), {@code name}, {@code timestamp},
 * {@code duration}, {@code localEndpoint.serviceName}, {@code remoteEndpoint} ({@code ipv4} or
 * {@code ipv6} by the form of the literal, and {@code port}; absent when neither is known) and
 * {@code tags} (absent when there are none).
 *
 * <p><b>Any input gives exactly one line of valid JSON in valid UTF-8.</b> Every string is escaped:
 * quote, backslash and all C0 controls (so CR and LF can never end the line early), the C1 controls
 * U+0080..U+009F and U+2028/U+2029 (line terminators to JavaScript and to Python's {@code
 * splitlines}); a lone surrogate (invalid UTF-16) becomes U+FFFD.
 *
 * <p><b>Long strings are truncated</b> to {@link #maxValueChars()} UTF-16 chars of the input
 * (default 1024, never splitting a surrogate pair) followed by {@link #TRUNCATION_MARKER}, so one
 * bad tag value cannot make a line unbounded.
 *
 * <p>Stateless and thread-safe; the buffer is per writer thread.
 */
public final class SpanLineEncoder {
  /** Default {@link #maxValueChars()}. */
  public static final int DEFAULT_MAX_VALUE_CHARS = 1024;

  /** Appended to a truncated string: U+2026 HORIZONTAL ELLIPSIS. */
  public static final String TRUNCATION_MARKER = "\u2026";

  static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

  /** For chars below 0x80: 0 = write as is, 'u' = write as \\u00XX, else write backslash + it. */
  static final byte[] ASCII_ESCAPES = new byte[128];

  static {
    for (int c = 0; c < 0x20; c++) ASCII_ESCAPES[c] = 'u';
    ASCII_ESCAPES['\b'] = 'b';
    ASCII_ESCAPES['\t'] = 't';
    ASCII_ESCAPES['\n'] = 'n';
    ASCII_ESCAPES['\f'] = 'f';
    ASCII_ESCAPES['\r'] = 'r';
    ASCII_ESCAPES['"'] = '"';
    ASCII_ESCAPES['\\'] = '\\';
  }

  static final byte[] TRACE_ID = ascii("{\"traceId\":\"");
  static final byte[] ID = ascii("\",\"id\":\"");
  static final byte[] PARENT_ID = ascii("\",\"parentId\":\"");
  static final byte[] KIND_SERVER = ascii("\",\"kind\":\"SERVER\",\"name\":");
  static final byte[] KIND_CLIENT = ascii("\",\"kind\":\"CLIENT\",\"name\":");
  static final byte[] KIND_PRODUCER = ascii("\",\"kind\":\"PRODUCER\",\"name\":");
  static final byte[] KIND_CONSUMER = ascii("\",\"kind\":\"CONSUMER\",\"name\":");
  static final byte[] NO_KIND = ascii("\",\"name\":"); // Kind.LOCAL: Zipkin omits the key
  static final byte[] TIMESTAMP = ascii(",\"timestamp\":");
  static final byte[] DURATION = ascii(",\"duration\":");
  static final byte[] LOCAL_ENDPOINT = ascii(",\"localEndpoint\":{\"serviceName\":");
  static final byte[] REMOTE_ENDPOINT = ascii("},\"remoteEndpoint\":{");
  static final byte[] IPV4 = ascii("\"ipv4\":\"");
  static final byte[] IPV6 = ascii("\"ipv6\":\"");
  static final byte[] PORT = ascii("\"port\":");
  static final byte[] TAGS = ascii("},\"tags\":{");
  static final byte[] MIN_LONG = ascii(Long.toString(Long.MIN_VALUE));

  private static final SpanLineEncoder DEFAULT = new SpanLineEncoder(DEFAULT_MAX_VALUE_CHARS);

  private final int maxValueChars;

  private SpanLineEncoder(int maxValueChars) {
    this.maxValueChars = maxValueChars;
  }

  /** Truncates strings at {@link #DEFAULT_MAX_VALUE_CHARS}. */
  public static SpanLineEncoder create() {
    return DEFAULT;
  }

  /** Truncates strings at {@code maxValueChars} UTF-16 chars, at least 1. */
  public static SpanLineEncoder create(int maxValueChars) {
    if (maxValueChars < 1) {
      throw new IllegalArgumentException("maxValueChars: " + maxValueChars + " (expected: >= 1)");
    }
    return maxValueChars == DEFAULT_MAX_VALUE_CHARS ? DEFAULT : new SpanLineEncoder(maxValueChars);
  }

  /** The longest string written before it is truncated, in UTF-16 chars of the input. */
  public int maxValueChars() {
    return maxValueChars;
  }

  /** Appends the span's line, ending in {@code '\n'}, to {@code out}. */
  public void encode(Span span, LineBuffer out) {
    requireNonNull(span, "span");
    requireNonNull(out, "out");
    encode(
        span.traceIdHigh,
        span.traceIdLow,
        span.id,
        span.parentId,
        span.kind,
        span.name,
        span.timestampMicros,
        span.durationMicros,
        span.serviceName,
        span.remoteIp,
        span.remotePort,
        span.tags,
        span.tags.length,
        out);
  }

  /**
   * Appends the line of the span {@code builder} holds, as {@link #encode(Span, LineBuffer)} would
   * for {@code builder.build()}, without building it (no {@link Span}, no copy of the tags): the
   * request path encodes straight from its builder. Throws what {@link Span.Builder#build()} throws
   * for a span it would refuse, before writing anything.
   */
  public void encode(Span.Builder builder, LineBuffer out) {
    requireNonNull(builder, "builder");
    requireNonNull(out, "out");
    builder.check();
    encode(
        builder.traceIdHigh,
        builder.traceIdLow,
        builder.id,
        builder.parentId,
        requireNonNull(builder.kind, "kind"),
        requireNonNull(builder.name, "name"),
        builder.timestampMicros,
        builder.durationMicros,
        requireNonNull(builder.serviceName, "serviceName"),
        builder.remoteIp,
        builder.remotePort,
        builder.tags,
        builder.tagCount * 2,
        out);
  }

  // The fields of Span and of its builder, read once.
  private void encode(
      long traceIdHigh,
      long traceIdLow,
      long id,
      long parentId,
      Kind kind,
      String name,
      long timestampMicros,
      long durationMicros,
      String serviceName,
      @Nullable String remoteIp,
      int remotePort,
      String[] tags,
      int tagsEnd,
      LineBuffer out) {
    writeAscii(out, TRACE_ID);
    writeHex(out, traceIdHigh);
    writeHex(out, traceIdLow);
    writeAscii(out, ID);
    writeHex(out, id);
    if (parentId != 0L) {
      writeAscii(out, PARENT_ID);
      writeHex(out, parentId);
    }
    writeAscii(
        out,
        switch (kind) {
          case SERVER -> KIND_SERVER;
          case CLIENT -> KIND_CLIENT;
          case PRODUCER -> KIND_PRODUCER;
          case CONSUMER -> KIND_CONSUMER;
          case LOCAL -> NO_KIND;
        });
    writeString(out, name);
    writeAscii(out, TIMESTAMP);
    writeLong(out, timestampMicros);
    writeAscii(out, DURATION);
    writeLong(out, durationMicros);
    writeAscii(out, LOCAL_ENDPOINT);
    writeString(out, serviceName);
    writeRemoteEndpoint(out, remoteIp, remotePort);
    if (tagsEnd > 0) {
      writeAscii(out, TAGS);
      for (int i = 0; i < tagsEnd; i += 2) {
        if (i > 0) writeByte(out, ',');
        writeString(out, tags[i]);
        writeByte(out, ':');
        writeString(out, tags[i + 1]);
      }
    }
    byte[] b = out.ensure(3);
    b[out.length++] = '}';
    b[out.length++] = '}';
    b[out.length++] = '\n';
  }

  /** The span's line without the trailing newline: for tests and logs. */
  public String encodeToString(Span span) {
    LineBuffer out = new LineBuffer();
    encode(span, out);
    out.length--; // the '\n'
    return out.toString();
  }

  /**
   * Writes {@code },"remoteEndpoint":{...}} (leaving the last brace of localEndpoint or of
   * remoteEndpoint open for the caller to close), or nothing when the peer is unknown. An address
   * that is neither an IPv4 nor an IPv6 literal (a host name, garbage) is left out: Zipkin accepts
   * only literals there.
   */
  private static void writeRemoteEndpoint(LineBuffer out, @Nullable String ip, int port) {
    int ipKind = ip == null ? 0 : ipKind(ip);
    boolean hasPort = port > 0 && port <= 0xffff;
    if (ipKind == 0 && !hasPort) return;
    writeAscii(out, REMOTE_ENDPOINT);
    if (ipKind != 0) {
      String literal = requireNonNull(ip);
      int begin = 0;
      int end = literal.length();
      if (literal.charAt(0) == '[') {
        begin = 1;
        end = literal.indexOf(']');
      }
      int zone = literal.indexOf('%', begin);
      if (zone >= 0 && zone < end) end = zone; // a zone index means nothing off this host
      if (ipKind == 4 && literal.indexOf(':', begin) >= 0) {
        begin = literal.lastIndexOf(':', end) + 1; // IPv4-mapped IPv6: Zipkin wants the IPv4
      }
      writeAscii(out, ipKind == 4 ? IPV4 : IPV6);
      byte[] b = out.ensure(end - begin + 1);
      int p = out.length;
      for (int i = begin; i < end; i++) {
        char c = literal.charAt(i);
        b[p++] = (byte) (c >= 'A' && c <= 'F' ? c + ('a' - 'A') : c);
      }
      b[p++] = '"';
      out.length = p;
      if (hasPort) writeByte(out, ',');
    }
    if (hasPort) {
      writeAscii(out, PORT);
      writeLong(out, port);
    }
  }

  /**
   * 4 for an IPv4 literal or an IPv4-mapped IPv6 one ({@code ::ffff:a.b.c.d}), 6 for another IPv6
   * literal (optionally in brackets, optionally with a zone), 0 for anything else. A syntax check,
   * not a full parser: enough to choose the key and to keep garbage out of it.
   */
  static int ipKind(String ip) {
    int n = ip.length();
    if (n == 0 || n > 64) return 0;
    int begin = 0;
    int end = n;
    if (ip.charAt(0) == '[') {
      if (ip.charAt(n - 1) != ']') return 0;
      begin = 1;
      end = n - 1;
    }
    int zone = ip.indexOf('%', begin);
    if (zone >= 0 && zone < end) {
      if (zone == end - 1) return 0;
      end = zone;
    }
    if (ip.indexOf(':', begin) < 0 || ip.indexOf(':', begin) >= end) {
      return begin == 0 && zone < 0 && isIpv4(ip, 0, n) ? 4 : 0;
    }
    if (!isIpv6(ip, begin, end)) return 0;
    int lastColon = ip.lastIndexOf(':', end - 1);
    boolean dottedTail = ip.indexOf('.', lastColon) >= 0 && ip.indexOf('.', lastColon) < end;
    return dottedTail && isMappedPrefix(ip, begin, lastColon + 1) ? 4 : 6;
  }

  /**
   * RFC 4291 text form in {@code [begin, end)}: eight groups of 1-4 hex digits, at most one {@code
   * ::} standing for one or more zero groups, and optionally a dotted-quad tail counting as two
   * groups.
   */
  private static boolean isIpv6(String s, int begin, int end) {
    int i = begin;
    int groups = 0;
    boolean compressed = false;
    if (end - begin >= 2 && s.charAt(i) == ':' && s.charAt(i + 1) == ':') {
      compressed = true;
      i += 2;
      if (i == end) return true; // "::"
    } else if (s.charAt(i) == ':') {
      return false;
    }
    while (true) {
      int start = i;
      while (i < end && i - start < 5 && isHex(s.charAt(i))) i++;
      if (i < end && s.charAt(i) == '.') {
        if (!isIpv4(s, start, end)) return false;
        groups += 2;
        break;
      }
      int digits = i - start;
      if (digits == 0 || digits > 4) return false;
      groups++;
      if (i == end) break;
      if (s.charAt(i) != ':') return false;
      i++;
      if (i < end && s.charAt(i) == ':') {
        if (compressed) return false;
        compressed = true;
        i++;
        if (i == end) break;
      } else if (i == end) {
        return false;
      }
    }
    return compressed ? groups <= 7 : groups == 8;
  }

  private static boolean isMappedPrefix(String ip, int begin, int end) {
    String prefix = "::ffff:";
    if (end - begin != prefix.length()) return false;
    return ip.regionMatches(true, begin, prefix, 0, prefix.length());
  }

  private static boolean isIpv4(String s, int begin, int end) {
    int parts = 0;
    int value = 0;
    int digits = 0;
    for (int i = begin; i <= end; i++) {
      char c = i == end ? '.' : s.charAt(i);
      if (c == '.') {
        if (digits == 0 || value > 255) return false;
        parts++;
        value = 0;
        digits = 0;
      } else if (c >= '0' && c <= '9' && digits < 3) {
        value = value * 10 + (c - '0');
        digits++;
      } else {
        return false;
      }
    }
    return parts == 4;
  }

  private static boolean isHex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  /**
   * Writes {@code s} as a quoted JSON string in UTF-8, escaped and truncated as the class comment
   * says.
   */
  void writeString(LineBuffer out, String s) {
    int end = s.length();
    boolean truncated = false;
    if (end > maxValueChars) {
      end = maxValueChars;
      // Never split a surrogate pair: cut before its high half instead.
      if (Character.isHighSurrogate(s.charAt(end - 1)) && Character.isLowSurrogate(s.charAt(end))) {
        end--;
      }
      truncated = true;
    }
    // Worst case per char is 6 bytes (\\u00XX); quotes and the marker add 5.
    byte[] b = out.ensure(end * 6 + 5);
    int p = out.length;
    b[p++] = '"';
    for (int i = 0; i < end; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        byte escape = ASCII_ESCAPES[c];
        if (escape == 0) {
          b[p++] = (byte) c;
        } else if (escape == 'u') {
          p = writeUnicodeEscape(b, p, c);
        } else {
          b[p++] = '\\';
          b[p++] = escape;
        }
      } else if (c < 0x800) {
        if (c < 0xa0) {
          p = writeUnicodeEscape(b, p, c); // C1 controls, including NEL (U+0085)
        } else {
          b[p++] = (byte) (0xc0 | (c >> 6));
          b[p++] = (byte) (0x80 | (c & 0x3f));
        }
      } else if (Character.isSurrogate(c)) {
        char low = i + 1 < end ? s.charAt(i + 1) : 0;
        if (Character.isHighSurrogate(c) && Character.isLowSurrogate(low)) {
          int cp = Character.toCodePoint(c, low);
          b[p++] = (byte) (0xf0 | (cp >> 18));
          b[p++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
          b[p++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
          b[p++] = (byte) (0x80 | (cp & 0x3f));
          i++;
        } else { // a lone surrogate has no UTF-8 form: U+FFFD REPLACEMENT CHARACTER
          b[p++] = (byte) 0xef;
          b[p++] = (byte) 0xbf;
          b[p++] = (byte) 0xbd;
        }
      } else if (c == '\u2028' || c == '\u2029') {
        p = writeUnicodeEscape(b, p, c);
      } else {
        b[p++] = (byte) (0xe0 | (c >> 12));
        b[p++] = (byte) (0x80 | ((c >> 6) & 0x3f));
        b[p++] = (byte) (0x80 | (c & 0x3f));
      }
    }
    if (truncated) { // U+2026 in UTF-8
      b[p++] = (byte) 0xe2;
      b[p++] = (byte) 0x80;
      b[p++] = (byte) 0xa6;
    }
    b[p++] = '"';
    out.length = p;
  }

  private static int writeUnicodeEscape(byte[] b, int p, char c) {
    b[p++] = '\\';
    b[p++] = 'u';
    b[p++] = HEX[(c >> 12) & 0xf];
    b[p++] = HEX[(c >> 8) & 0xf];
    b[p++] = HEX[(c >> 4) & 0xf];
    b[p++] = HEX[c & 0xf];
    return p;
  }

  private static void writeHex(LineBuffer out, long v) {
    byte[] b = out.ensure(16);
    int p = out.length;
    for (int i = 15; i >= 0; i--) {
      b[p + i] = HEX[(int) (v & 0xf)];
      v >>>= 4;
    }
    out.length = p + 16;
  }

  /** Decimal, without allocating. */
  static void writeLong(LineBuffer out, long v) {
    if (v == Long.MIN_VALUE) {
      writeAscii(out, MIN_LONG);
      return;
    }
    byte[] b = out.ensure(20);
    int p = out.length;
    if (v < 0) {
      b[p++] = '-';
      v = -v;
    }
    int digits = 1;
    for (long t = v; t >= 10; t /= 10) digits++;
    int i = p + digits;
    do {
      b[--i] = (byte) ('0' + (int) (v % 10));
      v /= 10;
    } while (v != 0);
    out.length = p + digits;
  }

  private static void writeAscii(LineBuffer out, byte[] ascii) {
    byte[] b = out.ensure(ascii.length);
    System.arraycopy(ascii, 0, b, out.length, ascii.length);
    out.length += ascii.length;
  }

  private static void writeByte(LineBuffer out, char c) {
    byte[] b = out.ensure(1);
    b[out.length++] = (byte) c;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
