package io.hoptrace.proxy.tcp.mysql;

import static io.hoptrace.proxy.tcp.RelayHarness.INBOUND;
import static io.hoptrace.proxy.tcp.RelayHarness.SOLE;
import static io.hoptrace.proxy.tcp.RelayHarness.assertNoLeak;
import static io.hoptrace.proxy.tcp.mysql.MysqlServerProcess.PASSWORD;
import static io.hoptrace.proxy.tcp.mysql.MysqlServerProcess.USER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hoptrace.proxy.tcp.CollectingSink;
import io.hoptrace.proxy.tcp.TcpProtocol;
import io.hoptrace.proxy.tcp.TcpRelay;
import io.hoptrace.proxy.tcp.TcpRoute;
import io.hoptrace.span.Span;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A real MariaDB server behind the relay: login untouched, one span per query or execute. */
@Timeout(120)
class MysqlRelayTest {
  static MysqlServerProcess mysql;
  final CollectingSink sink = new CollectingSink();
  TcpRelay relay;
  int port;

  @BeforeAll
  static void startServer() throws Exception {
    mysql = new MysqlServerProcess();
  }

  @AfterAll
  static void stopServer() {
    if (mysql != null) mysql.close();
  }

  @BeforeEach
  void setUp() throws Exception {
    relay = startRelay(mysql.port);
    port = relay.port("db");
  }

  TcpRelay startRelay(int upstreamPort) throws IOException {
    TcpRoute route =
        TcpRoute.of("db", "127.0.0.1", 0, "127.0.0.1:" + upstreamPort, TcpProtocol.MYSQL);
    return TcpRelay.start("svc", List.of(route), SOLE, sink);
  }

  @AfterEach
  void tearDown() {
    if (relay != null) relay.close();
  }

  MysqlClient connect(boolean deprecateEof) throws IOException {
    return MysqlClient.connect(port, USER, PASSWORD, "app", deprecateEof);
  }

  @ParameterizedTest(name = "deprecateEof={0}")
  @ValueSource(booleans = {true, false})
  void queries_oneSpanEach_literalsReplaced(boolean deprecateEof) throws Exception {
    String table = "users_" + deprecateEof;
    try (MysqlClient app = connect(deprecateEof)) {
      assertThat(app.query("DROP TABLE IF EXISTS " + table).failed()).isFalse();
      assertThat(
              app.query("CREATE TABLE " + table + " (id INT PRIMARY KEY, name VARCHAR(50))")
                  .failed())
          .isFalse();
      assertThat(
              app.query("INSERT INTO " + table + " VALUES (1, 'alice'), (2, 'bob'), (3, 'carol')")
                  .affectedRows())
          .isEqualTo(3);
      assertThat(app.query("SELECT id, name FROM " + table + " WHERE id IN (1, 2, 3)").rows())
          .isEqualTo(3);
      assertThat(app.query("UPDATE " + table + " SET name = 'dave' WHERE id = 2").affectedRows())
          .isEqualTo(1);
    }
    List<Span> spans = sink.await(5, Duration.ofSeconds(5));
    assertThat(spans)
        .extracting(Span::name)
        .containsExactly(
            "mysql drop", "mysql create", "mysql insert", "mysql select", "mysql update");
    assertThat(spans.get(2).tag("db.statement"))
        .isEqualTo("INSERT INTO " + table + " VALUES (?), (?), (?)");
    assertThat(spans.get(2).tag("db.mysql.affected_rows")).isEqualTo("3");
    assertThat(spans.get(3).tag("db.statement"))
        .isEqualTo("SELECT id, name FROM " + table + " WHERE id IN (?)");
    assertThat(spans.get(3).tag("db.mysql.rows")).isEqualTo("3");
    assertThat(spans.get(3).tag("db.operation")).isEqualTo("SELECT");
    assertThat(spans.get(4).tag("db.statement"))
        .isEqualTo("UPDATE " + table + " SET name = ? WHERE id = ?");
    for (Span s : spans) {
      assertThat(s.tag("db.system")).isEqualTo("mysql");
      assertThat(s.tag("db.name")).isEqualTo("app");
      assertThat(s.tag("error")).isNull();
      assertThat(s.parentId()).isEqualTo(INBOUND.spanId());
      assertThat(s.remotePort()).isEqualTo(mysql.port);
      assertThat(describe(s)).doesNotContain("alice").doesNotContain("dave");
    }
    assertNoLeak(relay);
  }

  @ParameterizedTest(name = "deprecateEof={0}")
  @ValueSource(booleans = {true, false})
  void preparedStatements_executeSpansCarryTheStatement(boolean deprecateEof) throws Exception {
    try (MysqlClient app = connect(deprecateEof)) {
      app.query("CREATE TABLE IF NOT EXISTS ps (id INT PRIMARY KEY, name VARCHAR(50))");
      app.query("REPLACE INTO ps VALUES (1, 'alice'), (2, 'bob')");
      int select = app.prepare("SELECT name FROM ps WHERE name = ? OR id > 5");
      assertThat(app.execute(select, "alice").rows()).isEqualTo(1);
      assertThat(app.execute(select, "nobody").rows()).isEqualTo(0);
      int update = app.prepare("UPDATE ps SET name = ? WHERE id = ?");
      assertThat(app.execute(update, "eve", "2").affectedRows()).isEqualTo(1);
      app.closeStatement(select);
      app.closeStatement(update);
      assertThat(app.query("SELECT 1").rows()).isEqualTo(1); // still in step after the closes
    }
    List<Span> spans = sink.await(6, Duration.ofSeconds(5));
    assertThat(spans)
        .extracting(Span::name)
        .containsExactly(
            "mysql create",
            "mysql replace",
            "mysql select",
            "mysql select",
            "mysql update",
            "mysql select");
    Span execute = spans.get(2);
    assertThat(execute.tag("db.statement"))
        .isEqualTo("SELECT name FROM ps WHERE name = ? OR id > ?");
    assertThat(execute.tag("db.mysql.prepared")).isEqualTo("true");
    assertThat(execute.tag("db.mysql.rows")).isEqualTo("1");
    assertThat(spans.get(3).tag("db.mysql.rows")).isEqualTo("0");
    assertThat(spans.get(4).tag("db.mysql.affected_rows")).isEqualTo("1");
    assertThat(spans.get(5).tag("db.mysql.prepared")).isNull();
    assertNoLeak(relay);
  }

  @Test
  void errors_codeAndRedactedMessage() throws Exception {
    try (MysqlClient app = connect(true)) {
      assertThat(app.query("SELECT * FROM no_such_table").errorCode()).isEqualTo(1146);
      app.query("CREATE TABLE IF NOT EXISTS uniq (email VARCHAR(50) PRIMARY KEY)");
      app.query("INSERT IGNORE INTO uniq VALUES ('alice@example.com')");
      assertThat(app.query("INSERT INTO uniq VALUES ('alice@example.com')").errorCode())
          .isEqualTo(1062);
      assertThatThrownBy(() -> app.prepare("SELEC nonsense")).isInstanceOf(IOException.class);
    }
    List<Span> spans = sink.await(5, Duration.ofSeconds(5));
    assertThat(spans.get(0).tag("error")).isEqualTo("1146 (42S02) Table ? doesn't exist");
    assertThat(spans.get(0).tag("db.mysql.error_code")).isEqualTo("1146");
    assertThat(spans.get(3).tag("error")).isEqualTo("1062 (23000) Duplicate entry ? for key ?");
    assertThat(spans.get(4).name()).isEqualTo("mysql prepare");
    assertThat(spans.get(4).tag("error")).startsWith("1064 (42000)");
    for (Span s : spans) assertThat(describe(s)).doesNotContain("alice");
  }

  @Test
  void multipleResults_oneSpan() throws Exception {
    try (MysqlClient app = connect(true)) {
      assertThat(app.query("SELECT 1; SELECT 2 UNION SELECT 3; DO 0").rows()).isEqualTo(3);
      assertThat(app.query("SELECT 4").rows()).isEqualTo(1);
    }
    List<Span> spans = sink.await(2, Duration.ofSeconds(5));
    assertThat(spans.get(0).tag("db.mysql.rows")).isEqualTo("3");
    assertThat(spans.get(1).tag("db.statement")).isEqualTo("SELECT ?");
  }

  @Test
  void useAndInitDb_changeDbName() throws Exception {
    try (MysqlClient app = connect(true)) {
      assertThat(app.query("USE mysql").failed()).isFalse();
      assertThat(app.query("SELECT 1").rows()).isEqualTo(1);
      app.writePacket("\u0002app".getBytes(StandardCharsets.US_ASCII), 0); // COM_INIT_DB
      assertThat(app.readPacket()[0]).isEqualTo((byte) 0);
      assertThat(app.query("SELECT 2").rows()).isEqualTo(1);
    }
    assertThat(sink.await(3, Duration.ofSeconds(5)))
        .extracting(s -> s.name() + " " + s.tag("db.name"))
        .containsExactly("mysql use mysql", "mysql select mysql", "mysql select app");
  }

  @Test
  void wrongPassword_connectSpanWithError() throws Exception {
    assertThatThrownBy(() -> MysqlClient.connect(port, USER, "wrong", "app", true))
        .isInstanceOf(MysqlClient.LoginException.class);
    Span span = sink.await(1, Duration.ofSeconds(5)).get(0);
    assertThat(span.name()).isEqualTo("mysql connect");
    assertThat(span.tag("error"))
        .isEqualTo("1045 (28000) Access denied for user ?@? (using password: YES)");
    assertThat(span.tag("db.mysql.error_code")).isEqualTo("1045");
    assertNoLeak(relay);
  }

  @Test
  void seventeenMebibyteValue_multiPacket_roundTrips() throws Exception {
    int size = 17 * 1024 * 1024;
    StringBuilder sql = new StringBuilder(size + 100);
    sql.append("INSERT INTO blobs VALUES (1, '");
    for (int i = 0; i < size; i++) sql.append((char) ('a' + i % 26));
    sql.append("')");
    try (MysqlClient app = connect(true)) {
      app.query("CREATE TABLE IF NOT EXISTS blobs (id INT PRIMARY KEY, v LONGTEXT)");
      app.query("DELETE FROM blobs");
      assertThat(app.query(sql.toString()).affectedRows()).isEqualTo(1);
      assertThat(app.query("SELECT v FROM blobs WHERE id = 1").rows()).isEqualTo(1);
      assertThat(app.query("SELECT LENGTH(v) FROM blobs").rows()).isEqualTo(1);
    }
    List<Span> spans = sink.await(5, Duration.ofSeconds(10));
    assertThat(spans.get(2).tag("db.statement")).isEqualTo("INSERT INTO blobs VALUES (?...");
    assertThat(spans.get(3).tag("db.mysql.rows")).isEqualTo("1");
    assertThat(spans.get(4).tag("db.mysql.rows")).isEqualTo("1");
    assertThat(spans).allSatisfy(s -> assertThat(s.tag("error")).isNull());
    assertNoLeak(relay);
  }

  @Test
  void appDisconnectsMidQuery_spanWithError() throws Exception {
    MysqlClient app = connect(true);
    app.writePacket("\u0003SELECT SLEEP(5)".getBytes(StandardCharsets.US_ASCII), 0);
    Thread.sleep(100);
    app.abort();
    Span span = sink.await(1, Duration.ofSeconds(5)).get(0);
    assertThat(span.name()).isEqualTo("mysql select");
    assertThat(span.tag("error")).isNotNull();
    assertNoLeak(relay);
    try (MysqlClient again = connect(true)) {
      assertThat(again.query("SELECT 1").rows()).isEqualTo(1);
    }
  }

  @Test
  void serverKilledMidQuery_spanWithError() throws Exception {
    try (MysqlServerProcess doomed = new MysqlServerProcess();
        TcpRelay relay2 = startRelay(doomed.port)) {
      try (MysqlClient app = MysqlClient.connect(relay2.port("db"), USER, PASSWORD, "app", true)) {
        app.writePacket("\u0003SELECT SLEEP(30)".getBytes(StandardCharsets.US_ASCII), 0);
        Thread.sleep(200);
        doomed.kill();
        assertThatThrownBy(app::readResult).isInstanceOf(IOException.class);
      }
      Span span = sink.await(1, Duration.ofSeconds(5)).get(0);
      assertThat(span.name()).isEqualTo("mysql select");
      assertThat(span.tag("error")).isNotNull();
      assertNoLeak(relay2);
    }
  }

  @Test
  void mariadbCommandLineClient_throughTheRelay() throws Exception {
    assertThat(new File("/usr/bin/mariadb").canExecute()).as("mariadb client").isTrue();
    Process cli =
        new ProcessBuilder(
                "/usr/bin/mariadb",
                "--no-defaults",
                "--protocol=TCP",
                "-h127.0.0.1",
                "-P" + port,
                "-u" + USER,
                "-p" + PASSWORD,
                "app",
                "-e",
                "SELECT 'x' AS a, 42 AS b; SHOW TABLES")
            .redirectErrorStream(true)
            .start();
    String output = new String(cli.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(cli.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(cli.exitValue()).as(output).isZero();
    assertThat(output).contains("42");
    relayDrained();
    List<String> statements =
        sink.spans().stream().map(s -> String.valueOf(s.tag("db.statement"))).toList();
    assertThat(statements).contains("SELECT ? AS a, ? AS b", "SHOW TABLES");
  }

  void relayDrained() throws InterruptedException {
    assertNoLeak(relay);
  }

  static String describe(Span s) {
    StringBuilder b = new StringBuilder(s.name());
    for (int i = 0; i < s.tagCount(); i++)
      b.append(' ').append(s.tagKey(i)).append('=').append(s.tagValue(i));
    return b.toString();
  }
}
