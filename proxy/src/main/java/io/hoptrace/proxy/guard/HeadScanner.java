package io.hoptrace.proxy.guard;

import io.undertow.server.handlers.HostHeaderHandler;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Checks the request heads of one HTTP/1.1 connection byte by byte, strictly (RFC 9112, RFC 9110),
 * and follows each message's body framing so it knows where the next head starts. It allocates
 * nothing per request (but a String for a rare IP-literal Host): a state machine over the bytes as
 * they are read, in the reader's buffer.
 *
 * <p>Refused: a request line that is not {@code method SP target SP HTTP/d.d} (400), a version
 * other than 1.0 and 1.1 (505), controls in the target, header names that are not tokens,
 * whitespace before the colon, obs-fold, bare CR or LF, NUL and other controls in values, a line
 * without a colon, sizes over the limits (414, 431), a missing (HTTP/1.1), repeated or malformed
 * Host (also an IP literal that is no IPv6 address, and a Host not in an absolute-form target: what
 * Undertow's Host check, which runs before any handler, would refuse silently), a Content-Length
 * that is not plain digits or is repeated, Transfer-Encoding repeated, with Content-Length, on
 * HTTP/1.0, or not a list ending in one {@code chunked} (400; 501 for another coding before it).
 *
 * <p>Body framing follows Content-Length or chunked framing (with the grammar {@link
 * StrictChunkedConduit} enforces); a chunked body that breaks it, and everything after a CONNECT
 * head (a tunnel), pass unchecked: the chunk check refuses the former, the latter is not HTTP.
 */
final class HeadScanner {
  // Head states.
  private static final int LINE_START = 0;
  private static final int METHOD = 2;
  private static final int TARGET_FIRST = 3;
  private static final int TARGET = 4;
  private static final int VERSION = 5;
  private static final int LINE_LF = 6;
  private static final int HEADER_START = 7;
  private static final int NAME = 8;
  private static final int VALUE = 9;
  private static final int HEADER_LF = 10;
  private static final int END_LF = 11;
  // Body states.
  private static final int FIXED = 12;
  private static final int CHUNK_SIZE_FIRST = 13;
  private static final int CHUNK_SIZE = 14;
  private static final int CHUNK_EXT = 15;
  private static final int CHUNK_SIZE_LF = 16;
  private static final int CHUNK_DATA = 17;
  private static final int CHUNK_DATA_CR = 18;
  private static final int CHUNK_DATA_LF = 19;
  private static final int TRAILER_START = 20;
  private static final int TRAILER = 21;
  private static final int TRAILER_LF = 22;
  private static final int FINAL_LF = 23;

  /** Not checked any more: a tunnel, or a broken chunked body the chunk check answers. */
  static final int PASS = 24;

  /** A head was refused: nothing after it is looked at. */
  static final int REFUSED = 25;

  // Which header a name is (matched as it arrives).
  private static final int OTHER = 0;
  private static final int HOST = 1;
  private static final int CONTENT_LENGTH = 2;
  private static final int TRANSFER_ENCODING = 3;
  private static final byte[][] NAMES = {
    null,
    "host".getBytes(StandardCharsets.US_ASCII),
    "content-length".getBytes(StandardCharsets.US_ASCII),
    "transfer-encoding".getBytes(StandardCharsets.US_ASCII)
  };
  private static final byte[] HTTP = "HTTP/".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CHUNKED = "chunked".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CONNECT = "CONNECT".getBytes(StandardCharsets.US_ASCII);

  /**
   * Byte classes: bit 1 tchar (RFC 9110 §5.6.2), bit 2 Host reg-name char (RFC 3986), bit 4 a byte
   * allowed raw in a request target (what Undertow's parser accepts with unescaped characters off:
   * visible ASCII but {@code " # < > \ ^ ` { | }}; measured).
   */
  private static final byte[] CLASS = new byte[256];

  private static final int TCHAR = 1;
  private static final int REG_NAME = 2;
  private static final int TARGET_CHAR = 4;

  static {
    for (int c = 0; c < 128; c++) {
      boolean alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      int bits = 0;
      if (alnum || "!#$%&'*+-.^_`|~".indexOf(c) >= 0) bits |= TCHAR;
      if (alnum || "-._~%!$&'()*+,;=".indexOf(c) >= 0) bits |= REG_NAME;
      if (c > 0x20 && c < 0x7f && "\"#<>\\^`{|}".indexOf(c) < 0) bits |= TARGET_CHAR;
      CLASS[c] = (byte) bits;
    }
  }

  static final int METHOD_CAPTURE = 16;
  static final int TARGET_CAPTURE = 256;
  static final int HOST_CAPTURE = 256;

  private final int maxRequestLine;
  private final int maxHeaderBytes;
  private final int maxHeaders;

  private int state = LINE_START;
  // Per head.
  private int lineBytes;
  private int headerBytes;
  private int headers;
  private int versionPos;
  private int percent; // hex digits still due after a '%' in the target
  private int form; // target form: 0 settled, 1 scheme, 2 after "scheme:", 3 after "scheme:/"
  private int major;
  private int minor;
  private boolean connect;
  private int name; // OTHER, HOST, ...
  private int nameLength;
  private int candidates; // bit per header still matching the name so far
  private int sub; // state inside a special header's value
  private int hosts;
  private int contentLengths;
  private int transferEncodings;
  private long contentLength;
  private int digits;
  private int port;
  private int teMatch; // bytes of "chunked" matched in the current coding, -1 when not
  private int teChunked;
  private boolean teLastChunked;
  private boolean teOther;
  // Body.
  private long remaining;
  // Captured for the refusal's span.
  private final byte[] method = new byte[METHOD_CAPTURE];
  private int methodLength;
  private final byte[] target = new byte[TARGET_CAPTURE];
  private int targetLength;
  private boolean absoluteForm;
  private final byte[] host = new byte[HOST_CAPTURE]; // the Host's uri-host (no port, no OWS)
  private int hostLength; // may run over HOST_CAPTURE: then only the first bytes are kept
  // The refusal.
  private RefusalReason reason = RefusalReason.BAD_REQUEST_LINE;
  private String detail = "";
  private int headStart;

  HeadScanner(int maxRequestLine, int maxHeaderBytes, int maxHeaders) {
    this.maxRequestLine = maxRequestLine;
    this.maxHeaderBytes = maxHeaderBytes;
    this.maxHeaders = maxHeaders;
  }

  /** True once nothing more is checked (a tunnel, a broken chunked body, or a refusal). */
  boolean done() {
    return state >= PASS;
  }

  RefusalReason reason() {
    return reason;
  }

  String detail() {
    return detail;
  }

  /**
   * Where the refused head started in the buffer of the last {@link #scan}, or -1 when it started
   * in an earlier one.
   */
  int headStart() {
    return headStart;
  }

  /** The refused request's method as far as it was read (empty when none). */
  String method() {
    return new String(method, 0, methodLength, StandardCharsets.ISO_8859_1);
  }

  /** The refused request's target as far as it was read (up to 256 bytes), without the query. */
  String path() {
    int end = 0;
    while (end < targetLength && target[end] != '?') end++;
    return new String(target, 0, end, StandardCharsets.ISO_8859_1);
  }

  /**
   * Checks {@code buffer[from, to)}: -1 when every byte is fine, else the index of the byte that
   * breaks the rules ({@link #reason()}, {@link #detail()}; {@link #headStart()} says where that
   * head began).
   */
  int scan(ByteBuffer buffer, int from, int to) {
    headStart = state == LINE_START ? from : -1;
    int i = from;
    while (i < to) {
      int s = state;
      if (s == FIXED) {
        long take = Math.min(remaining, (long) (to - i));
        i += (int) take;
        remaining -= take;
        if (remaining == 0) startHead(i);
        continue;
      }
      if (s == CHUNK_DATA) {
        long take = Math.min(remaining, (long) (to - i));
        i += (int) take;
        remaining -= take;
        if (remaining == 0) state = CHUNK_DATA_CR;
        continue;
      }
      if (s >= PASS) return -1;
      if (s == VALUE && name == OTHER) {
        // The common cases, kept tight: a plain header value up to its CR, the rest of a name
        // that is none of the three we look at, the plain part of a target (each within the room
        // its limit leaves; the byte that ends the run, or is one over the limit, goes through
        // step()).
        int end = (int) Math.min(to, (long) i + (maxHeaderBytes - headerBytes));
        int j = i;
        while (j < end) {
          int c = buffer.get(j) & 0xff;
          if ((c < 0x20 && c != '\t') || c == 0x7f) break;
          j++;
        }
        if (j > i) {
          headerBytes += j - i;
          i = j;
          continue;
        }
      } else if (s == NAME && candidates == 0) {
        int end = (int) Math.min(to, (long) i + (maxHeaderBytes - headerBytes));
        int j = i;
        while (j < end && (CLASS[buffer.get(j) & 0xff] & TCHAR) != 0) j++;
        if (j > i) {
          nameLength += j - i;
          headerBytes += j - i;
          i = j;
          continue;
        }
      } else if (s == TARGET && percent == 0 && form == 0) {
        int end = (int) Math.min(to, (long) i + (maxRequestLine - lineBytes));
        int j = i;
        int t = targetLength;
        while (j < end) {
          int c = buffer.get(j) & 0xff;
          if ((CLASS[c] & TARGET_CHAR) == 0 || c == '%') break;
          if (t < TARGET_CAPTURE) target[t++] = (byte) c;
          j++;
        }
        if (j > i) {
          targetLength = t;
          lineBytes += j - i;
          i = j;
          continue;
        }
      }
      int b = buffer.get(i) & 0xff;
      if (!step(b, i)) return i;
      i++;
    }
    return -1;
  }

  private void startHead(int next) {
    state = LINE_START;
    headStart = next;
    lineBytes = 0;
    headerBytes = 0;
    headers = 0;
    versionPos = 0;
    percent = 0;
    form = 0;
    connect = false;
    hosts = 0;
    contentLengths = 0;
    transferEncodings = 0;
    contentLength = 0;
    teChunked = 0;
    teLastChunked = false;
    teOther = false;
    methodLength = 0;
    targetLength = 0;
    absoluteForm = false;
    hostLength = 0;
  }

  private int refuse(int at, RefusalReason why, String text) {
    state = REFUSED;
    reason = why;
    detail = text;
    return at;
  }

  /** One byte of a head or of chunked framing; false when it is refused. */
  private boolean step(int b, int at) {
    switch (state) {
      case LINE_START -> {
        if ((CLASS[b] & TCHAR) != 0) {
          state = METHOD;
          return requestLineByte(b, at);
        } else if (b == '\r' || b == '\n') {
          // RFC 9112 §2.2 allows ignoring it; Undertow refuses it, and so does this, visibly.
          return bad(at, RefusalReason.BAD_REQUEST_LINE, "empty line before the request line");
        } else {
          return bad(
              at, RefusalReason.BAD_REQUEST_LINE, "the request line does not start with a method");
        }
      }
      case METHOD -> {
        if (b == ' ') {
          connect = methodLength == CONNECT.length && same(method, CONNECT, methodLength);
          state = TARGET_FIRST;
          return lineByte(at);
        }
        if ((CLASS[b] & TCHAR) == 0) {
          return bad(at, RefusalReason.BAD_REQUEST_LINE, "the method is not a token");
        }
        return requestLineByte(b, at);
      }
      case TARGET_FIRST, TARGET -> {
        if (b == ' ') {
          if (state == TARGET_FIRST) {
            return bad(
                at, RefusalReason.BAD_REQUEST_LINE, "more than one space in the request line");
          }
          if (percent != 0) {
            return bad(at, RefusalReason.BAD_PATH, "malformed percent-encoding in the target");
          }
          if (form != 0) return bad(at, RefusalReason.BAD_REQUEST_LINE, NOT_A_TARGET);
          state = VERSION;
          versionPos = 0;
          return lineByte(at);
        }
        if (b == '\r' || b == '\n') {
          return bad(at, RefusalReason.BAD_REQUEST_LINE, "no HTTP version in the request line");
        }
        if (b < 0x20 || b == 0x7f) {
          return bad(at, RefusalReason.BAD_PATH, "raw control character in the request target");
        }
        if (percent != 0) {
          if (b >= 0x80 || Character.digit(b, 16) < 0) {
            return bad(at, RefusalReason.BAD_PATH, "malformed percent-encoding in the target");
          }
          percent--;
        } else if (b == '%') {
          percent = 2;
        } else if ((CLASS[b] & TARGET_CHAR) == 0) {
          return bad(at, RefusalReason.BAD_PATH, "character not allowed raw in the target");
        }
        if (state == TARGET_FIRST) {
          // origin-form "/...", asterisk-form "*", absolute-form "scheme://..."; CONNECT's
          // authority-form is left to the forward proxy, which parses and checks it.
          if (b != '/' && !connect) {
            if (b == '*') {
              form = 0;
            } else if ((b | 0x20) >= 'a' && (b | 0x20) <= 'z') {
              form = 1;
            } else {
              return bad(at, RefusalReason.BAD_REQUEST_LINE, NOT_A_TARGET);
            }
          }
        } else if (form != 0) {
          if (form == 1 && b == ':') {
            form = 2;
          } else if (form >= 2) {
            if (b != '/') return bad(at, RefusalReason.BAD_REQUEST_LINE, NOT_A_TARGET);
            if (form == 3) absoluteForm = true;
            form = form == 2 ? 3 : 0;
          } else if (!isSchemeChar(b)) {
            return bad(at, RefusalReason.BAD_REQUEST_LINE, NOT_A_TARGET);
          }
        }
        state = TARGET;
        if (targetLength < TARGET_CAPTURE) target[targetLength++] = (byte) b;
        return lineByte(at);
      }
      case VERSION -> {
        return version(b, at);
      }
      case LINE_LF -> {
        if (b != '\n')
          return bad(at, RefusalReason.BAD_REQUEST_LINE, "bare CR in the request line");
        state = HEADER_START;
        return true;
      }
      case HEADER_START -> {
        return headerStart(b, at);
      }
      case NAME -> {
        return nameByte(b, at);
      }
      case VALUE -> {
        if (b == '\r') {
          state = HEADER_LF;
          return headerByte(at);
        }
        if ((b < 0x20 && b != '\t') || b == 0x7f) {
          return bad(
              at,
              RefusalReason.BAD_HEADER,
              b == '\n' ? "bare LF in a header line" : "control character in a header value");
        }
        return valueByte(b, at) && headerByte(at);
      }
      case HEADER_LF -> {
        if (b != '\n') return bad(at, RefusalReason.BAD_HEADER, "bare CR in a header value");
        state = HEADER_START;
        return headerByte(at) && endOfLine(at);
      }
      case END_LF -> {
        if (b != '\n') return bad(at, RefusalReason.BAD_HEADER, "bare CR at the end of the head");
        return endOfHead(at);
      }
      default -> {
        return chunkByte(b, at);
      }
    }
  }

  private boolean bad(int at, RefusalReason why, String text) {
    refuse(at, why, text);
    return false;
  }

  private boolean lineByte(int at) {
    if (++lineBytes > maxRequestLine) {
      return bad(at, RefusalReason.REQUEST_LINE_TOO_LONG, "over " + maxRequestLine + " bytes");
    }
    return true;
  }

  private boolean requestLineByte(int b, int at) {
    if (methodLength < METHOD_CAPTURE) method[methodLength++] = (byte) b;
    return lineByte(at);
  }

  private boolean headerByte(int at) {
    if (++headerBytes > maxHeaderBytes) {
      return bad(at, RefusalReason.HEADERS_TOO_LARGE, "over " + maxHeaderBytes + " bytes");
    }
    return true;
  }

  private boolean version(int b, int at) {
    int pos = versionPos++;
    if (pos < HTTP.length) {
      if (b != HTTP[pos]) {
        return bad(at, RefusalReason.BAD_REQUEST_LINE, "not an HTTP version");
      }
    } else if (pos == HTTP.length || pos == HTTP.length + 2) {
      if (b < '0' || b > '9') return bad(at, RefusalReason.BAD_REQUEST_LINE, "not an HTTP version");
      if (pos == HTTP.length) {
        major = b - '0';
      } else {
        minor = b - '0';
      }
    } else if (pos == HTTP.length + 1) {
      if (b != '.') return bad(at, RefusalReason.BAD_REQUEST_LINE, "not an HTTP version");
    } else {
      if (b != '\r') {
        return bad(at, RefusalReason.BAD_REQUEST_LINE, "more after the HTTP version");
      }
      if (major != 1 || minor > 1) {
        return bad(at, RefusalReason.BAD_VERSION, "HTTP/" + major + "." + minor);
      }
      state = LINE_LF;
      return true;
    }
    return lineByte(at);
  }

  private boolean headerStart(int b, int at) {
    if (b == '\r') {
      state = END_LF;
      return true;
    }
    if ((CLASS[b] & TCHAR) != 0) {
      if (++headers > maxHeaders) {
        return bad(at, RefusalReason.TOO_MANY_HEADERS, "over " + maxHeaders + " lines");
      }
      state = NAME;
      nameLength = 0;
      candidates = (1 << HOST) | (1 << CONTENT_LENGTH) | (1 << TRANSFER_ENCODING);
      return nameByte(b, at);
    }
    if (b == ' ' || b == '\t') {
      return bad(
          at,
          RefusalReason.BAD_HEADER,
          headers == 0
              ? "whitespace before the first header line"
              : "obs-fold (a header line starting with whitespace)");
    }
    if (b == ':') return bad(at, RefusalReason.BAD_HEADER, "empty header name");
    if (b == '\n') return bad(at, RefusalReason.BAD_HEADER, "bare LF in the head");
    return bad(at, RefusalReason.BAD_HEADER, "header name is not a token");
  }

  private boolean nameByte(int b, int at) {
    if ((CLASS[b] & TCHAR) != 0) {
      int c = candidates;
      if (c != 0) {
        int lower = b | 0x20;
        int n = nameLength;
        for (int h = HOST; h <= TRANSFER_ENCODING; h++) {
          if ((c & (1 << h)) != 0 && (n >= NAMES[h].length || NAMES[h][n] != lower)) {
            c &= ~(1 << h);
          }
        }
        candidates = c;
      }
      nameLength++;
      return headerByte(at);
    }
    if (b == ':') {
      name = OTHER;
      for (int h = HOST; h <= TRANSFER_ENCODING; h++) {
        if ((candidates & (1 << h)) != 0 && NAMES[h].length == nameLength) name = h;
      }
      sub = 0;
      digits = 0;
      port = 0;
      teMatch = 0;
      if (name == HOST && ++hosts > 1) return bad(at, RefusalReason.BAD_HOST, "Host on two lines");
      if (name == CONTENT_LENGTH && ++contentLengths > 1) {
        return bad(at, RefusalReason.BAD_CONTENT_LENGTH, "Content-Length on two lines");
      }
      if (name == TRANSFER_ENCODING && ++transferEncodings > 1) {
        return bad(at, RefusalReason.BAD_TRANSFER_ENCODING, "Transfer-Encoding on two lines");
      }
      state = VALUE;
      return headerByte(at);
    }
    if (b == ' ' || b == '\t')
      return bad(at, RefusalReason.BAD_HEADER, "whitespace before the colon");
    if (b == '\r' || b == '\n')
      return bad(at, RefusalReason.BAD_HEADER, "header line without a colon");
    return bad(at, RefusalReason.BAD_HEADER, "header name is not a token");
  }

  /** A value byte (not CR, not a control) of Host, Content-Length or Transfer-Encoding. */
  private boolean valueByte(int b, int at) {
    boolean ows = b == ' ' || b == '\t';
    switch (name) {
      case HOST -> {
        return hostByte(b, ows, at);
      }
      case CONTENT_LENGTH -> {
        if (ows) {
          if (sub == 1) sub = 2;
          return true;
        }
        if (b < '0' || b > '9' || sub == 2) {
          return bad(at, RefusalReason.BAD_CONTENT_LENGTH, "Content-Length is not a plain number");
        }
        sub = 1;
        if (++digits > 18)
          return bad(at, RefusalReason.BAD_CONTENT_LENGTH, "Content-Length too large");
        contentLength = contentLength * 10 + (b - '0');
        return true;
      }
      case TRANSFER_ENCODING -> {
        return teByte(b, ows, at);
      }
      default -> {
        return true;
      }
    }
  }

  // Host sub-states: 0 leading OWS, 1 reg-name, 2 IP literal, 3 after ']', 4 port, 5 trailing OWS,
  // 6 and 7 the two hex digits after a '%' in the reg-name (RFC 3986 pct-encoded; Undertow refuses
  // a '%' without them with its own bare 400).
  private boolean hostByte(int b, boolean ows, int at) {
    int before = sub;
    if (!hostByteState(b, ows, at)) return false;
    // The uri-host's bytes (reg-name with its pct-encoded, or the IP literal with its brackets).
    if (!ows && before != 3 && before != 4 && sub != 4) {
      if (hostLength < HOST_CAPTURE) host[hostLength] = (byte) b;
      hostLength++;
    }
    return true;
  }

  private boolean hostByteState(int b, boolean ows, int at) {
    if (ows) {
      if (sub == 2) return bad(at, RefusalReason.BAD_HOST, "malformed Host");
      if (sub == 6 || sub == 7) return badPercent(at);
      if (sub == 4 && digits == 0)
        return bad(at, RefusalReason.BAD_HOST, "Host with an empty port");
      if (sub == 4 && port == 0) return bad(at, RefusalReason.BAD_HOST, "Host port out of range");
      if (sub != 0) sub = 5;
      return true;
    }
    switch (sub) {
      case 0, 1 -> {
        if (sub == 0 && b == '[') {
          sub = 2;
        } else if (b == '%') {
          sub = 6;
        } else if ((CLASS[b] & REG_NAME) != 0) {
          sub = 1;
        } else if (b == ':' && sub == 1) {
          sub = 4;
        } else {
          return bad(at, RefusalReason.BAD_HOST, "malformed Host");
        }
      }
      case 2 -> {
        if (b == ']') {
          sub = 3;
        } else if (Character.digit(b, 16) < 0 && b != ':' && b != '.') {
          return bad(at, RefusalReason.BAD_HOST, "malformed Host");
        }
      }
      case 3 -> {
        if (b != ':') return bad(at, RefusalReason.BAD_HOST, "malformed Host");
        sub = 4;
      }
      case 4 -> {
        if (b < '0' || b > '9') return bad(at, RefusalReason.BAD_HOST, "malformed Host");
        port = port * 10 + (b - '0');
        digits++;
        if (port > 65535) return bad(at, RefusalReason.BAD_HOST, "Host port out of range");
      }
      case 6, 7 -> {
        if (Character.digit(b, 16) < 0) return badPercent(at);
        sub = sub == 6 ? 7 : 1;
      }
      default -> {
        return bad(at, RefusalReason.BAD_HOST, "malformed Host");
      }
    }
    return true;
  }

  private boolean badPercent(int at) {
    return bad(at, RefusalReason.BAD_HOST, "Host has a '%' not followed by two hex digits");
  }

  // Transfer-Encoding sub-states: 0 before a coding, 1 in a coding, 2 after a coding.
  private boolean teByte(int b, boolean ows, int at) {
    if (ows) {
      if (sub == 1) endCoding();
      if (sub != 0) sub = 2;
      return true;
    }
    if (b == ',') {
      if (sub == 0) return bad(at, RefusalReason.BAD_TRANSFER_ENCODING, "empty transfer coding");
      if (sub == 1) endCoding();
      sub = 0;
      return true;
    }
    if ((CLASS[b] & TCHAR) == 0 || sub == 2) {
      return bad(
          at, RefusalReason.BAD_TRANSFER_ENCODING, "Transfer-Encoding is not a list of codings");
    }
    if (sub == 0) {
      sub = 1;
      teMatch = 0;
    }
    if (teMatch >= 0) {
      teMatch = teMatch < CHUNKED.length && (b | 0x20) == CHUNKED[teMatch] ? teMatch + 1 : -1;
    }
    return true;
  }

  private void endCoding() {
    boolean chunked = teMatch == CHUNKED.length;
    if (chunked) {
      teChunked++;
    } else {
      teOther = true;
    }
    teLastChunked = chunked;
  }

  private boolean endOfLine(int at) {
    switch (name) {
      case HOST -> {
        if (sub == 0) return bad(at, RefusalReason.BAD_HOST, "empty Host");
        if (sub == 2) return bad(at, RefusalReason.BAD_HOST, "malformed Host");
        if (sub == 6 || sub == 7) return badPercent(at);
        if (sub == 4 && digits == 0)
          return bad(at, RefusalReason.BAD_HOST, "Host with an empty port");
        if (sub == 4 && port == 0) return bad(at, RefusalReason.BAD_HOST, "Host port out of range");
        if (host[0] == '[' && !ipLiteral(at)) return false;
      }
      case CONTENT_LENGTH -> {
        if (sub == 0) return bad(at, RefusalReason.BAD_CONTENT_LENGTH, "empty Content-Length");
      }
      case TRANSFER_ENCODING -> {
        if (sub == 0) return bad(at, RefusalReason.BAD_TRANSFER_ENCODING, "empty transfer coding");
        if (sub == 1) endCoding();
      }
      default -> {}
    }
    name = OTHER;
    return true;
  }

  private boolean endOfHead(int at) {
    boolean http11 = minor == 1;
    if (http11 && hosts == 0) return bad(at, RefusalReason.BAD_HOST, "no Host");
    if ((absoluteForm || connect) && hosts > 0 && !hostInTarget()) {
      return bad(at, RefusalReason.BAD_HOST, "Host does not match the request target");
    }
    if (transferEncodings > 0) {
      if (contentLengths > 0) {
        return bad(
            at, RefusalReason.BAD_TRANSFER_ENCODING, "Content-Length with Transfer-Encoding");
      }
      if (!http11)
        return bad(at, RefusalReason.BAD_TRANSFER_ENCODING, "Transfer-Encoding on HTTP/1.0");
      if (!teLastChunked || teChunked != 1) {
        return bad(at, RefusalReason.BAD_TRANSFER_ENCODING, "not exactly one final chunked");
      }
      if (teOther) {
        return bad(at, RefusalReason.UNSUPPORTED_TRANSFER_CODING, "a coding other than chunked");
      }
      state = CHUNK_SIZE_FIRST;
      digits = 0;
      remaining = 0;
    } else if (connect) {
      state = PASS;
    } else if (contentLength > 0) {
      state = FIXED;
      remaining = contentLength;
    } else {
      startHead(at + 1);
    }
    return true;
  }

  /** RFC 9112 §7.1, as {@link StrictChunkedConduit} checks it; a break stops the checking. */
  private boolean chunkByte(int b, int at) {
    switch (state) {
      case CHUNK_SIZE_FIRST, CHUNK_SIZE -> {
        int hex = b < 0x80 ? Character.digit(b, 16) : -1;
        if (hex >= 0) {
          if (++digits > 16 || (digits == 16 && remaining > 0x07ffffffffffffffL)) return pass();
          remaining = remaining * 16 + hex;
          state = CHUNK_SIZE;
        } else if (state == CHUNK_SIZE && b == ';') {
          state = CHUNK_EXT;
        } else if (state == CHUNK_SIZE && b == '\r') {
          state = CHUNK_SIZE_LF;
        } else {
          return pass();
        }
      }
      case CHUNK_EXT -> {
        if (b == '\r') {
          state = CHUNK_SIZE_LF;
        } else if ((b < 0x20 && b != '\t') || b == 0x7f) {
          return pass();
        }
      }
      case CHUNK_SIZE_LF -> {
        if (b != '\n') return pass();
        digits = 0;
        state = remaining == 0 ? TRAILER_START : CHUNK_DATA;
      }
      case CHUNK_DATA_CR -> {
        if (b != '\r') return pass();
        state = CHUNK_DATA_LF;
      }
      case CHUNK_DATA_LF -> {
        if (b != '\n') return pass();
        state = CHUNK_SIZE_FIRST;
      }
      case TRAILER_START -> {
        if (b == '\r') {
          state = FINAL_LF;
        } else if ((CLASS[b] & TCHAR) != 0) {
          state = TRAILER;
        } else {
          return pass();
        }
      }
      case TRAILER -> {
        if (b == '\r') {
          state = TRAILER_LF;
        } else if ((b < 0x20 && b != '\t') || b == 0x7f) {
          return pass();
        }
      }
      case TRAILER_LF -> {
        if (b != '\n') return pass();
        state = TRAILER_START;
      }
      case FINAL_LF -> {
        if (b != '\n') return pass();
        startHead(at + 1);
      }
      default -> throw new IllegalStateException("state " + state);
    }
    return true;
  }

  /**
   * An IP-literal Host ({@code [...]}, which got past the byte checks: hex digits, ':' and '.'
   * only) as Undertow's Host check ({@link HostHeaderHandler#valueCheck}, which runs before any
   * handler of ours and answers with a bare 400) would refuse it: an IPv6 address that is not one
   * ({@code [1.2.3]}, {@code [12345::1]}). Rare, so a String here is fine.
   */
  private boolean ipLiteral(int at) {
    // An IPv6 address is at most 45 characters (47 with the brackets): a longer one is none.
    int result =
        hostLength > HOST_CAPTURE
            ? -1
            : HostHeaderHandler.valueCheck(
                new String(host, 0, hostLength, StandardCharsets.ISO_8859_1));
    if (result >= 0) return true;
    return bad(at, RefusalReason.BAD_HOST, "malformed IP literal in Host");
  }

  /**
   * With an absolute-form target, or CONNECT's authority-form, Undertow's Host check refuses (bare
   * 400) a Host whose uri-host is not in the target up to its query ({@code
   * getRequestURI().contains(host)}). The same test over the captured target, allocation-free (the
   * forward proxy gets absolute-form on every request). Exact for targets of up to {@link
   * #TARGET_CAPTURE} bytes; beyond, only their first bytes are searched, so a Host found only
   * further on (never in the authority) is refused here though Undertow would let it through — as
   * is a uri-host over {@link #HOST_CAPTURE} bytes.
   */
  private boolean hostInTarget() {
    if (hostLength > HOST_CAPTURE) return false;
    int end = 0;
    while (end < targetLength && target[end] != '?') end++;
    int n = hostLength;
    for (int i = 0, last = end - n; i <= last; i++) {
      int k = 0;
      while (k < n && target[i + k] == host[k]) k++;
      if (k == n) return true;
    }
    return false;
  }

  private boolean pass() {
    state = PASS;
    return true;
  }

  private static final String NOT_A_TARGET =
      "request target not in origin, absolute or asterisk form";

  /** RFC 3986 scheme characters after the first: ALPHA, DIGIT, "+", "-", ".". */
  private static boolean isSchemeChar(int b) {
    int lower = b | 0x20;
    return (lower >= 'a' && lower <= 'z')
        || (b >= '0' && b <= '9')
        || b == '+'
        || b == '-'
        || b == '.';
  }

  private static boolean same(byte[] a, byte[] b, int n) {
    for (int i = 0; i < n; i++) if (a[i] != b[i]) return false;
    return true;
  }
}
