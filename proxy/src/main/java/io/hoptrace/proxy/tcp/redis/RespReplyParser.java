package io.hoptrace.proxy.tcp.redis;

import java.nio.ByteBuffer;

/**
 * Incremental parser of what a Redis server sends, RESP2 and RESP3: simple string, error, integer,
 * bulk string, array, and RESP3 null, boolean, double, big number, bulk error, verbatim string,
 * map, set, push and attribute. Fed chunks split at any byte; nested aggregates are followed with a
 * stack of element counts and bulk payloads are skipped by counting, so memory is constant. Tells
 * its handler when each top-level value ends: a reply, or a push (which answers no command).
 * Attributes ({@code |}) decorate the value after them and are not values themselves. Never throws:
 * input it cannot follow sets {@link #failed()}.
 */
final class RespReplyParser {
  /** Told about each complete top-level value. */
  interface Handler {
    /** A reply ended; {@link #type()}, {@link #isNull()} and {@link #line} describe it. */
    void onReply(RespReplyParser reply);

    /** A RESP3 push ended (pub/sub message, client-side caching invalidation, ...). */
    void onPush(RespReplyParser push);
  }

  /** First bytes kept of a top-level simple string, error or bulk error. */
  static final int CAPTURE = 128;

  static final int MAX_DEPTH = 64;
  static final long MAX_LENGTH = 512L * 1024 * 1024;

  static final int TYPE = 0;
  static final int LINE = 1;
  static final int NUMBER = 2;
  static final int BULK = 3;
  static final int FAILED = 4;
  static final int STOPPED = 5;

  final Handler handler;
  final long[] remainingElements = new long[MAX_DEPTH];
  final boolean[] attribute = new boolean[MAX_DEPTH];
  final byte[] line = new byte[CAPTURE];
  int lineLength;
  int state = TYPE;
  int depth;
  byte type; // of the value being parsed
  byte topType; // of the top-level value being parsed (attributes aside)
  boolean topNull;
  boolean capturing;
  long remaining; // bulk bytes left, CRLF included
  long captureLimit;
  final RespNumberLine numberLine = new RespNumberLine();

  RespReplyParser(Handler handler) {
    this.handler = handler;
  }

  /** Consumes all of {@code chunk} (stops early only when the handler calls {@link #stop()}). */
  void feed(ByteBuffer chunk) {
    while (chunk.hasRemaining()) {
      switch (state) {
        case TYPE -> type(chunk.get());
        case LINE -> line(chunk);
        case NUMBER -> {
          if (number(chunk.get())) lengthOrCount();
        }
        case BULK -> bulk(chunk);
        default -> { // FAILED, STOPPED
          chunk.position(chunk.limit());
          return;
        }
      }
    }
  }

  void type(byte t) {
    type = t;
    if (depth == 0 && t != '|') {
      topType = t;
      topNull = false;
      lineLength = 0;
    }
    switch (t) {
      case '+', '-' -> {
        capturing = depth == 0;
        state = LINE;
      }
      case '_' -> {
        if (depth == 0) topNull = true;
        capturing = false;
        state = LINE;
      }
      case ':', '#', ',', '(' -> {
        capturing = false;
        state = LINE;
      }
      case '$', '!', '=', '*', '~', '>', '%', '|' -> {
        numberLine.reset();
        state = NUMBER;
      }
      default -> state = FAILED;
    }
  }

  /** A line value: scanned to its newline, its first bytes kept when it may be an error. */
  void line(ByteBuffer chunk) {
    int p = chunk.position();
    int limit = chunk.limit();
    while (p < limit) {
      byte b = chunk.get(p++);
      if (b == '\n') {
        chunk.position(p);
        state = TYPE;
        valueEnded();
        return;
      }
      if (capturing && b != '\r' && lineLength < CAPTURE) line[lineLength++] = b;
    }
    chunk.position(p);
  }

  void bulk(ByteBuffer chunk) {
    int take = (int) Math.min(remaining, chunk.remaining());
    if (capturing) {
      int copy = (int) Math.min(take, Math.min(captureLimit, CAPTURE) - lineLength);
      if (copy > 0) {
        chunk.get(line, lineLength, copy);
        lineLength += copy;
        take -= copy;
        remaining -= copy;
      }
    }
    chunk.position(chunk.position() + take);
    remaining -= take;
    if (remaining == 0) {
      state = TYPE;
      valueEnded();
    }
  }

  /** Returns true when the number line is complete. */
  boolean number(byte b) {
    if (numberLine.accept(b)) return true;
    if (numberLine.failed) state = FAILED;
    return false;
  }

  void lengthOrCount() {
    long n = numberLine.value();
    state = TYPE;
    if (n > MAX_LENGTH) {
      state = FAILED;
      return;
    }
    if (type == '$' || type == '!' || type == '=') {
      if (n < 0) {
        if (depth == 0) topNull = true;
        valueEnded();
      } else {
        remaining = n + 2;
        capturing = depth == 0 && type == '!';
        captureLimit = n;
        state = BULK;
      }
      return;
    }
    // An aggregate.
    if (n <= 0) {
      if (type == '|') return; // an empty attribute: the real value follows
      if (n < 0 && depth == 0) topNull = true;
      valueEnded();
      return;
    }
    if (depth == MAX_DEPTH) {
      state = FAILED;
      return;
    }
    remainingElements[depth] = type == '%' || type == '|' ? 2 * n : n;
    attribute[depth] = type == '|';
    depth++;
  }

  /** A value ended: count it in its aggregate, closing every aggregate it completes. */
  void valueEnded() {
    while (depth > 0) {
      int f = depth - 1;
      if (--remainingElements[f] > 0) return;
      depth--;
      if (attribute[f]) return; // an attribute is not an element: the value it decorates follows
    }
    if (topType == '>') {
      handler.onPush(this);
    } else {
      handler.onReply(this);
    }
  }

  /** Stops parsing: what follows is not a stream of replies (MONITOR, pub/sub). */
  void stop() {
    state = STOPPED;
  }

  boolean failed() {
    return state == FAILED;
  }

  /** The RESP type byte of the top-level value that just ended. */
  byte type() {
    return topType;
  }

  /** A RESP2 null bulk string or array, or a RESP3 null. */
  boolean isNull() {
    return topNull;
  }

  /** An error reply: simple ({@code -}) or bulk ({@code !}). */
  boolean isError() {
    return topType == '-' || topType == '!';
  }

  /** The captured first bytes of a top-level simple string, error or bulk error. */
  byte[] line() {
    return line;
  }

  int lineLength() {
    return lineLength;
  }
}
