package io.hoptrace.proxy.tcp.redis;

import static java.util.Objects.requireNonNull;

import io.hoptrace.proxy.tcp.ConnectionSpan;
import io.hoptrace.proxy.tcp.ErrorText;
import io.hoptrace.proxy.tcp.ProtocolObserver;
import io.hoptrace.proxy.tcp.SpanRecorder;
import io.hoptrace.proxy.tcp.TcpLink;
import io.hoptrace.span.Span;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;

/**
 * {@code protocol = redis}: one CLIENT span per command, named {@code redis <command>}, from the
 * command's first byte to its reply's last byte.
 *
 * <p>Redis answers commands in order, so commands wait in a FIFO and each reply ends the oldest:
 * pipelining needs nothing more, and neither does MULTI/EXEC (MULTI gets {@code +OK}, each queued
 * command {@code +QUEUED}, EXEC the array of results). RESP3 pushes answer no command and are
 * skipped. Where command and reply stop alternating (SUBSCRIBE and friends, MONITOR, replication,
 * CLIENT REPLY OFF/SKIP, a byte stream the parsers cannot follow), the connection falls back to one
 * span for the rest of it; the bytes are relayed as before.
 *
 * <p>Tags: {@code db.system=redis}, {@code db.operation} (uppercase name), {@code
 * db.redis.key_count}, {@code db.redis.reply_type}, and {@code error} for error replies (the
 * message with its quoted parts redacted, see {@link ErrorText}: Redis quotes arguments in its
 * errors and values are never recorded).
 */
public final class RedisObserver
    implements ProtocolObserver, RespRequestParser.Handler, RespReplyParser.Handler {
  /** Beyond this many commands awaiting replies the connection falls back to one span. */
  static final int MAX_PENDING = 10_000;

  final SpanRecorder recorder;
  final RespRequestParser requests = new RespRequestParser(this);
  final RespReplyParser replies = new RespReplyParser(this);
  final ArrayDeque<Pending> pending = new ArrayDeque<>();
  long chunkMicros; // when the chunk being parsed was read
  long commandStartMicros;

  /** Non-null once the connection is timed as a whole. */
  @Nullable ConnectionSpan connection;

  @Nullable String connectionOperation;
  @Nullable String fallbackReason;

  /** A connection-mode command was sent: client bytes after it are not parsed. */
  boolean requestsStopped;

  // The whole connection's, reported by the connection span when there is one.
  long bytesSent;
  long bytesReceived;

  /** Any byte seen either way: a connection that fails before any is a failed connect. */
  boolean sawBytes;

  final long openedMicros;

  public RedisObserver(SpanRecorder recorder) {
    this.recorder = requireNonNull(recorder, "recorder");
    this.openedMicros = recorder.nowMicros();
  }

  @Override
  public void onClientBytes(ByteBuffer chunk) {
    sawBytes = true;
    bytesSent += chunk.remaining();
    if (connection != null || requestsStopped) return;
    chunkMicros = recorder.nowMicros();
    requests.feed(chunk);
    if (requests.failed()) fallBack("unparsable command", null, chunkMicros);
  }

  @Override
  public void onServerBytes(ByteBuffer chunk) {
    sawBytes = true;
    bytesReceived += chunk.remaining();
    if (connection != null) return;
    chunkMicros = recorder.nowMicros();
    replies.feed(chunk);
    if (connection == null && replies.failed()) fallBack("unparsable reply", null, chunkMicros);
  }

  @Override
  public void onCommandStart() {
    commandStartMicros = chunkMicros;
  }

  @Override
  public void onCommand(RespRequestParser p) {
    RedisCommand command = RedisCommand.of(p.arg(0), p.argLength(0), p.argTruncated(0));
    long numkeys = command.numkeysIndex > 0 ? numberArg(p, command.numkeysIndex) : -1;
    int keyCount = command.keyCount(p.argCount(), numkeys);
    TcpLink link = recorder.link(commandStartMicros);
    pending.addLast(new Pending(command, keyCount, commandStartMicros, link));
    if (command.connectionMode) {
      requests.stop();
      requestsStopped = true;
    } else if (command.name.equals("CLIENT") && repliesSuppressed(p)) {
      // CLIENT REPLY OFF and SKIP get no reply of their own, and later commands maybe none either:
      // from here replies cannot be matched to commands.
      Pending first = pending.peekFirst();
      fallBack(null, command, first != null ? first.startMicros : commandStartMicros);
    } else if (pending.size() > MAX_PENDING) {
      fallBack("too many commands awaiting replies", null, pending.peekFirst().startMicros);
    }
  }

  @Override
  public void onReply(RespReplyParser reply) {
    Pending command = pending.pollFirst();
    if (command == null) return; // e.g. "-ERR max number of clients reached" before any command
    if (command.command.connectionMode) {
      enterConnectionMode(command);
      return;
    }
    Span.Builder span =
        recorder.newSpan(command.link, command.command.spanName, command.startMicros, chunkMicros);
    tagCommand(span, command);
    span.tag("db.redis.reply_type", replyType(reply));
    if (reply.isError()) {
      span.tag("error", ErrorText.redact(reply.line(), 0, reply.lineLength(), 128));
    } else if (reply.type() == '+' && isQueued(reply)) {
      span.tag("db.redis.transaction", "queued");
    }
    recorder.emit(span, command.link);
  }

  @Override
  public void onPush(RespReplyParser push) {
    // A RESP3 subscribe confirmation arrives as a push: it answers the pending SUBSCRIBE.
    Pending head = pending.peekFirst();
    if (head != null && head.command.connectionMode) {
      pending.pollFirst();
      enterConnectionMode(head);
    }
  }

  @Override
  public void onServerEnd() {
    failPending("server closed the connection before replying");
  }

  @Override
  public void onClose(@Nullable String error) {
    ConnectionSpan c = connection;
    if (c != null) {
      c.addBytesSent(bytesSent);
      c.addBytesReceived(bytesReceived);
      if (fallbackReason != null) {
        c.finish(
            error, "db.system", "redis", "hoptrace.tcp.fallback", requireNonNull(fallbackReason));
      } else {
        c.finish(error, "db.system", "redis", "db.operation", requireNonNull(connectionOperation));
      }
      return;
    }
    if (!sawBytes && error != null) {
      // The upstream refused or reset the connection before the app could send anything: the
      // app's call failed, so it gets a span.
      new ConnectionSpan(recorder, "redis connect", openedMicros)
          .finish(error, "db.system", "redis");
      return;
    }
    failPending(error != null ? error : "connection closed before the reply");
    if (requests.inCommand()) {
      // The app went away (or the connection broke) in the middle of sending a command.
      RespRequestParser p = requests;
      RedisCommand command =
          p.argLength(0) > 0 && !p.argTruncated(0)
              ? RedisCommand.of(p.arg(0), p.argLength(0), false)
              : RedisCommand.UNKNOWN;
      TcpLink link = recorder.link(commandStartMicros);
      Span.Builder span =
          recorder.newSpan(link, command.spanName, commandStartMicros, recorder.nowMicros());
      span.tag("db.system", "redis").tag("db.operation", command.name);
      span.tag("error", "connection closed mid-command" + (error != null ? ": " + error : ""));
      recorder.emit(span, link);
    }
  }

  void failPending(String error) {
    long now = recorder.nowMicros();
    for (Pending command; (command = pending.pollFirst()) != null; ) {
      Span.Builder span =
          recorder.newSpan(command.link, command.command.spanName, command.startMicros, now);
      tagCommand(span, command);
      span.tag("error", error);
      recorder.emit(span, command.link);
    }
  }

  void enterConnectionMode(Pending command) {
    replies.stop();
    connectionOperation = command.command.name;
    ConnectionSpan c =
        new ConnectionSpan(recorder, command.command.spanName, command.startMicros, command.link);
    connection = c;
    // Commands pipelined behind it are part of the connection span now.
    pending.clear();
  }

  /**
   * Stops timing commands one by one: either a parser lost track ({@code reason}) or {@code
   * command} makes replies unmatchable. The commands still waiting become part of the span.
   */
  void fallBack(@Nullable String reason, @Nullable RedisCommand command, long startMicros) {
    requests.stop();
    replies.stop();
    pending.clear();
    fallbackReason = reason;
    connectionOperation = command != null ? command.name : null;
    String name = command != null ? command.spanName : "redis connection";
    connection = new ConnectionSpan(recorder, name, startMicros);
  }

  static void tagCommand(Span.Builder span, Pending command) {
    span.tag("db.system", "redis").tag("db.operation", command.command.name);
    if (command.keyCount >= 0) span.tag("db.redis.key_count", count(command.keyCount));
  }

  private static final String[] COUNTS = new String[16];

  static {
    for (int i = 0; i < COUNTS.length; i++) COUNTS[i] = Integer.toString(i);
  }

  static String count(int n) {
    return n < COUNTS.length ? COUNTS[n] : Integer.toString(n);
  }

  static boolean repliesSuppressed(RespRequestParser p) {
    if (p.argCount() < 3 || p.argLength(1) != 5 || p.argLength(2) < 3) return false;
    if (!equalsIgnoreCase(p.arg(1), 5, "REPLY")) return false;
    return equalsIgnoreCase(p.arg(2), p.argLength(2), "OFF")
        || equalsIgnoreCase(p.arg(2), p.argLength(2), "SKIP");
  }

  static long numberArg(RespRequestParser p, int i) {
    if (i >= p.argCount() || p.argTruncated(i) || p.argLength(i) == 0) return -1;
    long n = 0;
    for (int j = 0; j < p.argLength(i); j++) {
      int c = p.arg(i)[j];
      if (c < '0' || c > '9' || j >= 9) return -1;
      n = n * 10 + (c - '0');
    }
    return n;
  }

  static boolean isQueued(RespReplyParser reply) {
    return reply.lineLength() == 6 && equalsIgnoreCase(reply.line(), 6, "QUEUED");
  }

  static boolean equalsIgnoreCase(byte[] bytes, int length, String ascii) {
    if (length != ascii.length()) return false;
    for (int i = 0; i < length; i++) {
      int c = bytes[i] & 0xff;
      if (c >= 'a' && c <= 'z') c -= 'a' - 'A';
      if (c != ascii.charAt(i)) return false;
    }
    return true;
  }

  static String replyType(RespReplyParser reply) {
    if (reply.isNull()) return "null";
    return switch (reply.type()) {
      case '+' -> "simple_string";
      case '-' -> "error";
      case ':' -> "integer";
      case '$' -> "bulk_string";
      case '*' -> "array";
      case '#' -> "boolean";
      case ',' -> "double";
      case '(' -> "big_number";
      case '!' -> "bulk_error";
      case '=' -> "verbatim_string";
      case '%' -> "map";
      case '~' -> "set";
      default -> "unknown";
    };
  }

  /** A command sent and not yet answered. */
  static final class Pending {
    final RedisCommand command;
    final int keyCount;
    final long startMicros;
    final TcpLink link;

    Pending(RedisCommand command, int keyCount, long startMicros, TcpLink link) {
      this.command = command;
      this.keyCount = keyCount;
      this.startMicros = startMicros;
      this.link = link;
    }
  }
}
