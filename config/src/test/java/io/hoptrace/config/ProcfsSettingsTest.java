package io.hoptrace.config;

import static io.hoptrace.config.SettingsTest.assertRejected;
import static io.hoptrace.config.SettingsTest.cli;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProcfsSettingsTest {
  @Test
  void defaults_areOn_withA20msBudget() {
    Settings.Procfs p = cli(Map.of()).procfs();
    assertThat(p.enabled()).isTrue();
    assertThat(p.root()).isEqualTo("/proc");
    assertThat(p.lookupBudget()).isEqualTo(Duration.ofMillis(20));
    assertThat(p.cacheSize()).isEqualTo(4096);
    assertThat(p.refreshInterval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(p.missRefreshInterval()).isEqualTo(Duration.ofMillis(200));
    assertThat(p.reprobeInterval()).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void enabled_false_turnsItOff_fromTheEnvironmentToo() {
    Settings s = Settings.load(null, Map.of("HOPTRACE_PROCFS_ENABLED", "false"), Map.of());
    assertThat(s.procfs().enabled()).isFalse();
  }

  @Test
  void lookupBudget_zero_isRejected() {
    assertRejected("procfs.lookup-budget", "0", "a duration > 0, e.g. 10s");
  }

  @Test
  void lookupBudget_aboveOneSecond_isRejected() {
    assertRejected("procfs.lookup-budget", "2s", "a duration in 1ms..1s");
  }

  @Test
  void cacheSize_negative_isRejected() {
    assertRejected("procfs.cache-size", "-1", "0..1048576");
  }

  @Test
  void reprobeInterval_zero_isRejected() {
    assertRejected("procfs.reprobe-interval", "0s", "a duration > 0, e.g. 10s");
  }

  @Test
  void enabled_notBoolean_isRejected() {
    assertRejected("procfs.enabled", "maybe", "true or false");
  }
}
