package io.hoptrace.proxy.tcp.mysql;

import static java.util.Objects.requireNonNull;

import io.hoptrace.proxy.tcp.ConnectionSpan;
import io.hoptrace.proxy.tcp.ErrorText;
import io.hoptrace.proxy.tcp.ProtocolObserver;
import io.hoptrace.proxy.tcp.SpanRecorder;
import io.hoptrace.proxy.tcp.TcpLink;
import io.hoptrace.span.Span;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * {@code protocol = mysql}: one CLIENT span per {@code COM_QUERY} and per prepared-statement
 * execute, named {@code mysql <operation>}, from the command's first byte to its response's last.
 *
 * <p>The handshake and authentication pass through untouched; the observer only reads the
 * capabilities both sides announce (CLIENT_DEPRECATE_EOF decides how a result set ends, MariaDB's
 * metadata caching whether column definitions are sent). A client that asks for TLS (SSLRequest) or
 * compression makes the rest of the connection unreadable: the connection gets one span instead
 * ({@code hoptrace.tcp.fallback=tls|compression}). A failed login gets a {@code mysql connect} span
 * with the error.
 *
 * <p>Commands wait in a FIFO and responses end them in order (MariaDB clients may pipeline a
 * prepare and its execute). Tags: {@code db.system=mysql}, {@code db.operation}, {@code
 * db.statement} (literals replaced by {@code ?}, at most {@value #MAX_STATEMENT} characters),
 * {@code db.mysql.rows} for a result set or {@code db.mysql.affected_rows} for an OK, and on an ERR
 * {@code error} (code, SQLSTATE and the message with quoted values redacted) plus {@code
 * db.mysql.error_code}.
 */
public final class MysqlObserver implements ProtocolObserver, PacketReader.Handler {
  static final int MAX_STATEMENT = 512;

  /** Raw SQL kept per command: literals shrink to one character, so keep more than the limit. */
  static final int CLIENT_CAPTURE = 1 + 4096;

  static final int SERVER_CAPTURE = 256;
  static final int MAX_PENDING = 1000;
  static final int MAX_STATEMENTS = 10_000;

  // Capability flags (mysql_com.h), MariaDB's extended ones shifted into the high 32 bits.
  static final long CLIENT_MYSQL = 1L;
  static final long CLIENT_COMPRESS = 0x20L;
  static final long CLIENT_PROTOCOL_41 = 0x200L;
  static final long CLIENT_SSL = 0x800L;
  static final long CLIENT_DEPRECATE_EOF = 1L << 24;
  static final long CLIENT_ZSTD_COMPRESSION = 1L << 26;
  static final long CLIENT_QUERY_ATTRIBUTES = 1L << 27;
  static final long MARIADB_CLIENT_CACHE_METADATA = 1L << (32 + 4);

  static final int SERVER_MORE_RESULTS_EXISTS = 0x0008;
  static final int SERVER_STATUS_CURSOR_EXISTS = 0x0040;

  static final int COM_QUIT = 0x01;
  static final int COM_INIT_DB = 0x02;
  static final int COM_QUERY = 0x03;
  static final int COM_FIELD_LIST = 0x04;
  static final int COM_CHANGE_USER = 0x11;
  static final int COM_BINLOG_DUMP = 0x12;
  static final int COM_STMT_PREPARE = 0x16;
  static final int COM_STMT_EXECUTE = 0x17;
  static final int COM_STMT_SEND_LONG_DATA = 0x18;
  static final int COM_STMT_CLOSE = 0x19;
  static final int COM_STMT_FETCH = 0x1C;
  static final int COM_BINLOG_DUMP_GTID = 0x1E;
  static final int COM_STMT_BULK_EXECUTE = 0xFA;

  // Connection phases.
  static final int GREETING = 0;
  static final int LOGIN = 1;
  static final int AUTH = 2;
  static final int COMMANDS = 3;
  static final int FALLBACK = 4;

  final SpanRecorder recorder;
  final PacketReader clientPackets = new PacketReader(this, true, CLIENT_CAPTURE);
  final PacketReader serverPackets = new PacketReader(this, false, SERVER_CAPTURE);
  final ArrayDeque<Command> pending = new ArrayDeque<>();
  final Map<Integer, String> statements = new HashMap<>();
  final long openedMicros;
  int phase = GREETING;
  long serverCapabilities;
  long capabilities; // what both sides have
  int lastPrepared = -1;

  /** The default database: from the login, then COM_INIT_DB or USE. Null when none. */
  @Nullable String database;

  long chunkMicros;
  long packetStartMicros;
  long bytesSent;
  long bytesReceived;
  @Nullable ConnectionSpan connection;
  @Nullable String fallbackReason;

  public MysqlObserver(SpanRecorder recorder) {
    this.recorder = requireNonNull(recorder, "recorder");
    this.openedMicros = recorder.nowMicros();
  }

  @Override
  public void onClientBytes(ByteBuffer chunk) {
    bytesSent += chunk.remaining();
    if (phase == FALLBACK) return;
    chunkMicros = recorder.nowMicros();
    clientPackets.feed(chunk);
  }

  @Override
  public void onServerBytes(ByteBuffer chunk) {
    bytesReceived += chunk.remaining();
    if (phase == FALLBACK) return;
    chunkMicros = recorder.nowMicros();
    serverPackets.feed(chunk);
  }

  @Override
  public void onPacketStart(PacketReader reader) {
    if (reader.fromClient) packetStartMicros = chunkMicros;
  }

  @Override
  public void onPacket(PacketReader p) {
    if (p.fromClient) clientPacket(p);
    else serverPacket(p);
  }

  void clientPacket(PacketReader p) {
    if (phase == LOGIN) {
      login(p);
    } else if (phase == COMMANDS && p.sequence() == 0 && !p.continuation()) {
      // Sequence 0 starts a command; anything else continues one (a long query, LOCAL INFILE
      // contents, COM_CHANGE_USER's authentication).
      command(p);
    }
  }

  void serverPacket(PacketReader p) {
    switch (phase) {
      case GREETING -> greeting(p);
      case AUTH -> {
        int header = p.u8(0);
        if (header == 0x00) phase = COMMANDS;
        else if (header == 0xFF) connectFailed(error(p, 1));
        // else: an auth switch (0xFE) or more auth data (0x01): the exchange goes on
      }
      case COMMANDS -> {
        if (p.continuation()) return;
        Command c = pending.peekFirst();
        if (c != null && response(c, p)) {
          pending.pollFirst();
          finish(c, null);
        }
      }
      default -> {}
    }
  }

  /** The server's Initial Handshake Packet (protocol 10): its capabilities. */
  void greeting(PacketReader p) {
    if (p.u8(0) == 0xFF) {
      connectFailed(error(p, 1)); // e.g. too many connections, host blocked
      return;
    }
    if (p.u8(0) != 10) {
      fallBack("unknown handshake");
      return;
    }
    int i = 1;
    while (i < p.capturedLength() && p.u8(i) != 0) i++; // server version, NUL-terminated
    i += 1 + 4 + 8 + 1; // NUL, connection id, auth-plugin-data part 1, filler
    long caps = le(p, i, 2);
    long upper = le(p, i + 2 + 1 + 2, 2); // after charset and status flags
    if (caps < 0) {
      fallBack("unknown handshake");
      return;
    }
    if (upper > 0) caps |= upper << 16;
    if ((caps & CLIENT_MYSQL) == 0) {
      // MariaDB: extended capabilities in the last 4 of the 10 reserved bytes.
      long extended = le(p, i + 2 + 1 + 2 + 2 + 1 + 6, 4);
      if (extended > 0) caps |= extended << 32;
    }
    serverCapabilities = caps;
    phase = LOGIN;
  }

  /** The client's first packet: an SSLRequest or a Handshake Response. */
  void login(PacketReader p) {
    long caps = le(p, 0, 4);
    if (caps < 0 || (caps & CLIENT_PROTOCOL_41) == 0) {
      fallBack("unknown handshake");
      return;
    }
    if ((caps & CLIENT_SSL) != 0) {
      // TLS follows: nothing after this is readable, and no TLS is ever terminated here.
      fallBack("tls");
      return;
    }
    if ((caps & CLIENT_MYSQL) == 0) {
      long extended = le(p, 28, 4); // after caps, max packet, charset and 19 filler bytes
      if (extended > 0) caps |= extended << 32;
    }
    capabilities = caps & serverCapabilities;
    database = loginDatabase(p, caps);
    if ((capabilities & (CLIENT_COMPRESS | CLIENT_ZSTD_COMPRESSION)) != 0) {
      fallBack("compression");
      return;
    }
    phase = AUTH;
  }

  void command(PacketReader p) {
    int type = p.u8(0);
    switch (type) {
      case -1, COM_QUIT, COM_STMT_SEND_LONG_DATA -> {
        return; // no response
      }
      case COM_STMT_CLOSE -> {
        statements.remove((int) le(p, 1, 4));
        return; // no response
      }
      case COM_BINLOG_DUMP, COM_BINLOG_DUMP_GTID -> {
        fallBack("replication");
        return;
      }
      default -> {}
    }
    Command c = new Command(type, packetStartMicros);
    if (type == COM_INIT_DB) {
      c.statement = identifier(p.payload(), 1, p.capturedLength());
    } else if (type == COM_QUERY || type == COM_STMT_PREPARE) {
      int from = 1;
      if (type == COM_QUERY && (capabilities & CLIENT_QUERY_ATTRIBUTES) != 0) {
        // Query attributes come first; with none, they are two one-byte zero counts.
        from = p.u8(1) == 0 ? 3 : -1;
      }
      c.statement =
          from < 0
              ? "?"
              : SqlNormalizer.normalize(
                  p.payload(),
                  from,
                  p.capturedLength() - from,
                  MAX_STATEMENT,
                  p.payloadLength() > p.capturedLength());
      c.operation = SqlNormalizer.operation(c.statement);
    } else if (type == COM_STMT_EXECUTE || type == COM_STMT_BULK_EXECUTE) {
      c.statementId = (int) le(p, 1, 4);
      // Flags: cursor type in the low 3 bits (MySQL 8 adds PARAMETER_COUNT_AVAILABLE, 0x08).
      c.cursor = type == COM_STMT_EXECUTE && p.u8(5) > 0 && (p.u8(5) & 0x07) != 0;
    }
    if (type == COM_QUERY || type == COM_STMT_EXECUTE || type == COM_STMT_BULK_EXECUTE) {
      c.link = recorder.link(c.startMicros);
    }
    pending.addLast(c);
    if (pending.size() > MAX_PENDING) fallBack("too many commands awaiting responses");
  }

  /** Feeds one response packet to the oldest command; true when its response is complete. */
  boolean response(Command c, PacketReader p) {
    int header = p.u8(0);
    int length = p.payloadLength();
    boolean deprecateEof = (capabilities & CLIENT_DEPRECATE_EOF) != 0;
    return switch (c.state) {
      case Command.FIRST -> first(c, p, deprecateEof);
      case Command.COLUMNS -> {
        if (--c.packetsLeft > 0) yield false;
        if (!deprecateEof) {
          c.state = Command.COLUMNS_EOF;
          yield false;
        }
        c.state = Command.ROWS;
        yield c.cursor; // rows of a cursor come with COM_STMT_FETCH
      }
      case Command.COLUMNS_EOF -> {
        c.state = Command.ROWS;
        yield (le(p, 3, 2) & SERVER_STATUS_CURSOR_EXISTS) != 0;
      }
      case Command.ROWS -> {
        if (header == 0xFF) yield c.error(error(p, 1), lastErrorCode);
        if (isTerminator(header, length, deprecateEof)) {
          long status = deprecateEof ? okStatus(p) : le(p, 3, 2);
          if (status >= 0 && (status & SERVER_MORE_RESULTS_EXISTS) != 0) {
            c.state = Command.FIRST;
            yield false;
          }
          yield true;
        }
        c.rows++;
        yield false;
      }
      case Command.PACKETS -> --c.packetsLeft <= 0;
      case Command.UNTIL_EOF -> {
        if (header == 0xFF) yield c.error(error(p, 1), lastErrorCode);
        yield isTerminator(header, length, deprecateEof);
      }
      default -> true;
    };
  }

  /** The first packet of a response (or of the next result after MORE_RESULTS). */
  boolean first(Command c, PacketReader p, boolean deprecateEof) {
    int header = p.u8(0);
    if (header == 0xFF) return c.error(error(p, 1), lastErrorCode);
    switch (c.type) {
      case COM_STMT_PREPARE -> {
        if (header != 0x00) return true;
        prepared(c, p, deprecateEof);
        return c.packetsLeft == 0;
      }
      case COM_QUERY, COM_STMT_EXECUTE, COM_STMT_BULK_EXECUTE -> {
        if (header == 0x00) return !ok(c, p);
        if (header == 0xFB) return false; // LOCAL INFILE: OK or ERR comes after the file
        if (header == 0xFE && p.payloadLength() < 9) return true;
        resultSet(c, p, deprecateEof);
        return c.state == Command.DONE;
      }
      case COM_STMT_FETCH, COM_FIELD_LIST -> {
        c.state = Command.UNTIL_EOF;
        return isTerminator(header, p.payloadLength(), deprecateEof);
      }
      case COM_CHANGE_USER -> {
        return header == 0x00; // an auth switch or more auth data until OK
      }
      default -> {
        return true; // one packet: OK, EOF (COM_SET_OPTION), a string (COM_STATISTICS)
      }
    }
  }

  /**
   * An EOF packet, or with CLIENT_DEPRECATE_EOF an OK packet with the 0xFE header. A row cannot be
   * mistaken for one: a row starting with 0xFE is a length-encoded string of 2^24 bytes or more.
   */
  static boolean isTerminator(int header, int length, boolean deprecateEof) {
    return header == 0xFE && length < PacketReader.MAX_PAYLOAD && (deprecateEof || length < 9);
  }

  /** COM_STMT_PREPARE_OK: remember the statement; parameter and column definitions follow. */
  void prepared(Command c, PacketReader p, boolean deprecateEof) {
    int id = (int) le(p, 1, 4);
    long columns = Math.max(0, le(p, 5, 2));
    long params = Math.max(0, le(p, 7, 2));
    String statement = c.statement;
    if (statement != null && statements.size() < MAX_STATEMENTS) statements.put(id, statement);
    lastPrepared = id;
    c.packetsLeft = params + columns;
    if (!deprecateEof) c.packetsLeft += (params > 0 ? 1 : 0) + (columns > 0 ? 1 : 0);
    c.state = Command.PACKETS;
  }

  /** An OK packet; returns true when more results follow. */
  boolean ok(Command c, PacketReader p) {
    long[] pos = {1};
    long affected = lenenc(p, pos);
    if (affected > 0) c.affectedRows += affected;
    c.sawOk = true;
    long status = okStatus(p);
    if (status >= 0 && (status & SERVER_MORE_RESULTS_EXISTS) != 0) {
      c.state = Command.FIRST;
      return true;
    }
    return false;
  }

  /** A result set's column count: column definitions (unless cached), maybe an EOF, rows. */
  void resultSet(Command c, PacketReader p, boolean deprecateEof) {
    long[] pos = {0};
    long columns = lenenc(p, pos);
    c.sawResultSet = true;
    boolean metadata = true;
    if ((capabilities & MARIADB_CLIENT_CACHE_METADATA) != 0) {
      metadata = p.u8((int) pos[0]) != 0;
    }
    if (metadata && columns > 0) {
      c.packetsLeft = columns;
      c.state = Command.COLUMNS;
    } else {
      c.state = Command.ROWS;
    }
    if (!metadata && c.cursor) c.state = Command.DONE;
    if (metadata && columns <= 0 && !deprecateEof) c.state = Command.COLUMNS_EOF;
  }

  /** Status flags of an OK packet (header, affected rows, last insert id, status), or -1. */
  static long okStatus(PacketReader p) {
    long[] pos = {1};
    long affectedRows = lenenc(p, pos);
    long lastInsertId = lenenc(p, pos);
    if (affectedRows < 0 || lastInsertId < 0) return -1;
    return le(p, (int) pos[0], 2);
  }

  void finish(Command c, @Nullable String failure) {
    if (c.error == null && failure == null) {
      if (c.type == COM_INIT_DB) database = c.statement;
      else if ("USE".equals(c.operation) && c.statement != null)
        database = usedDatabase(c.statement);
    }
    TcpLink link = c.link;
    long end = failure != null ? recorder.nowMicros() : chunkMicros;
    if (c.type == COM_STMT_PREPARE) {
      // A prepare is timed with its executes; only a failed one is worth a span of its own.
      if (c.error == null && failure == null) return;
      link = recorder.link(c.startMicros);
    }
    if (link == null) return;
    String statement = c.statement;
    String operation = c.operation;
    boolean execute = c.type == COM_STMT_EXECUTE || c.type == COM_STMT_BULK_EXECUTE;
    if (execute) {
      int id = c.statementId == -1 ? lastPrepared : c.statementId;
      statement = statements.get(id);
      operation = statement != null ? SqlNormalizer.operation(statement) : "EXECUTE";
    }
    if (c.type == COM_STMT_PREPARE) operation = "PREPARE";
    String name = "mysql " + (operation != null ? operation.toLowerCase(Locale.ROOT) : "query");
    Span.Builder span = recorder.newSpan(link, name, c.startMicros, end);
    span.tag("db.system", "mysql");
    String db = database;
    if (db != null) span.tag("db.name", db);
    if (operation != null) span.tag("db.operation", operation);
    if (statement != null) span.tag("db.statement", statement);
    if (execute) span.tag("db.mysql.prepared", "true");
    if (c.sawResultSet) span.tag("db.mysql.rows", Long.toString(c.rows));
    else if (c.sawOk) span.tag("db.mysql.affected_rows", Long.toString(c.affectedRows));
    if (c.error != null) {
      span.tag("db.mysql.error_code", Integer.toString(c.errorCode));
      span.tag("error", c.error);
    } else if (failure != null) {
      span.tag("error", failure);
    }
    recorder.emit(span, link);
  }

  /** Parses an ERR packet's code, SQLSTATE and message into a recordable text. */
  String error(PacketReader p, int from) {
    int code = (int) le(p, from, 2);
    lastErrorCode = code;
    int i = from + 2;
    String sqlstate = "";
    if (p.u8(i) == '#' && p.capturedLength() >= i + 6) {
      sqlstate = new String(p.payload(), i + 1, 5, java.nio.charset.StandardCharsets.US_ASCII);
      i += 6;
    }
    String message = ErrorText.redact(p.payload(), i, Math.max(0, p.capturedLength() - i), 200);
    return code + (sqlstate.isEmpty() ? "" : " (" + sqlstate + ")") + " " + message;
  }

  int lastErrorCode;

  void connectFailed(String error) {
    ConnectionSpan span = new ConnectionSpan(recorder, "mysql connect", openedMicros);
    span.addBytesSent(bytesSent);
    span.addBytesReceived(bytesReceived);
    span.finish(
        error, "db.system", "mysql", "db.mysql.error_code", Integer.toString(lastErrorCode));
    phase = FALLBACK;
    fallbackReason = null;
    clientPackets.stop();
    serverPackets.stop();
  }

  /** The rest of the connection cannot be followed: one span for it, from when it opened. */
  void fallBack(String reason) {
    phase = FALLBACK;
    fallbackReason = reason;
    clientPackets.stop();
    serverPackets.stop();
    long start = openedMicros;
    Command first = pending.peekFirst();
    if (first != null && !reason.equals("tls")) start = first.startMicros;
    pending.clear();
    connection = new ConnectionSpan(recorder, "mysql connection", start);
  }

  @Override
  public void onServerEnd() {
    if (phase == GREETING || phase == LOGIN || phase == AUTH) {
      connectFailed("server closed the connection during the handshake");
      return;
    }
    failPending("server closed the connection before responding");
  }

  @Override
  public void onClose(@Nullable String error) {
    ConnectionSpan c = connection;
    if (c != null) {
      c.addBytesSent(bytesSent);
      c.addBytesReceived(bytesReceived);
      String reason = requireNonNull(fallbackReason);
      if (reason.equals("tls")) {
        c.finish(
            error, "db.system", "mysql", "db.mysql.tls", "true", "hoptrace.tcp.fallback", reason);
      } else {
        c.finish(error, "db.system", "mysql", "hoptrace.tcp.fallback", reason);
      }
      return;
    }
    if (phase != COMMANDS && phase != FALLBACK) {
      if (error != null || bytesReceived == 0) {
        connectFailed(error != null ? error : "connection closed during the handshake");
      }
      return;
    }
    failPending(error != null ? error : "connection closed before the response");
  }

  void failPending(String failure) {
    for (Command c; (c = pending.pollFirst()) != null; ) finish(c, failure);
  }

  /**
   * The database a Handshake Response names (CLIENT_CONNECT_WITH_DB): after the user name and the
   * auth response, whose length is length-encoded, one byte, or a NUL terminator depending on the
   * capabilities. Null when absent or not readable.
   */
  static @Nullable String loginDatabase(PacketReader p, long caps) {
    if ((caps & 0x08) == 0) return null; // CLIENT_CONNECT_WITH_DB
    int i = 32; // caps, max packet, charset, 23 filler bytes
    while (i < p.capturedLength() && p.u8(i) != 0) i++; // user
    i++;
    if ((caps & 0x200000) != 0) { // CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
      long[] pos = {i};
      long n = lenenc(p, pos);
      if (n < 0) return null;
      i = (int) Math.min(Integer.MAX_VALUE, pos[0] + n);
    } else if ((caps & 0x8000) != 0) { // CLIENT_SECURE_CONNECTION
      if (p.u8(i) < 0) return null;
      i += 1 + p.u8(i);
    } else {
      while (i < p.capturedLength() && p.u8(i) != 0) i++;
      i++;
    }
    int end = i;
    while (end < p.capturedLength() && p.u8(end) != 0) end++;
    if (end >= p.capturedLength()) return null;
    return identifier(p.payload(), i, end);
  }

  /** {@code USE db}, {@code USE `db`}: the name, or null. */
  static @Nullable String usedDatabase(String statement) {
    String name = statement.substring(Math.min(3, statement.length())).trim();
    if (name.startsWith("`") && name.endsWith("`") && name.length() > 2) {
      name = name.substring(1, name.length() - 1);
    }
    return name.isEmpty() || name.length() > 64 ? null : name;
  }

  /** Bytes [from, to) as a database name: at most 64 characters (MySQL's limit), else null. */
  static @Nullable String identifier(byte[] bytes, int from, int to) {
    if (to <= from || to - from > 64 * 4) return null;
    String s = new String(bytes, from, to - from, java.nio.charset.StandardCharsets.UTF_8);
    return s.length() > 64 ? null : s;
  }

  /** Little-endian unsigned int of {@code n} bytes at {@code i}, or -1 beyond the capture. */
  static long le(PacketReader p, int i, int n) {
    if (i < 0 || i + n > p.capturedLength()) return -1;
    long v = 0;
    for (int k = n - 1; k >= 0; k--) v = (v << 8) | p.u8(i + k);
    return v;
  }

  /** A length-encoded integer at {@code pos[0]}, advancing it; -1 when unreadable. */
  static long lenenc(PacketReader p, long[] pos) {
    int i = (int) pos[0];
    int first = p.u8(i);
    int size =
        switch (first) {
          case -1, 0xFB, 0xFF -> -1;
          case 0xFC -> 2;
          case 0xFD -> 3;
          case 0xFE -> 8;
          default -> 0;
        };
    if (size < 0) return -1;
    if (size == 0) {
      pos[0] = i + 1L;
      return first;
    }
    long v = le(p, i + 1, size);
    pos[0] = i + 1L + size;
    return v;
  }

  /** A command sent and not yet fully answered. */
  static final class Command {
    static final int FIRST = 0;
    static final int COLUMNS = 1;
    static final int COLUMNS_EOF = 2;
    static final int ROWS = 3;
    static final int PACKETS = 4;
    static final int UNTIL_EOF = 5;
    static final int DONE = 6;

    final int type;
    final long startMicros;
    @Nullable TcpLink link;
    @Nullable String statement;
    @Nullable String operation;
    int statementId;
    boolean cursor;
    int state = FIRST;
    long packetsLeft;
    long rows;
    long affectedRows;
    boolean sawOk;
    boolean sawResultSet;
    int errorCode;
    @Nullable String error;

    Command(int type, long startMicros) {
      this.type = type;
      this.startMicros = startMicros;
    }

    /** Records an ERR; the response is complete. */
    boolean error(String text, int code) {
      error = text;
      errorCode = code;
      return true;
    }
  }
}
