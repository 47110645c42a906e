package io.hoptrace.proxy.tcp.redis;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** A minimal blocking RESP client for tests: what an app's Redis client does on the wire. */
public final class RespClient implements AutoCloseable {
  /** An error reply. */
  record ErrorReply(String message) {}

  final Socket socket;
  final InputStream in;
  final OutputStream out;

  public RespClient(int port) throws IOException {
    socket = new Socket(InetAddress.getLoopbackAddress(), port);
    socket.setSoTimeout(10_000);
    in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
    out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
  }

  static byte[] encode(Object... args) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(("*" + args.length + "\r\n").getBytes(US_ASCII));
    for (Object a : args) {
      byte[] bytes = a instanceof byte[] raw ? raw : a.toString().getBytes(UTF_8);
      b.writeBytes(("$" + bytes.length + "\r\n").getBytes(US_ASCII));
      b.writeBytes(bytes);
      b.writeBytes("\r\n".getBytes(US_ASCII));
    }
    return b.toByteArray();
  }

  /** Sends one command without waiting (pipelining: call several times, then read). */
  public RespClient send(Object... args) throws IOException {
    out.write(encode(args));
    return this;
  }

  public void flush() throws IOException {
    out.flush();
  }

  /** Sends one command and reads its reply. */
  public @Nullable Object call(Object... args) throws IOException {
    send(args).flush();
    return read();
  }

  /** Reads one value: String, ErrorReply, Long, byte[], List, Boolean, Double or null. */
  @Nullable Object read() throws IOException {
    int type = in.read();
    if (type < 0) throw new EOFException();
    String line = line();
    return switch (type) {
      case '+' -> line;
      case '-' -> new ErrorReply(line);
      case ':' -> Long.parseLong(line);
      case '_' -> null;
      case '#' -> line.equals("t");
      case ',' -> Double.parseDouble(line);
      case '$' -> bulk(Integer.parseInt(line));
      case '*', '~', '>', '%' ->
          aggregate(type == '%' ? 2 * Integer.parseInt(line) : Integer.parseInt(line));
      default -> throw new IOException("unexpected type " + (char) type);
    };
  }

  byte @Nullable [] bulk(int n) throws IOException {
    if (n < 0) return null;
    byte[] data = in.readNBytes(n);
    if (data.length < n || in.read() != '\r' || in.read() != '\n') throw new EOFException();
    return data;
  }

  @Nullable List<@Nullable Object> aggregate(int n) throws IOException {
    if (n < 0) return null;
    List<@Nullable Object> items = new ArrayList<>();
    for (int i = 0; i < n; i++) items.add(read());
    return items;
  }

  String line() throws IOException {
    StringBuilder s = new StringBuilder();
    for (int c; (c = in.read()) != '\r'; ) {
      if (c < 0) throw new EOFException();
      s.append((char) c);
    }
    if (in.read() != '\n') throw new IOException("expected LF");
    return s.toString();
  }

  /** Closes with a reset, as a crashing app would. */
  void abort() throws IOException {
    socket.setSoLinger(true, 0);
    socket.close();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
