package io.hoptrace.proxy.tcp.mysql;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.proxy.tcp.CollectingSink;
import io.hoptrace.proxy.tcp.Recorders;
import io.hoptrace.proxy.tcp.RelayHarness;
import io.hoptrace.span.Span;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** The MySQL observer fed packets directly: handshake variants, splits, fallbacks. */
class MysqlObserverTest {
  static final int CAPS_41 = 0x200 | 0x8000 | 0x80000 | 1;
  static final int DEPRECATE_EOF = 1 << 24;
  static final int SSL = 0x800;
  static final int COMPRESS = 0x20;

  final CollectingSink sink = new CollectingSink();
  final List<byte[]> fromClient = new ArrayList<>();
  final List<Boolean> direction = new ArrayList<>();

  MysqlObserver newObserver() {
    return new MysqlObserver(Recorders.recorder(Recorders.MYSQL_ROUTE, RelayHarness.SOLE, sink));
  }

  static byte[] packet(int seq, byte[] payload) {
    byte[] p = new byte[payload.length + 4];
    p[0] = (byte) payload.length;
    p[1] = (byte) (payload.length >> 8);
    p[2] = (byte) (payload.length >> 16);
    p[3] = (byte) seq;
    System.arraycopy(payload, 0, p, 4, payload.length);
    return p;
  }

  static byte[] bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) b[i] = (byte) values[i];
    return b;
  }

  static byte[] greeting(int caps) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(10);
    b.writeBytes("5.5.5-10.11.19-MariaDB\0".getBytes(UTF_8));
    b.writeBytes(bytes(1, 0, 0, 0)); // connection id
    b.writeBytes("abcdefgh".getBytes(UTF_8));
    b.write(0);
    b.writeBytes(bytes(caps, caps >> 8)); // lower capabilities
    b.write(33);
    b.writeBytes(bytes(2, 0)); // status
    b.writeBytes(bytes(caps >> 16, caps >> 24)); // upper capabilities
    b.write(21);
    b.writeBytes(new byte[10]);
    b.writeBytes("ijklmnopqrst\0".getBytes(UTF_8));
    b.writeBytes("mysql_native_password\0".getBytes(UTF_8));
    return packet(0, b.toByteArray());
  }

  static byte[] login(int caps) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(bytes(caps, caps >> 8, caps >> 16, caps >> 24));
    b.writeBytes(bytes(0, 0, 0, 1)); // max packet
    b.write(33);
    b.writeBytes(new byte[23]);
    b.writeBytes("app\0".getBytes(UTF_8));
    b.write(20);
    b.writeBytes(new byte[20]);
    return packet(1, b.toByteArray());
  }

  static byte[] ok(int seq, int affected, int status) {
    return packet(seq, bytes(0, affected, 0, status, status >> 8, 0, 0));
  }

  static byte[] eof(int seq, int status) {
    return packet(seq, bytes(0xFE, 0, 0, status, status >> 8));
  }

  static byte[] query(String sql) {
    byte[] text = sql.getBytes(UTF_8);
    byte[] payload = new byte[text.length + 1];
    payload[0] = 3;
    System.arraycopy(text, 0, payload, 1, text.length);
    return packet(0, payload);
  }

  static byte[] column(int seq) {
    return packet(seq, "\3def\3app\1t\1t\1c\1c\f!\0\0\0\0\0\375\0\0\0\0\0".getBytes(UTF_8));
  }

  static byte[] row(int seq, String value) {
    byte[] v = value.getBytes(UTF_8);
    byte[] payload = new byte[v.length + 1];
    payload[0] = (byte) v.length;
    System.arraycopy(v, 0, payload, 1, v.length);
    return packet(seq, payload);
  }

  MysqlObserverTest client(byte[] b) {
    fromClient.add(b);
    direction.add(true);
    return this;
  }

  MysqlObserverTest server(byte[]... packets) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (byte[] p : packets) b.writeBytes(p);
    fromClient.add(b.toByteArray());
    direction.add(false);
    return this;
  }

  List<Span> replay(int maxChunk) {
    sink.clear();
    MysqlObserver observer = newObserver();
    for (int k = 0; k < fromClient.size(); k++) {
      byte[] bytes = fromClient.get(k);
      for (int i = 0; i < bytes.length; i += maxChunk) {
        ByteBuffer view = ByteBuffer.wrap(bytes, i, Math.min(maxChunk, bytes.length - i));
        if (direction.get(k)) observer.onClientBytes(view.asReadOnlyBuffer());
        else observer.onServerBytes(view.asReadOnlyBuffer());
      }
    }
    observer.onClose(null);
    return sink.spans();
  }

  List<String> spans() {
    List<String> whole = describe(replay(Integer.MAX_VALUE));
    assertThat(describe(replay(1))).as("split at every byte").isEqualTo(whole);
    assertThat(describe(replay(3))).as("split every 3 bytes").isEqualTo(whole);
    return whole;
  }

  static List<String> describe(List<Span> spans) {
    List<String> out = new ArrayList<>();
    for (Span s : spans) {
      StringBuilder b = new StringBuilder(s.name());
      for (int i = 0; i < s.tagCount(); i++) {
        String key = s.tagKey(i);
        if (key.startsWith("hoptrace.link") || key.equals("hoptrace.candidates")) continue;
        b.append(' ').append(key).append('=').append(s.tagValue(i));
      }
      out.add(b.toString());
    }
    return out;
  }

  void handshake(int clientCaps) {
    client(new byte[0]); // nothing: the server speaks first
    server(greeting(CAPS_41 | DEPRECATE_EOF | SSL | COMPRESS));
    client(login(clientCaps));
    server(ok(2, 0, 2));
  }

  @Test
  void query_resultSet_withEofPackets() {
    handshake(CAPS_41);
    client(query("SELECT c FROM t WHERE c = 'x'"))
        .server(packet(1, bytes(1)), column(2), eof(3, 2), row(4, "a"), row(5, "b"), eof(6, 2));
    client(query("UPDATE t SET c = 1")).server(ok(1, 4, 2));
    assertThat(spans())
        .containsExactly(
            "mysql select db.system=mysql db.operation=SELECT db.statement=SELECT c FROM t WHERE c"
                + " = ? db.mysql.rows=2",
            "mysql update db.system=mysql db.operation=UPDATE db.statement=UPDATE t SET c = ?"
                + " db.mysql.affected_rows=4");
  }

  @Test
  void query_resultSet_deprecateEof() {
    handshake(CAPS_41 | DEPRECATE_EOF);
    client(query("SELECT c FROM t"))
        .server(
            packet(1, bytes(1)), column(2), row(3, "a"), packet(4, bytes(0xFE, 0, 0, 2, 0, 0, 0)));
    client(query("SELECT 1"))
        .server(
            packet(1, bytes(1)), column(2), row(3, "1"), packet(4, bytes(0xFE, 0, 0, 2, 0, 0, 0)));
    assertThat(spans())
        .extracting(s -> s.substring(s.indexOf("db.mysql.rows")))
        .containsExactly("db.mysql.rows=1", "db.mysql.rows=1");
  }

  @Test
  void moreResults_oneSpan() {
    handshake(CAPS_41);
    client(query("CALL p()"))
        .server(
            packet(1, bytes(1)), column(2), eof(3, 0x0A), row(4, "a"), eof(5, 0x0A), ok(6, 0, 2));
    assertThat(spans()).singleElement().asString().endsWith("db.mysql.rows=1");
  }

  @Test
  void errPacket_codeAndRedactedMessage() {
    handshake(CAPS_41);
    byte[] err = "\377\046\004#23000Duplicate entry 'bob' for key 'PRIMARY'".getBytes(ISO_8859_1);
    client(query("INSERT INTO t VALUES ('bob')")).server(packet(1, err));
    assertThat(spans())
        .singleElement()
        .asString()
        .endsWith("db.mysql.error_code=1062 error=1062 (23000) Duplicate entry ? for key ?")
        .doesNotContain("bob");
  }

  @Test
  void sslRequest_fallsBackToConnectionSpan() {
    client(new byte[0]);
    server(greeting(CAPS_41 | SSL));
    client(
        packet(
            1,
            bytes(
                0x00, 0x8A, 0x08, 0x00, 0, 0, 0, 1, 33, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                0, 0, 0, 0, 0, 0, 0, 0)));
    client(bytes(0x16, 0x03, 0x01, 0x02, 0x00)); // a TLS ClientHello begins
    server(bytes(0x16, 0x03, 0x03, 0x00, 0x5d));
    List<String> spans = spans();
    assertThat(spans)
        .singleElement()
        .asString()
        .startsWith("mysql connection")
        .contains("db.mysql.tls=true", "hoptrace.tcp.fallback=tls");
  }

  @Test
  void compression_fallsBackToConnectionSpan() {
    handshake(CAPS_41 | COMPRESS);
    client(query("SELECT 1"));
    assertThat(spans()).singleElement().asString().contains("hoptrace.tcp.fallback=compression");
  }

  @Test
  void loginRefused_connectSpanWithError() {
    client(new byte[0]);
    server(greeting(CAPS_41));
    client(login(CAPS_41));
    server(
        packet(
            2,
            "\377\025\004#28000Access denied for user 'app'@'localhost' (using password: YES)"
                .getBytes(ISO_8859_1)));
    assertThat(spans())
        .singleElement()
        .asString()
        .startsWith("mysql connect")
        .contains("error=1045 (28000) Access denied for user ?@? (using password: YES)");
  }

  @Test
  void preparedStatement_pipelinedWithLastStatementId() {
    handshake(CAPS_41 | DEPRECATE_EOF);
    byte[] sql = "\026SELECT c FROM t WHERE id = ?".getBytes(UTF_8);
    client(packet(0, sql));
    // MariaDB pipelining: execute statement id -1 ("the one just prepared") before the response.
    client(packet(0, bytes(0x17, 0xFF, 0xFF, 0xFF, 0xFF, 0, 1, 0, 0, 0, 0, 1, 0xFD, 0, 1, '7')));
    server(packet(1, bytes(0, 9, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0)), column(2), column(3));
    server(
        packet(1, bytes(1)),
        column(2),
        packet(3, bytes(0, 0, 1, 'x')),
        packet(4, bytes(0xFE, 0, 0, 2, 0, 0, 0)));
    client(packet(0, bytes(0x19, 9, 0, 0, 0))); // close: no response
    client(query("SELECT 2"))
        .server(
            packet(1, bytes(1)), column(2), row(3, "2"), packet(4, bytes(0xFE, 0, 0, 2, 0, 0, 0)));
    assertThat(spans())
        .containsExactly(
            "mysql select db.system=mysql db.operation=SELECT db.statement=SELECT c FROM t WHERE id"
                + " = ? db.mysql.prepared=true db.mysql.rows=1",
            "mysql select db.system=mysql db.operation=SELECT db.statement=SELECT ? db.mysql.rows=1");
  }

  @Test
  void serverEndsMidQuery_spanWithError() {
    handshake(CAPS_41);
    client(query("SELECT SLEEP(10)"));
    MysqlObserver observer = newObserver();
    for (int k = 0; k < fromClient.size(); k++) {
      if (direction.get(k)) observer.onClientBytes(ByteBuffer.wrap(fromClient.get(k)));
      else observer.onServerBytes(ByteBuffer.wrap(fromClient.get(k)));
    }
    observer.onServerEnd();
    observer.onClose(null);
    assertThat(describe(sink.spans()))
        .singleElement()
        .asString()
        .endsWith("error=server closed the connection before responding");
  }

  @Property(tries = 300)
  void anyBytes_neverThrow(
      @ForAll @Size(max = 300) byte[] client, @ForAll @Size(max = 300) byte[] server) {
    MysqlObserver observer = newObserver();
    observer.onServerBytes(ByteBuffer.wrap(greeting(CAPS_41)));
    observer.onClientBytes(ByteBuffer.wrap(login(CAPS_41)));
    observer.onServerBytes(ByteBuffer.wrap(ok(2, 0, 2)));
    observer.onClientBytes(ByteBuffer.wrap(client));
    observer.onServerBytes(ByteBuffer.wrap(server));
    observer.onServerEnd();
    observer.onClose(null);
  }
}
