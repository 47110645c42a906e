package io.hoptrace.proxy.tcp.mysql;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * A minimal MySQL client for tests: mysql_native_password login, COM_QUERY, COM_STMT_PREPARE /
 * EXECUTE / CLOSE, with or without CLIENT_DEPRECATE_EOF. What an app's driver does on the wire.
 */
public final class MysqlClient implements AutoCloseable {
  static final int CLIENT_LONG_PASSWORD = 1;
  static final int CLIENT_CONNECT_WITH_DB = 8;
  static final int CLIENT_PROTOCOL_41 = 0x200;
  static final int CLIENT_TRANSACTIONS = 0x2000;
  static final int CLIENT_SECURE_CONNECTION = 0x8000;
  static final int CLIENT_MULTI_STATEMENTS = 0x10000;
  static final int CLIENT_MULTI_RESULTS = 0x20000;
  static final int CLIENT_PS_MULTI_RESULTS = 0x40000;
  static final int CLIENT_PLUGIN_AUTH = 0x80000;
  static final int CLIENT_DEPRECATE_EOF = 1 << 24;

  /** What a command returned. */
  public record Result(long rows, long affectedRows, int errorCode, String error) {
    boolean failed() {
      return errorCode != 0;
    }
  }

  /** A failed login. */
  static final class LoginException extends IOException {
    private static final long serialVersionUID = 1L;

    LoginException(String message) {
      super(message);
    }
  }

  final Socket socket;
  final InputStream in;
  final OutputStream out;
  final boolean deprecateEof;
  int sequence;

  MysqlClient(Socket socket, boolean deprecateEof) throws IOException {
    this.socket = socket;
    this.in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
    this.out = socket.getOutputStream();
    this.deprecateEof = deprecateEof;
  }

  public static MysqlClient connect(
      int port, String user, String password, String database, boolean deprecateEof)
      throws IOException {
    Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
    socket.setSoTimeout(15_000);
    MysqlClient c = new MysqlClient(socket, deprecateEof);
    try {
      c.login(user, password, database);
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
    return c;
  }

  void login(String user, String password, String database) throws IOException {
    byte[] greeting = readPacket();
    int i = 1;
    while (greeting[i] != 0) i++;
    i += 1 + 4;
    byte[] scramble = new byte[20];
    System.arraycopy(greeting, i, scramble, 0, 8);
    i += 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10;
    System.arraycopy(greeting, i, scramble, 8, 12);

    int caps =
        CLIENT_LONG_PASSWORD
            | CLIENT_CONNECT_WITH_DB
            | CLIENT_PROTOCOL_41
            | CLIENT_TRANSACTIONS
            | CLIENT_SECURE_CONNECTION
            | CLIENT_MULTI_STATEMENTS
            | CLIENT_MULTI_RESULTS
            | CLIENT_PS_MULTI_RESULTS
            | CLIENT_PLUGIN_AUTH
            | (deprecateEof ? CLIENT_DEPRECATE_EOF : 0);
    ByteArrayOutputStream p = new ByteArrayOutputStream();
    int4(p, caps);
    int4(p, 16 * 1024 * 1024);
    p.write(33); // utf8_general_ci
    p.write(new byte[23], 0, 23);
    cstring(p, user);
    byte[] auth = nativePassword(password, scramble);
    p.write(auth.length);
    p.write(auth, 0, auth.length);
    cstring(p, database);
    cstring(p, "mysql_native_password");
    writePacket(p.toByteArray(), 1);

    byte[] reply = readPacket();
    if ((reply[0] & 0xff) == 0xFE) { // auth switch: the plugin name, then its scramble
      int j = 1;
      while (reply[j] != 0) j++;
      byte[] seed = Arrays.copyOfRange(reply, j + 1, j + 21);
      writePacket(nativePassword(password, seed), sequence + 1);
      reply = readPacket();
    }
    if ((reply[0] & 0xff) == 0xFF) throw new LoginException(errorText(reply));
  }

  static byte[] nativePassword(String password, byte[] scramble) {
    try {
      MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
      byte[] stage1 = sha1.digest(password.getBytes(UTF_8));
      byte[] stage2 = sha1.digest(stage1);
      sha1.update(scramble, 0, 20);
      byte[] mix = sha1.digest(stage2);
      for (int k = 0; k < mix.length; k++) mix[k] ^= stage1[k];
      return mix;
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  /** COM_QUERY; returns rows or affected rows (summed over multiple results) or the error. */
  public Result query(String sql) throws IOException {
    byte[] text = sql.getBytes(UTF_8);
    byte[] payload = new byte[text.length + 1];
    payload[0] = 0x03;
    System.arraycopy(text, 0, payload, 1, text.length);
    writePacket(payload, 0);
    return readResult();
  }

  /** COM_STMT_PREPARE; returns the statement id, or throws with the server's error. */
  int prepare(String sql) throws IOException {
    byte[] text = sql.getBytes(UTF_8);
    byte[] payload = new byte[text.length + 1];
    payload[0] = 0x16;
    System.arraycopy(text, 0, payload, 1, text.length);
    writePacket(payload, 0);
    byte[] ok = readPacket();
    if ((ok[0] & 0xff) == 0xFF) throw new IOException(errorText(ok));
    int id = (ok[1] & 0xff) | (ok[2] & 0xff) << 8 | (ok[3] & 0xff) << 16 | (ok[4] & 0xff) << 24;
    int columns = (ok[5] & 0xff) | (ok[6] & 0xff) << 8;
    int params = (ok[7] & 0xff) | (ok[8] & 0xff) << 8;
    for (int k = 0; k < params; k++) readPacket();
    if (params > 0 && !deprecateEof) readPacket();
    for (int k = 0; k < columns; k++) readPacket();
    if (columns > 0 && !deprecateEof) readPacket();
    return id;
  }

  /** COM_STMT_EXECUTE with string parameters. */
  Result execute(int statement, String... params) throws IOException {
    ByteArrayOutputStream p = new ByteArrayOutputStream();
    p.write(0x17);
    int4(p, statement);
    p.write(0); // no cursor
    int4(p, 1); // iteration count
    if (params.length > 0) {
      p.write(new byte[(params.length + 7) / 8], 0, (params.length + 7) / 8); // no nulls
      p.write(1); // types follow
      for (int k = 0; k < params.length; k++) {
        p.write(0xFD); // MYSQL_TYPE_VAR_STRING
        p.write(0);
      }
      for (String param : params) {
        byte[] v = param.getBytes(UTF_8);
        p.write(v.length); // short values only: a one-byte length
        p.write(v, 0, v.length);
      }
    }
    writePacket(p.toByteArray(), 0);
    return readResult();
  }

  void closeStatement(int statement) throws IOException {
    ByteArrayOutputStream p = new ByteArrayOutputStream();
    p.write(0x19);
    int4(p, statement);
    writePacket(p.toByteArray(), 0);
  }

  Result readResult() throws IOException {
    long rows = 0;
    long affected = 0;
    while (true) {
      byte[] first = readPacket();
      int h = first[0] & 0xff;
      if (h == 0xFF) return new Result(rows, affected, errorCode(first), errorText(first));
      int status;
      if (h == 0x00) {
        int[] pos = {1};
        affected += lenenc(first, pos);
        lenenc(first, pos);
        status = (first[pos[0]] & 0xff) | (first[pos[0] + 1] & 0xff) << 8;
      } else {
        int[] pos = {0};
        long columns = lenenc(first, pos);
        for (long k = 0; k < columns; k++) readPacket();
        if (!deprecateEof) readPacket();
        while (true) {
          byte[] row = readPacket();
          int rh = row[0] & 0xff;
          if (rh == 0xFF) return new Result(rows, affected, errorCode(row), errorText(row));
          if (rh == 0xFE && row.length < 0xFFFFFF && (deprecateEof || row.length < 9)) {
            if (deprecateEof) {
              int[] p2 = {1};
              lenenc(row, p2);
              lenenc(row, p2);
              status = (row[p2[0]] & 0xff) | (row[p2[0] + 1] & 0xff) << 8;
            } else {
              status = (row[3] & 0xff) | (row[4] & 0xff) << 8;
            }
            break;
          }
          rows++;
        }
      }
      if ((status & 0x0008) == 0) return new Result(rows, affected, 0, "");
    }
  }

  static long lenenc(byte[] b, int[] pos) {
    int first = b[pos[0]] & 0xff;
    int size = first < 0xFB ? 0 : first == 0xFC ? 2 : first == 0xFD ? 3 : 8;
    long v = size == 0 ? first : 0;
    for (int k = size; k >= 1; k--) v = (v << 8) | (b[pos[0] + k] & 0xff);
    pos[0] += 1 + size;
    return v;
  }

  static int errorCode(byte[] err) {
    return (err[1] & 0xff) | (err[2] & 0xff) << 8;
  }

  static String errorText(byte[] err) {
    return errorCode(err) + " " + new String(err, 3, err.length - 3, UTF_8);
  }

  /** Reads one logical packet (joining 16 MiB continuations). */
  byte[] readPacket() throws IOException {
    ByteArrayOutputStream payload = new ByteArrayOutputStream();
    int length;
    do {
      byte[] header = in.readNBytes(4);
      if (header.length < 4) throw new EOFException("connection closed");
      length = (header[0] & 0xff) | (header[1] & 0xff) << 8 | (header[2] & 0xff) << 16;
      sequence = header[3] & 0xff;
      byte[] data = in.readNBytes(length);
      if (data.length < length) throw new EOFException("connection closed");
      payload.write(data, 0, data.length);
    } while (length == 0xFFFFFF);
    return payload.toByteArray();
  }

  /** Writes one logical packet, split into 16 MiB pieces when needed. */
  void writePacket(byte[] payload, int seq) throws IOException {
    int offset = 0;
    int s = seq;
    while (true) {
      int n = Math.min(0xFFFFFF, payload.length - offset);
      byte[] header = {(byte) n, (byte) (n >> 8), (byte) (n >> 16), (byte) s++};
      out.write(header);
      out.write(payload, offset, n);
      offset += n;
      if (n < 0xFFFFFF) break;
    }
    out.flush();
    sequence = s - 1;
  }

  static void int4(ByteArrayOutputStream p, int v) {
    p.write(v);
    p.write(v >> 8);
    p.write(v >> 16);
    p.write(v >> 24);
  }

  static void cstring(ByteArrayOutputStream p, String s) {
    byte[] b = s.getBytes(UTF_8);
    p.write(b, 0, b.length);
    p.write(0);
  }

  /** Closes with a reset, as a crashing app would. */
  void abort() throws IOException {
    socket.setSoLinger(true, 0);
    socket.close();
  }

  @Override
  public void close() throws IOException {
    if (!socket.isClosed()) {
      try {
        writePacket(new byte[] {0x01}, 0); // COM_QUIT
      } catch (IOException ignored) {
        // already gone
      }
      socket.close();
    }
  }
}
