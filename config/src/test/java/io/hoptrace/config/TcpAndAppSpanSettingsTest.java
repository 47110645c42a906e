package io.hoptrace.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tcp-routes.<name>}, {@code tcp-routes.connect-timeout} and {@code admin.spans}. */
class TcpAndAppSpanSettingsTest {
  @TempDir Path dir;

  Settings file(String hocon) throws Exception {
    Path file = dir.resolve("hoptrace.conf");
    Files.writeString(file, hocon);
    return Settings.load(file, Map.of(), Map.of());
  }

  static void assertRejected(Map<String, String> cli, String message) {
    assertThatThrownBy(() -> Settings.load(null, Map.of(), cli))
        .isInstanceOf(SettingsException.class)
        .hasMessage(message);
  }

  @Test
  void defaults_noTcpRoutes_connectTimeout10s_appSpansOn() {
    Settings s = Settings.load(null, Map.of(), Map.of());
    assertThat(s.tcpRoutes()).isEmpty();
    assertThat(s.tcpConnectTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(s.appSpans()).isEqualTo(new Settings.AppSpans(true, 1 << 20, 1000, 1000, 2000));
  }

  @Test
  void tcpRoutes_fromFile_sortedByName_defaultsHostAndProtocol() throws Exception {
    Settings s =
        file(
            "hoptrace.tcp-routes { db { listen = 3307, upstream = \"10.0.0.12:3306\", protocol ="
                + " MySQL }, cache { listen = 0, upstream = \"[::1]:6379\", protocol = redis,"
                + " host = \"0.0.0.0\" }, smtp { listen = 2525, upstream = \"mail:25\" },"
                + " connect-timeout = 3s }");
    assertThat(s.tcpRoutes())
        .containsExactly(
            new Settings.TcpRoute("cache", "0.0.0.0", 0, new HostPort("::1", 6379), "redis"),
            new Settings.TcpRoute(
                "db", "127.0.0.1", 3307, new HostPort("10.0.0.12", 3306), "mysql"),
            new Settings.TcpRoute("smtp", "127.0.0.1", 2525, new HostPort("mail", 25), "tcp"));
    assertThat(s.tcpConnectTimeout()).isEqualTo(Duration.ofSeconds(3));
  }

  @Test
  void tcpRoutes_fromCli() {
    Settings s =
        Settings.load(
            null,
            Map.of(),
            Map.of(
                "tcp-routes.cache.listen", "0",
                "tcp-routes.cache.upstream", "127.0.0.1:6379",
                "tcp-routes.cache.protocol", "redis"));
    assertThat(s.tcpRoutes())
        .containsExactly(
            new Settings.TcpRoute(
                "cache", "127.0.0.1", 0, new HostPort("127.0.0.1", 6379), "redis"));
  }

  @Test
  void tcpConnectTimeout_fromEnvironment() {
    Settings s =
        Settings.load(null, Map.of("HOPTRACE_TCP_ROUTES_CONNECT_TIMEOUT", "250ms"), Map.of());
    assertThat(s.tcpConnectTimeout()).isEqualTo(Duration.ofMillis(250));
  }

  @Test
  void tcpRoutes_listenOutOfRange_namesTheKey() {
    assertRejected(
        Map.of("tcp-routes.cache.listen", "70000", "tcp-routes.cache.upstream", "a:1"),
        "tcp-routes.cache.listen: 70000 (expected: 0..65535, 0 for an ephemeral port)");
  }

  @Test
  void tcpRoutes_missingListen_namesTheKey() {
    assertRejected(
        Map.of("tcp-routes.cache.upstream", "a:1"),
        "tcp-routes.cache.listen: missing (expected: 0..65535)");
  }

  @Test
  void tcpRoutes_badUpstream_namesTheKey() {
    assertRejected(
        Map.of("tcp-routes.cache.listen", "0", "tcp-routes.cache.upstream", "redis"),
        "tcp-routes.cache.upstream: redis (expected: HOST:PORT with a port in 1..65535)");
  }

  @Test
  void tcpRoutes_unknownProtocol_namesTheKey() {
    assertRejected(
        Map.of(
            "tcp-routes.cache.listen", "0",
            "tcp-routes.cache.upstream", "a:1",
            "tcp-routes.cache.protocol", "memcached"),
        "tcp-routes.cache.protocol: memcached (expected: redis, mysql or tcp)");
  }

  @Test
  void tcpRoutes_unknownField_namesTheKey() throws Exception {
    assertThatThrownBy(
            () -> file("hoptrace.tcp-routes.cache { listen = 0, upstream = \"a:1\", port = 2 }"))
        .isInstanceOf(SettingsException.class)
        .hasMessage(
            "tcp-routes.cache.port: unknown key (expected: listen, upstream, protocol or host)");
  }

  @Test
  void tcpRoutes_badName_namesTheKey() throws Exception {
    assertThatThrownBy(
            () -> file("hoptrace.tcp-routes { \"a b\" { listen = 0, upstream = \"a:1\" } }"))
        .isInstanceOf(SettingsException.class)
        .hasMessageStartingWith("tcp-routes.a b: a b (expected: a route name");
  }

  @Test
  void tcpConnectTimeout_zero_isRejected() {
    assertRejected(
        Map.of("tcp-routes.connect-timeout", "0s"),
        "tcp-routes.connect-timeout: 0s (expected: a duration > 0, e.g. 10s)");
  }

  @Test
  void appSpans_fromCli() {
    Settings s =
        Settings.load(
            null,
            Map.of(),
            Map.of(
                "admin.spans.enabled", "false",
                "admin.spans.max-body", "64KiB",
                "admin.spans.max-spans-per-request", "10",
                "admin.spans.rate", "0",
                "admin.spans.burst", "10"));
    assertThat(s.appSpans()).isEqualTo(new Settings.AppSpans(false, 64 << 10, 10, 0, 10));
  }

  @Test
  void appSpans_burstBelowMaxSpans_isRejected() {
    assertRejected(
        Map.of("admin.spans.burst", "10"),
        "admin.spans.burst: 10 (expected: at least admin.spans.max-spans-per-request (1000))");
  }

  @Test
  void appSpans_negativeRate_isRejected() {
    assertRejected(
        Map.of("admin.spans.rate", "-1"), "admin.spans.rate: -1 (expected: 0..16777216)");
  }

  @Test
  void appSpans_zeroMaxBody_isRejected() {
    assertRejected(
        Map.of("admin.spans.max-body", "0"), "admin.spans.max-body: 0 (expected: 1B..64MiB)");
  }
}
