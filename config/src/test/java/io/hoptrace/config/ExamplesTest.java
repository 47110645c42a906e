package io.hoptrace.config;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The files in examples/ are what users copy: the config file loads through the same loader as
 * {@code hoptrace run --config} and validates, and every HOPTRACE_* variable the compose file and
 * the Kubernetes manifest set names a real key.
 */
class ExamplesTest {
  static final Path EXAMPLES = ConfigReferenceTest.repositoryRoot().resolve("examples");

  @Test
  void hoptraceConf_loadsAndValidates() {
    Settings s = Settings.load(EXAMPLES.resolve("hoptrace.conf"), Map.of(), Map.of());
    assertThat(s.service()).isEqualTo("orders");
    assertThat(s.app().toString()).isEqualTo("127.0.0.1:8080");
    assertThat(s.inbound().port()).isEqualTo(15001);
    assertThat(s.outbound()).isNotNull();
    assertThat(s.outbound().port()).isEqualTo(15002);
    assertThat(s.admin()).isNotNull();
    assertThat(s.admin().port()).isEqualTo(15000);
    assertThat(s.routes()).hasSize(1);
    assertThat(s.routes().get(0).name()).isEqualTo("inventory");
    assertThat(s.routes().get(0).listen()).isEqualTo(15101);
    assertThat(s.spanLog().stdout()).isFalse();
    assertThat(s.correlatorGrace()).isEqualTo(Duration.ofSeconds(2));
    assertThat(s.drainTime()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void hoptraceConf_environmentStillOverridesIt() {
    Settings s =
        Settings.load(
            EXAMPLES.resolve("hoptrace.conf"), Map.of("HOPTRACE_SERVICE", "front"), Map.of());
    assertThat(s.service()).isEqualTo("front");
  }

  @Test
  void everyHoptraceVariableInTheExamples_namesAKnownKey() throws Exception {
    Set<String> known = new HashSet<>(Settings.ENV_ALIASES.keySet());
    Matcher key =
        Pattern.compile("(?m)^\\| `([a-z0-9.\\-]+)` \\|").matcher(ConfigReference.markdown());
    while (key.find()) known.add(Settings.envName(key.group(1)));
    assertThat(known).contains("HOPTRACE_INBOUND_PORT", "HOPTRACE_SPAN_LOG");

    Pattern variable = Pattern.compile("HOPTRACE_[A-Z0-9_]+");
    for (Path file :
        List.of(
            EXAMPLES.resolve("docker-compose.yml"),
            EXAMPLES.resolve("kubernetes/hoptrace-sidecar.yaml"))) {
      Matcher m = variable.matcher(Files.readString(file, UTF_8));
      int found = 0;
      while (m.find()) {
        found++;
        assertThat(known).as("%s in %s", m.group(), file.getFileName()).contains(m.group());
      }
      assertThat(found).as(file.toString()).isPositive();
    }
  }
}
