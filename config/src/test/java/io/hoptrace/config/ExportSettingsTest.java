package io.hoptrace.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code export.*} and the admin traces page. */
class ExportSettingsTest {
  static Settings cli(Map<String, String> overrides) {
    return SettingsTest.cli(overrides);
  }

  @Test
  void defaults_exportOff_tracesPageOn() {
    Settings s = cli(Map.of());
    Settings.Export e = s.export();
    assertThat(e.enabled()).isFalse();
    assertThat(e.zipkinUrl()).isNull();
    assertThat(e.otlpUrl()).isNull();
    assertThat(e.otlpEncoding()).isEqualTo(Settings.OtlpEncoding.PROTOBUF);
    assertThat(e.queueSize()).isEqualTo(10_000);
    assertThat(e.batchSize()).isEqualTo(500);
    assertThat(e.flushInterval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(e.maxAttempts()).isEqualTo(5);
    assertThat(e.timeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(e.closeTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(s.tracesPage()).isEqualTo(new Settings.TracesPage(true, 2000));
  }

  @Test
  void zipkinUrl_fromEnvironment_turnsExportOn() {
    Settings s =
        Settings.load(null, Map.of("HOPTRACE_EXPORT_ZIPKIN_URL", "http://zipkin:9411"), Map.of());
    assertThat(s.export().zipkinUrl()).isEqualTo(URI.create("http://zipkin:9411"));
    assertThat(s.export().enabled()).isTrue();
  }

  @Test
  void otlp_urlAndJsonEncoding_areRead() {
    Settings s =
        cli(Map.of("export.otlp.url", "https://collector:4318/", "export.otlp.encoding", "JSON"));
    assertThat(s.export().otlpUrl()).isEqualTo(URI.create("https://collector:4318/"));
    assertThat(s.export().otlpEncoding()).isEqualTo(Settings.OtlpEncoding.JSON);
  }

  @Test
  void tracesPage_offAndBufferSize_fromEnvironment() {
    Settings s =
        Settings.load(
            null,
            Map.of("HOPTRACE_ADMIN_TRACES_PAGE", "false", "HOPTRACE_ADMIN_RECENT_SPANS", "50"),
            Map.of());
    assertThat(s.tracesPage()).isEqualTo(new Settings.TracesPage(false, 50));
  }

  @Test
  void zipkinUrl_notHttp_isRejected() {
    SettingsTest.assertRejected(
        "export.zipkin.url", "ftp://zipkin:9411", "an http:// or https:// URL, or \"\" for off");
  }

  @Test
  void otlpUrl_withoutHost_isRejected() {
    SettingsTest.assertRejected(
        "export.otlp.url", "http:///v1/traces", "an http:// or https:// URL, or \"\" for off");
  }

  @Test
  void zipkinUrl_unparsable_isRejected() {
    SettingsTest.assertRejected(
        "export.zipkin.url", "http://zip kin", "an http:// or https:// URL, or \"\" for off");
  }

  @Test
  void otlpEncoding_unknown_isRejected() {
    SettingsTest.assertRejected("export.otlp.encoding", "thrift", "protobuf or json");
  }

  @Test
  void queueSize_zero_isRejected() {
    SettingsTest.assertRejected("export.queue-size", "0", "1..16777216");
  }

  @Test
  void batchSize_zero_isRejected() {
    SettingsTest.assertRejected("export.batch-size", "0", "1..100000");
  }

  @Test
  void maxAttempts_zero_isRejected() {
    SettingsTest.assertRejected("export.max-attempts", "0", "1..100");
  }

  @Test
  void flushInterval_zero_isRejected() {
    SettingsTest.assertRejected("export.flush-interval", "0", "a duration > 0, e.g. 10s");
  }

  @Test
  void timeout_garbage_isRejected() {
    SettingsTest.assertRejected("export.timeout", "soon", "a duration > 0, e.g. 10s");
  }

  @Test
  void recentSpans_zero_isRejected() {
    SettingsTest.assertRejected("admin.recent-spans", "0", "1..1000000");
  }

  @Test
  void tracesPage_notBoolean_isRejected() {
    SettingsTest.assertRejected("admin.traces-page", "maybe", "true or false");
  }
}
