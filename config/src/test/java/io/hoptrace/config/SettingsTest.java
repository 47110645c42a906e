package io.hoptrace.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsTest {
  @TempDir Path dir;

  Path userFile(String hocon) throws Exception {
    Path file = dir.resolve("hoptrace.conf");
    Files.writeString(file, hocon);
    return file;
  }

  static InetAddress ip(String literal) throws Exception {
    return InetAddress.getAllByName(literal)[0];
  }

  static Settings cli(Map<String, String> overrides) {
    return Settings.load(null, Map.of(), overrides);
  }

  static void assertRejected(String key, String value, String expected) {
    assertThatThrownBy(() -> cli(Map.of(key, value)))
        .isInstanceOf(SettingsException.class)
        .hasMessage(key + ": " + value + " (expected: " + expected + ")")
        .extracting(e -> ((SettingsException) e).key())
        .isEqualTo(key);
  }

  @Test
  void load_nothingGiven_usesReferenceDefaults() {
    Settings s = Settings.load(null, Map.of(), Map.of());
    assertThat(s.service()).isEqualTo("app");
    assertThat(s.inbound()).isEqualTo(new Settings.Listener("0.0.0.0", 0));
    assertThat(s.app()).isEqualTo(new HostPort("127.0.0.1", 8080));
    assertThat(s.admin()).isNull();
    assertThat(s.outbound()).isNull();
    assertThat(s.spanLog().stdout()).isTrue();
    assertThat(s.spanLog().rotateSize()).isEqualTo(256L << 20);
    assertThat(s.drainTime()).isEqualTo(Duration.ofSeconds(10));
    assertThat(s.idleGc()).isEqualTo(Duration.ofSeconds(45));
    assertThat(s.propagation().b3()).isEqualTo(Settings.B3.NONE);
    assertThat(s.upstream().client()).isEqualTo(Settings.UpstreamClient.SAME_LOOP);
    assertThat(s.propagation().legacyTraceId()).isNull();
    assertThat(s.response().traceresponse()).isTrue();
    assertThat(s.ring().generations()).isEqualTo(4);
  }

  @Test
  void load_precedence_cliOverEnvOverFileOverReference() throws Exception {
    Path file =
        userFile(
            "hoptrace { service = from-file, inbound.port = 1111, admin.port = 3333,"
                + " drain-time = 3s }");
    Map<String, String> env =
        Map.of("HOPTRACE_INBOUND_PORT", "2222", "HOPTRACE_ADMIN_PORT", "4444", "PATH", "/bin");
    Settings s = Settings.load(file, env, Map.of("inbound.port", "5555"));
    assertThat(s.service()).isEqualTo("from-file"); // file over reference
    assertThat(s.drainTime()).isEqualTo(Duration.ofSeconds(3));
    assertThat(s.admin()).isEqualTo(new Settings.Listener("127.0.0.1", 4444)); // env over file
    assertThat(s.inbound().port()).isEqualTo(5555); // cli over env
  }

  @Test
  void envName_mapsDotsAndDashesToUnderscores() {
    assertThat(Settings.envName("inbound.port")).isEqualTo("HOPTRACE_INBOUND_PORT");
    assertThat(Settings.envName("span-log.path")).isEqualTo("HOPTRACE_SPAN_LOG_PATH");
  }

  @Test
  void envAlias_spanLog_setsThePath_butTheCanonicalNameWins() {
    assertThat(
            Settings.load(null, Map.of("HOPTRACE_SPAN_LOG", "/tmp/a.log"), Map.of())
                .spanLog()
                .path())
        .isEqualTo("/tmp/a.log");
    Map<String, String> both =
        Map.of("HOPTRACE_SPAN_LOG", "/tmp/a.log", "HOPTRACE_SPAN_LOG_PATH", "/tmp/b.log");
    assertThat(Settings.load(null, both, Map.of()).spanLog().path()).isEqualTo("/tmp/b.log");
  }

  @Test
  void load_envList_isCommaSeparated() throws Exception {
    Settings s =
        Settings.load(null, Map.of("HOPTRACE_TRUST_SOURCES", "10.1.0.0/16, 192.0.2.7"), Map.of());
    assertThat(s.trusted(ip("10.1.2.3"))).isTrue();
    assertThat(s.trusted(ip("192.0.2.7"))).isTrue();
    assertThat(s.trusted(ip("127.0.0.1"))).isFalse();
  }

  @Test
  void trusted_defaults_areLoopbackAndPrivate() throws Exception {
    Settings s = cli(Map.of());
    assertThat(s.trusted(ip("127.0.0.1"))).isTrue();
    assertThat(s.trusted(ip("::1"))).isTrue();
    assertThat(s.trusted(ip("172.20.1.1"))).isTrue();
    assertThat(s.trusted(ip("8.8.8.8"))).isFalse();
    assertThat(s.trusted(ip("2001:db8::1"))).isFalse();
  }

  @Test
  void nullPort_turnsListenerOff_andAPortTurnsItOn() {
    assertThat(cli(Map.of("admin.port", "0")).admin())
        .isEqualTo(new Settings.Listener("127.0.0.1", 0));
  }

  @Test
  void inboundPort_outOfRange_isRejected() {
    assertRejected("inbound.port", "70000", "0..65535");
  }

  @Test
  void inboundPort_notANumber_isRejected() {
    assertRejected("inbound.port", "http", "0..65535");
  }

  @Test
  void adminPort_negative_isRejected() {
    assertRejected("admin.port", "-1", "0..65535");
  }

  @Test
  void app_withoutPort_isRejected() {
    assertRejected("app", "localhost", "HOST:PORT with a port in 1..65535");
  }

  @Test
  void app_ipv6Literal_isAccepted() {
    assertThat(cli(Map.of("app", "[::1]:9000")).app()).isEqualTo(new HostPort("::1", 9000));
  }

  @Test
  void service_blank_isRejected() {
    assertThatThrownBy(() -> cli(Map.of("service", " ")))
        .hasMessage("service: \" \" (expected: a non-empty string)");
  }

  @Test
  void drainTime_negative_isRejected() {
    assertRejected("drain-time", "-1s", "a duration >= 0, e.g. 10s");
    assertRejected("heap.idle-gc", "-1s", "a duration >= 0, e.g. 10s");
  }

  @Test
  void connectTimeout_zero_isRejected() {
    assertRejected("upstream.connect-timeout", "0", "a duration > 0, e.g. 10s");
  }

  @Test
  void queueSize_zero_isRejected() {
    assertRejected("span-log.queue-size", "0", "1..16777216");
  }

  @Test
  void rotateSize_garbage_isRejected() {
    assertRejected("span-log.rotate-size", "big", "a size >= 0, e.g. 256MiB");
  }

  @Test
  void upstreamClient_sameLoop_isRead_andAnUnknownOne_isRejected() {
    assertThat(cli(Map.of("upstream.client", "same-loop")).upstream().client())
        .isEqualTo(Settings.UpstreamClient.SAME_LOOP);
    assertRejected("upstream.client", "netty", "jetty or same-loop");
  }

  @Test
  void b3_unknownMode_isRejected() {
    assertRejected("propagation.b3", "double", "none, single or multi");
  }

  @Test
  void requestIdHeader_withSpace_isRejected() {
    assertRejected("propagation.request-id-header", "X Request", "an HTTP header name");
  }

  @Test
  void ringGenerations_belowThree_isRejected() {
    assertRejected("ring.generations", "2", "3..64");
  }

  @Test
  void tracestateMaxLength_belowTheW3cMinimum_isRejected() {
    assertRejected("propagation.tracestate-max-length", "100", "512..8192");
  }

  @Test
  void traceresponse_notBoolean_isRejected() {
    assertRejected("response.traceresponse", "maybe", "true or false");
  }

  @Test
  void trustSources_badRange_isRejected() {
    assertThatThrownBy(() -> cli(Map.of("trust.sources", "10.0.0.0/33")))
        .hasMessageStartingWith("trust.sources: 10.0.0.0/33 (expected: ");
    assertThatThrownBy(() -> cli(Map.of("trust.sources", "example.com")))
        .hasMessageStartingWith("trust.sources: example.com (expected: ");
  }

  @Test
  void legacyPair_halfSet_isRejected() {
    assertThatThrownBy(() -> cli(Map.of("propagation.legacy-trace-id", "X-Trace")))
        .isInstanceOf(SettingsException.class)
        .hasMessageStartingWith("propagation.legacy-span-id: null");
    Settings s =
        cli(
            Map.of(
                "propagation.legacy-trace-id", "X-Trace", "propagation.legacy-span-id", "X-Span"));
    assertThat(s.propagation().legacySpanId()).isEqualTo("X-Span");
  }

  @Test
  void unknownKey_fromCli_isRejected() {
    assertThatThrownBy(() -> cli(Map.of("inbound.prot", "1")))
        .hasMessage("inbound.prot: unknown key (expected: a key from reference.conf)");
  }

  @Test
  void unknownKey_inUserFile_isRejected() throws Exception {
    Path file = userFile("hoptrace.admin.prot = 9");
    assertThatThrownBy(() -> Settings.load(file, Map.of(), Map.of()))
        .hasMessage("admin.prot: unknown key (expected: a key from reference.conf)");
  }

  @Test
  void badValue_inUserFile_namesTheKey() throws Exception {
    Path file = userFile("hoptrace { inbound { port = 99999 } }");
    assertThatThrownBy(() -> Settings.load(file, Map.of(), Map.of()))
        .hasMessage("inbound.port: 99999 (expected: 0..65535)");
  }

  @Test
  void missingUserFile_isRejected() {
    Path file = dir.resolve("nope.conf");
    assertThatThrownBy(() -> Settings.load(file, Map.of(), Map.of()))
        .hasMessage("config: " + file + " (expected: a readable HOCON file)");
  }

  @Test
  void cidr_containsOnlyItsRange() throws Exception {
    CidrRange range = CidrRange.parse("10.0.0.0/8");
    assertThat(range).isNotNull();
    assertThat(range.contains(ip("10.255.0.1"))).isTrue();
    assertThat(range.contains(ip("11.0.0.1"))).isFalse();
    assertThat(CidrRange.parse("10.1")).isNull();
  }
}
