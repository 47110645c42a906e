// JBoss, Home of Professional Open Source.
// Copyright 2025 Red Hat, Inc., and individual contributors
// as indicated by the @author tags.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
//  Unless required by applicable law or agreed to in writing, software
//  distributed under the License is distributed on an "AS IS" BASIS,
//  WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
//  See the License for the specific language governing permissions and
//  limitations under the License.
//
// Modified by hoptrace: see the class comment. (Undertow's header as line comments: Error Prone's
// AlmostJavadoc check refuses the "@author" above in a block comment.)
package io.undertow.client.http;

import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.ParserUtils;
import io.undertow.util.Protocols;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Parses the head of an HTTP/1.x response for Undertow's client ({@code HttpClientConnection} calls
 * {@link #INSTANCE}), one buffer at a time; what a buffer ends in the middle of waits in {@link
 * ResponseState#parsedData}.
 *
 * <p><b>hoptrace's copy of Undertow 2.4.4.Final's class</b> ({@link #PATCHED_FOR_UNDERTOW}), same
 * package and name, so that it replaces the original (package-private and final, used through its
 * static instance: nothing else can stand in for it). The original turned the buffered text into a
 * String at every step of every response — the version, the status code (then parsed), the reason
 * phrase, and each field name only to look it up in {@code Headers.fromCache}: 8 Strings of the 13
 * of a 5-field nginx response, ~250–300 bytes each time the same-loop transport relayed one
 * (hoptrace bench/README.md, "I/O thread work (s19)"). The shaded jar leaves Undertow's own copy
 * out (proxy/pom.xml, bench/jmh/pom.xml); on the test classpath proxy/target/classes comes first.
 *
 * <p>What changed, and only that (also: the trace message of an unknown version goes to a plain
 * logger of {@code UndertowLogger.RESPONSE_LOGGER}'s category); the bytes are read, kept and
 * refused exactly as before (the same states, the same exceptions with the same messages), which
 * {@code ResponseParserDifferentialTest} checks against the original loaded from the undertow-core
 * jar, for every split of each response into two buffers:
 *
 * <ul>
 *   <li>the version is compared in place ({@code String.contentEquals}); its text is made only for
 *       the trace message of an unknown version;
 *   <li>the status code's three ASCII digits are added up instead of {@code
 *       Integer.parseInt(toString())};
 *   <li>a reason phrase of exactly {@code OK} is the constant {@code "OK"} (any other as before);
 *   <li>a field name is looked up in the buffered characters ({@link #cachedName}, the same table
 *       and the same {@code HttpString} instances as {@code Headers.fromCache}); only a name not
 *       there is made into a String (and a new {@code HttpString}) as before;
 *   <li>a field name, and a field value with its end of line and the byte after it, that are whole
 *       in the buffer and plain are read from the buffer in place ({@link #plainFieldName}, {@link
 *       #plainFieldValue}): the loop appended every byte of them to {@code parsedData} first, one
 *       {@code ByteBuffer.get()} and {@code StringBuilder.append} each, the largest part of this
 *       class's time (bench/README.md, "Response path (s21)"). Anything else, and whatever a buffer
 *       ends in, is the loop's as before.
 * </ul>
 *
 * Field values are Strings as before (the response's {@code HeaderMap} holds Strings), but a value
 * with the same characters as the one this thread made last for the same name is that String again
 * ({@link #value}).
 */
final class ResponseParser {
  /** The Undertow version this copy was made from; another one needs the copy re-reviewed. */
  static final String PATCHED_FOR_UNDERTOW = "2.4.4.Final";

  static final ResponseParser INSTANCE = new ResponseParser();

  private static final String OK = "OK";

  // UndertowLogger.RESPONSE_LOGGER's category ("io.undertow" + ".response"), as a plain logger:
  // UndertowLogger's message annotations are not on hoptrace's compile class path (-Werror).
  private static final Logger RESPONSE_LOGGER = Logger.getLogger("io.undertow.response");

  // Headers' HttpString constants by their text (what Headers.fromCache looks up), in an
  // open-addressing table keyed by the text's String.hashCode: names[i] and values[i].
  private static final String[] NAMES;
  private static final HttpString[] VALUES;
  private static final int MASK;

  static {
    List<HttpString> known = new ArrayList<>();
    // As Headers' own static initialiser builds its map: every static HttpString field.
    for (Field field : Headers.class.getDeclaredFields()) {
      if (!Modifier.isStatic(field.getModifiers()) || field.getType() != HttpString.class) {
        continue;
      }
      try {
        known.add((HttpString) field.get(null));
      } catch (IllegalAccessException e) {
        throw new IllegalStateException(e);
      }
    }
    int size = Integer.highestOneBit(Math.max(16, known.size() * 4));
    String[] names = new String[size];
    HttpString[] values = new HttpString[size];
    for (HttpString value : known) {
      String name = value.toString();
      int i = name.hashCode() & (size - 1);
      while (names[i] != null && !names[i].equals(name)) i = (i + 1) & (size - 1);
      // A later field of the same text replaces the earlier, as a HashMap.put would.
      names[i] = name;
      values[i] = value;
    }
    NAMES = names;
    VALUES = values;
    MASK = size - 1;
  }

  /**
   * What {@code Headers.fromCache(name.toString())} returns, without making the String: the
   * constant of that exact text (case counts), or null.
   */
  static HttpString cachedName(CharSequence name) {
    int h = 0;
    int length = name.length();
    for (int k = 0; k < length; k++) h = 31 * h + name.charAt(k);
    for (int i = h & MASK; ; i = (i + 1) & MASK) {
      String candidate = NAMES[i];
      if (candidate == null) return null;
      if (candidate.length() == length && candidate.contentEquals(name)) return VALUES[i];
    }
  }

  void handle(ByteBuffer buffer, ResponseState state, HttpResponseBuilder builder) {
    this.parseVersion(buffer, state, builder);
    this.parseStatusCode(buffer, state, builder);
    this.parseReasonPhrase(buffer, state, builder);

    while (buffer.hasRemaining() && !state.isComplete()) {
      this.parseFieldName(buffer, state);
      this.parseFieldValue(buffer, state, builder);
    }
  }

  private void parseVersion(ByteBuffer buffer, ResponseState state, HttpResponseBuilder builder) {
    if (state.state == 0 && buffer.hasRemaining()) {
      StringBuilder sb = state.parsedData;

      while (buffer.hasRemaining()) {
        byte nextByte = buffer.get();
        char nextChar = (char) (nextByte & 255);
        if (!ParserUtils.isProtocolChar(nextByte, sb.length())) {
          if (nextByte == 32 && sb.length() == ParserUtils.getProtocolLength()) {
            // hoptrace: compared in place, no String of the version.
            if (Protocols.HTTP_0_9.toString().contentEquals(sb)) {
              builder.setProtocol(Protocols.HTTP_0_9);
            } else if (Protocols.HTTP_1_0.toString().contentEquals(sb)) {
              builder.setProtocol(Protocols.HTTP_1_0);
            } else if (Protocols.HTTP_1_1.toString().contentEquals(sb)) {
              builder.setProtocol(Protocols.HTTP_1_1);
            } else if (Protocols.HTTP_2_0.toString().contentEquals(sb)) {
              builder.setProtocol(Protocols.HTTP_2_0);
            } else {
              if (RESPONSE_LOGGER.isTraceEnabled()) {
                RESPONSE_LOGGER.tracef(
                    "Unsupported HTTP version %s; falling back to HTTP 1.1", sb.toString());
              }

              builder.setProtocol(Protocols.HTTP_1_1);
            }

            state.parsedData.setLength(0);
            state.state = 1;
            return;
          }

          throw new HttpResponseParseException("Wrong protocol version");
        }

        sb.append(nextChar);
      }
    }
  }

  private void parseStatusCode(
      ByteBuffer buffer, ResponseState state, HttpResponseBuilder builder) {
    if (state.state == 1 && buffer.hasRemaining()) {
      StringBuilder sb = state.parsedData;

      while (buffer.hasRemaining()) {
        byte nextByte = buffer.get();
        char nextChar = (char) (nextByte & 255);
        if (!ParserUtils.isDigitChar(nextByte) || sb.length() >= 3) {
          if (nextByte == 32 && sb.length() == 3) {
            // hoptrace: three ASCII digits (isDigitChar), added up: Integer.parseInt's value.
            builder.setStatusCode(
                (sb.charAt(0) - '0') * 100 + (sb.charAt(1) - '0') * 10 + (sb.charAt(2) - '0'));
            state.parsedData.setLength(0);
            state.state = 2;
            return;
          } else {
            throw new HttpResponseParseException("Wrong status code");
          }
        }

        sb.append(nextChar);
      }
    }
  }

  private void parseReasonPhrase(
      ByteBuffer buffer, ResponseState state, HttpResponseBuilder builder) {
    if (state.state == 2 && buffer.hasRemaining()) {
      StringBuilder sb = state.parsedData;

      while (buffer.hasRemaining()) {
        byte nextByte = buffer.get();
        char nextChar = (char) (nextByte & 255);
        if (state.previousByte != 0
            || (!ParserUtils.isVisibleAsciiChar(nextByte)
                && !ParserUtils.isSpaceOrTabChar(nextByte)
                && !ParserUtils.isObsoleteChar(nextByte))) {
          if (state.previousByte != 0 || nextByte != 13) {
            if (state.previousByte == 13 && nextByte == 10) {
              // hoptrace: "OK" (trimmed, it is itself) is the constant.
              String reason = OK.contentEquals(sb) ? OK : sb.toString().trim();
              if (!reason.isEmpty()) {
                builder.setReasonPhrase(reason);
              }

              state.previousByte = 0;
              state.parsedData.setLength(0);
              state.state = 3;
              return;
            } else {
              throw new HttpResponseParseException("Wrong reason phrase");
            }
          }

          state.previousByte = nextByte;
        } else {
          sb.append(nextChar);
        }
      }
    }
  }

  /**
   * What {@link #cachedName(CharSequence)} returns for {@code prefix} followed by the buffer's
   * bytes {@code [start, end)} (token bytes, ASCII).
   */
  static HttpString cachedName(CharSequence prefix, ByteBuffer buffer, int start, int end) {
    int h = 0;
    int before = prefix.length();
    for (int k = 0; k < before; k++) h = 31 * h + prefix.charAt(k);
    for (int k = start; k < end; k++) h = 31 * h + (buffer.get(k) & 255);
    int length = before + end - start;
    for (int i = h & MASK; ; i = (i + 1) & MASK) {
      String candidate = NAMES[i];
      if (candidate == null) return null;
      if (candidate.length() != length) continue;
      boolean same = true;
      for (int k = 0; k < before && same; k++) same = candidate.charAt(k) == prefix.charAt(k);
      for (int k = start; k < end && same; k++) {
        same = candidate.charAt(before + k - start) == (char) (buffer.get(k) & 255);
      }
      if (same) return VALUES[i];
    }
  }

  /**
   * A field name's token bytes through its colon, read from the buffer in place when all of them
   * are there: the state and the buffer's position are what the byte loop below leaves, without
   * appending each byte to {@code parsedData} first (what is already there, the first byte read
   * with the previous field's end, comes first). False, nothing read, for anything else.
   */
  private static boolean plainFieldName(ByteBuffer buffer, ResponseState state) {
    int start = buffer.position();
    int limit = buffer.limit();
    int p = start;
    while (p < limit && ParserUtils.isTokenChar(buffer.get(p))) p++;
    StringBuilder sb = state.parsedData;
    if (p == limit || buffer.get(p) != 58 || sb.length() + p - start == 0) return false;
    HttpString name = cachedName(sb, buffer, start, p);
    if (name == null) {
      sb.append(latin1(buffer, start, p));
      name = new HttpString(sb.toString());
    }
    state.headerName = name;
    sb.setLength(0);
    state.state = 4;
    buffer.position(p + 1);
    return true;
  }

  // (The builder parameter of the original is dropped: nothing here reads it.) Undertow 2.4.4's,
  // but for the name looked up in the buffered characters and the plain name read in place
  // (plainFieldName).
  private void parseFieldName(ByteBuffer buffer, ResponseState state) {
    if (state.state == 3 && buffer.hasRemaining()) {
      StringBuilder sb = state.parsedData;
      if (state.previousByte == 0 && plainFieldName(buffer, state)) return;

      while (buffer.hasRemaining()) {
        byte nextByte = buffer.get();
        char nextChar = (char) (nextByte & 255);
        if (state.previousByte != 0 || !ParserUtils.isTokenChar(nextByte)) {
          if (state.previousByte == 0 && nextByte == 58 && sb.length() != 0) {
            // hoptrace: looked up in the buffered characters; a String only if not found.
            state.headerName = cachedName(sb);
            if (state.headerName == null) {
              state.headerName = new HttpString(sb.toString());
            }

            state.parsedData.setLength(0);
            state.state = 4;
            return;
          }

          if (state.previousByte != 0 || nextByte != 13 || sb.length() != 0) {
            if (state.previousByte == 13 && nextByte == 10 && sb.length() == 0) {
              state.previousByte = 0;
              state.state = 5;
              return;
            } else {
              throw new HttpResponseParseException("Wrong header name");
            }
          }

          state.previousByte = nextByte;
        } else {
          sb.append(nextChar);
        }
      }
    }
  }

  /** The values this thread's responses carried last, per field name (see {@link #value}). */
  static final class RecentValues {
    static final int SLOTS = 64;
    static final int MAX_LENGTH = 128;
    final HttpString[] names = new HttpString[SLOTS];
    final String[] values = new String[SLOTS];
  }

  private static final ThreadLocal<RecentValues> RECENT =
      ThreadLocal.withInitial(RecentValues::new);

  /**
   * {@code sb.toString().trim()}, but the String this thread made last for the same field name if
   * it has the same characters: an upstream sends the same values response after response ({@code
   * Server}, {@code Content-Type}, {@code Content-Length}, {@code Connection}, and {@code Date} for
   * a second), and a String is all there is of a value. One slot per name's hash on each thread
   * (the client's IO threads), values up to {@link RecentValues#MAX_LENGTH} characters: a slot
   * holds a value until a later one of a name in that slot replaces it.
   */
  static String value(HttpString name, StringBuilder sb) {
    // String.trim's bounds: every char up to ' ' off both ends
    int start = 0;
    int end = sb.length();
    while (start < end && sb.charAt(start) <= ' ') start++;
    while (end > start && sb.charAt(end - 1) <= ' ') end--;
    int length = end - start;
    if (length > RecentValues.MAX_LENGTH || isCredential(name)) return sb.toString().trim();
    RecentValues recent = RECENT.get();
    int h = name.hashCode();
    // mixed: the low bits alone put Content-Type and Content-Length in one slot
    int slot = (h ^ (h >>> 16)) & (RecentValues.SLOTS - 1);
    String last = recent.values[slot];
    if (last != null && last.length() == length && name.equals(recent.names[slot])) {
      boolean same = true;
      for (int i = 0; i < length && same; i++) same = last.charAt(i) == sb.charAt(start + i);
      if (same) return last;
    }
    String made = sb.substring(start, end);
    recent.names[slot] = name;
    recent.values[slot] = made;
    return made;
  }

  /**
   * A field whose value is a credential ({@code Set-Cookie}, {@code Set-Cookie2}): never kept past
   * its response, so a session token is not held by an IO thread until a later one replaces it.
   */
  static boolean isCredential(HttpString name) {
    return name.equals(Headers.SET_COOKIE) || name.equals(Headers.SET_COOKIE2);
  }

  /**
   * A field value's bytes through its end of line and the byte after it, read from the buffer in
   * place when all of them are there and plain (value bytes with at most single spaces or tabs
   * between them, {@code CR LF}, then a token byte or {@code CR}): the state, the field added and
   * the buffer's position are what the byte loop below leaves, without appending each byte to
   * {@code parsedData} first. False, nothing read, for anything else: the loop reads it.
   */
  private static boolean plainFieldValue(
      ByteBuffer buffer, ResponseState state, HttpResponseBuilder builder) {
    int p = buffer.position();
    int limit = buffer.limit();
    // leading spaces and tabs: the loop skips them while nothing is buffered
    while (p < limit && ParserUtils.isSpaceOrTabChar(buffer.get(p))) p++;
    int start = p;
    int end = p;
    while (true) {
      if (p + 2 >= limit) return false; // the end of line and the byte after it must be here
      byte b = buffer.get(p);
      if (isValueByte(b)) {
        end = ++p;
      } else if (ParserUtils.isSpaceOrTabChar(b) && end > start) {
        // one between value bytes is kept as it is, one before the end of line dropped; a run of
        // them is the loop's
        if (!isValueByte(buffer.get(p + 1)) && buffer.get(p + 1) != 13) return false;
        p++;
      } else {
        break;
      }
    }
    if (buffer.get(p) != 13 || buffer.get(p + 1) != 10) return false;
    byte next = buffer.get(p + 2);
    boolean anotherField = ParserUtils.isTokenChar(next);
    if (!anotherField && next != 13) return false;
    HttpString name = state.headerName;
    builder.getResponseHeaders().add(name, value(name, buffer, start, end));
    StringBuilder sb = state.parsedData;
    sb.setLength(0);
    state.headerName = null;
    if (anotherField) {
      sb.append((char) (next & 255));
      state.previousByte = 0;
    } else {
      state.previousByte = 13;
    }
    state.state = 3;
    buffer.position(p + 3);
    return true;
  }

  /** {@code ParserUtils.isVisibleAsciiChar(b) || ParserUtils.isObsoleteChar(b)}. */
  private static boolean isValueByte(byte b) {
    return (b & 255) > 32 && b != 127;
  }

  /**
   * {@link #value(HttpString, StringBuilder)} for the bytes {@code [start, end)} of the buffer
   * (Latin-1, as the loop appends them), which begin and end with a value byte: nothing to trim.
   */
  static String value(HttpString name, ByteBuffer buffer, int start, int end) {
    int length = end - start;
    if (length <= RecentValues.MAX_LENGTH && !isCredential(name)) {
      RecentValues recent = RECENT.get();
      int h = name.hashCode();
      int slot = (h ^ (h >>> 16)) & (RecentValues.SLOTS - 1);
      String last = recent.values[slot];
      if (last != null && last.length() == length && name.equals(recent.names[slot])) {
        boolean same = true;
        for (int i = 0; i < length && same; i++) {
          same = last.charAt(i) == (char) (buffer.get(start + i) & 255);
        }
        if (same) return last;
      }
      String made = latin1(buffer, start, end);
      recent.names[slot] = name;
      recent.values[slot] = made;
      return made;
    }
    return latin1(buffer, start, end);
  }

  private static String latin1(ByteBuffer buffer, int start, int end) {
    byte[] bytes = new byte[end - start];
    buffer.get(start, bytes);
    return new String(bytes, StandardCharsets.ISO_8859_1);
  }

  // Undertow 2.4.4's, but for the String of a value (see value()) and the plain value read in
  // place (plainFieldValue).
  private void parseFieldValue(
      ByteBuffer buffer, ResponseState state, HttpResponseBuilder builder) {
    if (state.state == 4 && buffer.hasRemaining()) {
      StringBuilder sb = state.parsedData;
      if (state.previousByte == 0 && sb.length() == 0 && plainFieldValue(buffer, state, builder)) {
        return;
      }

      while (buffer.hasRemaining()) {
        byte nextByte = buffer.get();
        char nextChar = (char) (nextByte & 255);
        if (state.previousByte != 0
            || sb.length() != 0
            || !ParserUtils.isSpaceOrTabChar(nextByte)) {
          if (state.previousByte == 0
              && (ParserUtils.isVisibleAsciiChar(nextByte)
                  || ParserUtils.isObsoleteChar(nextByte))) {
            sb.append(nextChar);
          } else if (state.previousByte == 0 && ParserUtils.isSpaceOrTabChar(nextByte)) {
            state.previousByte = nextByte;
          } else if (ParserUtils.isSpaceOrTabChar(state.previousByte)
              && (ParserUtils.isVisibleAsciiChar(nextByte)
                  || ParserUtils.isObsoleteChar(nextByte))) {
            sb.append((char) (state.previousByte & 255));
            sb.append(nextChar);
            state.previousByte = 0;
          } else if (!ParserUtils.isSpaceOrTabChar(state.previousByte)
              || !ParserUtils.isSpaceOrTabChar(nextByte)) {
            if (ParserUtils.isSpaceOrTabChar(state.previousByte) && nextByte == 13) {
              state.previousByte = nextByte;
            } else if (state.previousByte == 0 && nextByte == 13) {
              state.previousByte = nextByte;
            } else if (state.previousByte != 13 || nextByte != 10) {
              if (state.previousByte != 10 || !ParserUtils.isSpaceOrTabChar(nextByte)) {
                if (state.previousByte == 10 && ParserUtils.isTokenChar(nextByte)) {
                  String headerValue =
                      value(state.headerName, sb); // hoptrace: was toString().trim()
                  builder.getResponseHeaders().add(state.headerName, headerValue);
                  sb.setLength(0);
                  sb.append(nextChar);
                  state.headerName = null;
                  state.previousByte = 0;
                  state.state = 3;
                  return;
                } else if (state.previousByte == 10 && nextByte == 13) {
                  String headerValue = value(state.headerName, sb); // hoptrace: as above
                  builder.getResponseHeaders().add(state.headerName, headerValue);
                  sb.setLength(0);
                  state.headerName = null;
                  state.previousByte = nextByte;
                  state.state = 3;
                  return;
                } else {
                  throw new HttpResponseParseException("Wrong header value");
                }
              }

              if (sb.length() > 0) {
                byte[] bytes = sb.toString().getBytes(StandardCharsets.US_ASCII);
                if (!ParserUtils.isSpaceOrTabChar(bytes[bytes.length - 1])) {
                  sb.append(' ');
                }
              }

              state.previousByte = 0;
            } else {
              state.previousByte = nextByte;
            }
          }
        }
      }
    }
  }
}
