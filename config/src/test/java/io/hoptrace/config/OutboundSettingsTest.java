package io.hoptrace.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The outbound hop's settings: access control, CONNECT ports, routes, the correlator. */
class OutboundSettingsTest {
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
  void defaults_loopbackOnly_connect443_noRoutes_grace2s() throws Exception {
    Settings s = Settings.load(null, Map.of(), Map.of());
    assertThat(s.outboundAllowed(InetAddress.getByAddress(new byte[] {127, 0, 0, 2}))).isTrue();
    assertThat(s.outboundAllowed(InetAddress.getByAddress(new byte[] {10, 0, 0, 1}))).isFalse();
    assertThat(
            s.outboundAllowed(
                InetAddress.getByAddress(
                    new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})))
        .isTrue();
    assertThat(s.connectPorts()).containsExactly(443);
    assertThat(s.routes()).isEmpty();
    assertThat(s.correlatorGrace()).isEqualTo(Duration.ofSeconds(2));
    assertThat(s.correlatorValueSharing()).isTrue();
  }

  @Test
  void valueSharing_off_andNotABoolean_namesTheKey() {
    assertThat(
            Settings.load(null, Map.of(), Map.of("correlator.value-sharing", "false"))
                .correlatorValueSharing())
        .isFalse();
    assertRejected(
        Map.of("correlator.value-sharing", "maybe"),
        "correlator.value-sharing: maybe (expected: true or false)");
  }

  @Test
  void routes_fromFile_sortedByName() throws Exception {
    Settings s =
        file(
            "hoptrace.routes { orders { listen = 15001, upstream = \"orders.internal:8080\" },"
                + " billing { listen = 0, upstream = \"[::1]:9000\" } }");
    assertThat(s.routes())
        .containsExactly(
            new Settings.Route("billing", 0, new HostPort("::1", 9000)),
            new Settings.Route("orders", 15001, new HostPort("orders.internal", 8080)));
  }

  @Test
  void routes_fromCli() {
    Settings s =
        Settings.load(
            null,
            Map.of(),
            Map.of("routes.orders.listen", "15001", "routes.orders.upstream", "127.0.0.1:8081"));
    assertThat(s.routes())
        .containsExactly(new Settings.Route("orders", 15001, new HostPort("127.0.0.1", 8081)));
  }

  @Test
  void routes_badUpstream_namesTheKey() {
    assertRejected(
        Map.of("routes.orders.listen", "15001", "routes.orders.upstream", "nowhere"),
        "routes.orders.upstream: nowhere (expected: HOST:PORT with a port in 1..65535)");
  }

  @Test
  void routes_missingListen_namesTheKey() {
    assertRejected(
        Map.of("routes.orders.upstream", "a:1"),
        "routes.orders.listen: missing (expected: 0..65535)");
  }

  @Test
  void routes_unknownField_namesTheKey() throws Exception {
    assertThatThrownBy(
            () -> file("hoptrace.routes.orders { listen = 1, upstream = \"a:1\", lisen = 2 }"))
        .isInstanceOf(SettingsException.class)
        .hasMessage("routes.orders.lisen: unknown key (expected: listen or upstream)");
  }

  @Test
  void connectPorts_outOfRange_namesTheKey() throws Exception {
    assertThatThrownBy(() -> file("hoptrace.outbound.connect-ports = [443, 70000]"))
        .isInstanceOf(SettingsException.class)
        .hasMessage(
            "outbound.connect-ports: 70000 (expected: a list of ports in 1..65535, e.g. [443])");
  }

  @Test
  void allowedSources_fromEnv_isCommaSeparated() throws Exception {
    Settings s =
        Settings.load(
            null, Map.of("HOPTRACE_OUTBOUND_ALLOWED_SOURCES", "10.0.0.0/8, 127.0.0.1"), Map.of());
    assertThat(s.outboundAllowedSources())
        .extracting(Object::toString)
        .isEqualTo(List.of("10.0.0.0/8", "127.0.0.1"));
  }

  @Test
  void allowedSources_notACidr_namesTheKey() {
    assertRejected(
        Map.of("outbound.allowed-sources", "loopback"),
        "outbound.allowed-sources: loopback (expected: a list of CIDR ranges, e.g."
            + " [\"10.0.0.0/8\"])");
  }

  @Test
  void grace_negative_namesTheKey() {
    assertRejected(
        Map.of("correlator.grace", "-1s"),
        "correlator.grace: -1s (expected: a duration >= 0, e.g. 10s)");
  }
}
