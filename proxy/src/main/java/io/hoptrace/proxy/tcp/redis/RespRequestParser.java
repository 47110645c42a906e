package io.hoptrace.proxy.tcp.redis;

import java.nio.ByteBuffer;

/**
 * Incremental parser of what a Redis client sends: RESP arrays of bulk strings ({@code
 * *2\r\n$3\r\nGET\r\n$1\r\nk\r\n}) and inline commands ({@code PING\r\n}). Fed chunks split at any
 * byte; keeps the first {@link #CAPTURED_ARGS} arguments' first {@link #CAPTURE} bytes (the command
 * name, a subcommand, a numkeys count) and skips everything else by counting, so a 10 MiB value
 * costs no memory. Never throws: input it cannot follow sets {@link #failed()}.
 */
final class RespRequestParser {
  /** Told about each command as it is read. */
  interface Handler {
    /** The first byte of a command arrived. */
    void onCommandStart();

    /** The last byte of a command arrived; the parser's captured arguments describe it. */
    void onCommand(RespRequestParser command);
  }

  static final int CAPTURE = 32;
  static final int CAPTURED_ARGS = 3;
  // Redis's own limits (proto-max-bulk-len default 512 MiB; multibulk count < 1024*1024*1024).
  static final long MAX_BULK = 512L * 1024 * 1024;
  static final long MAX_ARGS = 1024L * 1024 * 1024;

  static final int START = 0;
  static final int COUNT = 1;
  static final int DOLLAR = 2;
  static final int LENGTH = 3;
  static final int DATA = 4;
  static final int CR = 5;
  static final int LF = 6;
  static final int INLINE = 7;
  static final int FAILED = 8;
  static final int STOPPED = 9;

  final Handler handler;
  final byte[][] args = new byte[CAPTURED_ARGS][CAPTURE];
  final int[] argLengths = new int[CAPTURED_ARGS]; // bytes captured
  final long[] argFullLengths = new long[CAPTURED_ARGS]; // bytes the argument really had
  int state = START;
  long argCount;
  long argIndex;
  long remaining;
  // Number being parsed (a count or a length line).
  final RespNumberLine numberLine = new RespNumberLine();
  boolean inToken;

  RespRequestParser(Handler handler) {
    this.handler = handler;
  }

  /** Consumes all of {@code chunk}. */
  void feed(ByteBuffer chunk) {
    while (chunk.hasRemaining()) {
      switch (state) {
        case START -> start(chunk.get());
        case COUNT -> {
          if (number(chunk.get())) count();
        }
        case DOLLAR -> {
          state = chunk.get() == '$' ? LENGTH : FAILED;
          resetNumber();
        }
        case LENGTH -> {
          if (number(chunk.get())) length();
        }
        case DATA -> data(chunk);
        case CR -> state = chunk.get() == '\r' ? LF : FAILED;
        case LF -> argumentEnded(chunk.get());
        case INLINE -> inline(chunk.get());
        default -> { // FAILED, STOPPED: the rest is not ours to parse
          chunk.position(chunk.limit());
          return;
        }
      }
    }
  }

  void count() {
    long number = numberLine.magnitude;
    if (numberLine.negative || number == 0) {
      state = START; // Redis ignores *0 and *-1: no command, no reply
    } else if (number > MAX_ARGS) {
      state = FAILED;
    } else {
      argCount = number;
      argIndex = 0;
      state = DOLLAR;
    }
  }

  void length() {
    long number = numberLine.magnitude;
    if (numberLine.negative || number > MAX_BULK) {
      state = FAILED;
      return;
    }
    remaining = number;
    if (argIndex < CAPTURED_ARGS) argFullLengths[(int) argIndex] = number;
    state = number == 0 ? CR : DATA;
  }

  void argumentEnded(byte b) {
    if (b != '\n') {
      state = FAILED;
    } else if (++argIndex == argCount) {
      state = START;
      handler.onCommand(this);
    } else {
      state = DOLLAR;
    }
  }

  void start(byte b) {
    if (b == '\r' || b == '\n') return; // Redis skips empty lines between commands
    clearArgs();
    handler.onCommandStart();
    if (b == '*') {
      state = COUNT;
      resetNumber();
    } else {
      state = INLINE;
      argIndex = 0;
      inToken = false;
      inline(b);
    }
  }

  void data(ByteBuffer chunk) {
    int take = (int) Math.min(remaining, chunk.remaining());
    if (argIndex < CAPTURED_ARGS) {
      int i = (int) argIndex;
      int copy = Math.min(take, CAPTURE - argLengths[i]);
      if (copy > 0) {
        chunk.get(args[i], argLengths[i], copy);
        argLengths[i] += copy;
        take -= copy;
        remaining -= copy;
      }
    }
    chunk.position(chunk.position() + take);
    remaining -= take;
    if (remaining == 0) state = CR;
  }

  /** Inline command: whitespace-separated tokens up to the newline. */
  void inline(byte b) {
    if (b == '\n') {
      state = START;
      if (inToken) argIndex++;
      if (argIndex > 0) {
        argCount = argIndex;
        handler.onCommand(this);
      }
      return;
    }
    if (b == ' ' || b == '\t' || b == '\r') {
      if (inToken) {
        inToken = false;
        argIndex++;
      }
      return;
    }
    inToken = true;
    if (argIndex < CAPTURED_ARGS) {
      int i = (int) argIndex;
      argFullLengths[i]++;
      if (argLengths[i] < CAPTURE) args[i][argLengths[i]++] = b;
    }
  }

  /** Returns true when the number line is complete. */
  boolean number(byte b) {
    if (numberLine.accept(b)) return true;
    if (numberLine.failed) state = FAILED;
    return false;
  }

  void resetNumber() {
    numberLine.reset();
  }

  void clearArgs() {
    for (int i = 0; i < CAPTURED_ARGS; i++) {
      argLengths[i] = 0;
      argFullLengths[i] = 0;
    }
  }

  /** Stops parsing: what follows is not a stream of commands (MONITOR, pub/sub). */
  void stop() {
    state = STOPPED;
  }

  boolean failed() {
    return state == FAILED;
  }

  /** A command has started but not ended (for a connection that closes mid-command). */
  boolean inCommand() {
    return state != START && state != FAILED && state != STOPPED;
  }

  /** How many arguments the command has, its name included. */
  long argCount() {
    return argCount;
  }

  /** Captured bytes of argument {@code i} (< {@link #CAPTURED_ARGS}); see {@link #argLength}. */
  byte[] arg(int i) {
    return args[i];
  }

  int argLength(int i) {
    return argLengths[i];
  }

  /** True when argument {@code i} was longer than what was captured. */
  boolean argTruncated(int i) {
    return argFullLengths[i] > argLengths[i];
  }
}
