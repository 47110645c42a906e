package io.hoptrace.proxy.tcp.mysql;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class SqlNormalizerTest {
  static String normalize(String sql) {
    byte[] b = sql.getBytes(UTF_8);
    return SqlNormalizer.normalize(b, 0, b.length, 512, false);
  }

  @Test
  void stringLiterals_becomePlaceholders() {
    assertThat(normalize("SELECT * FROM u WHERE name = 'alice' AND note = \"x\""))
        .isEqualTo("SELECT * FROM u WHERE name = ? AND note = ?");
  }

  @Test
  void escapedAndDoubledQuotes_stayInsideTheLiteral() {
    assertThat(normalize("SELECT 'it''s', 'a\\'b', x")).isEqualTo("SELECT ?, x");
  }

  @Test
  void numbers_hexAndBitLiterals_becomePlaceholders() {
    assertThat(normalize("SELECT 1, -2.5, 3e10, .5, 0xFF, X'ab', b'01', N'n' FROM t"))
        .isEqualTo("SELECT ? FROM t");
  }

  @Test
  void digitsInsideIdentifiers_areKept() {
    assertThat(normalize("SELECT col_1, t2.c3 FROM t2 LIMIT 10"))
        .isEqualTo("SELECT col_1, t2.c3 FROM t2 LIMIT ?");
  }

  @Test
  void backtickIdentifiers_areKept() {
    assertThat(normalize("SELECT `weird 'name'` FROM `t1` WHERE `a` = 5"))
        .isEqualTo("SELECT `weird 'name'` FROM `t1` WHERE `a` = ?");
  }

  @Test
  void inLists_collapse() {
    assertThat(normalize("DELETE FROM t WHERE id IN (1, 2, 3,4)"))
        .isEqualTo("DELETE FROM t WHERE id IN (?)");
    assertThat(normalize("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')"))
        .isEqualTo("INSERT INTO t (a, b) VALUES (?), (?)");
  }

  @Test
  void comments_areRemoved_whitespaceCollapsed() {
    assertThat(normalize("/* user=alice */ SELECT\n\t a -- secret\n FROM t # more\n WHERE b=1"))
        .isEqualTo("SELECT a FROM t WHERE b=?");
  }

  @Test
  void longStatement_boundedWithEllipsis() {
    String sql = "SELECT " + "a, ".repeat(400) + "b FROM t";
    String out = normalize(sql);
    assertThat(out).hasSize(512 + 3).endsWith("...");
  }

  @Test
  void cutInput_unterminatedLiteral_isPlaceholder() {
    byte[] b = "INSERT INTO t VALUES ('abc".getBytes(UTF_8);
    assertThat(SqlNormalizer.normalize(b, 0, b.length, 512, true))
        .isEqualTo("INSERT INTO t VALUES (?...");
  }

  @Test
  void operation_firstKeyword() {
    assertThat(SqlNormalizer.operation("select ?")).isEqualTo("SELECT");
    assertThat(SqlNormalizer.operation("(SELECT ?) UNION (SELECT ?)")).isEqualTo("SELECT");
    assertThat(SqlNormalizer.operation("?")).isEqualTo("UNKNOWN");
  }

  @Property(tries = 500)
  void anyBytes_neverThrow_boundedOutput(@ForAll byte[] sql) {
    assertThat(SqlNormalizer.normalize(sql, 0, sql.length, 64, false).length())
        .isLessThanOrEqualTo(67);
  }
}
