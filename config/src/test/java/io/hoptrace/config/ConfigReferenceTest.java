package io.hoptrace.config;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/configuration.md is what reference.conf generates, and the generator reads it right. */
class ConfigReferenceTest {
  @Test
  void docsConfigurationMd_isWhatReferenceConfGenerates() throws Exception {
    Path doc = repositoryRoot().resolve("docs/configuration.md");
    String expected = ConfigReference.markdown();
    String actual = Files.isRegularFile(doc) ? Files.readString(doc, UTF_8) : "(missing)";
    assertThat(actual)
        .as(
            "docs/configuration.md is out of date with reference.conf; regenerate from the"
                + " repository root with:%n  %s",
            ConfigReference.REGENERATE)
        .isEqualTo(expected);
  }

  @Test
  void everyLeafKey_hasARow_withItsEnvironmentVariable() {
    String md = ConfigReference.markdown();
    for (String key :
        new String[] {
          "service", "inbound.port", "outbound.allowed-sources", "span-log.rotate-size",
          "correlator.grace", "trust.sources", "propagation.legacy-span-id", "ring.cap"
        }) {
      assertThat(md).contains("| `" + key + "` | ").contains("`" + Settings.envName(key) + "`");
    }
    assertThat(md).contains("| `routes` | `{}` | — | None by default. |");
  }

  @Test
  void markdown_sectionsInFileOrder_commentsAsMeaning_examplesAsCode() {
    String md =
        ConfigReference.markdown(
            ConfigFactory.parseString(
                """
                # Intro line one
                # line two.
                hoptrace {
                  # Zeta is first in the file.
                  zeta { a = 1 }
                  # The name | with a pipe.
                  name = "x"
                  # Alpha comes second.
                  #   alpha { b = 2 }
                  alpha {
                    # Off when null.
                    b = null
                    c = [1, 2]
                    d = 10s
                  }
                }
                """));
    assertThat(md).contains("Intro line one line two.\n\n");
    assertThat(md).contains("## General\n\n| key | default | environment variable | meaning |");
    assertThat(md).contains("| `name` | `x` | `HOPTRACE_NAME` | The name \\| with a pipe. |");
    assertThat(md.indexOf("## `zeta`")).isLessThan(md.indexOf("## `alpha`"));
    assertThat(md).contains("Alpha comes second.\n\n```hocon\nalpha { b = 2 }\n```\n");
    assertThat(md).contains("| `alpha.b` | `null` | `HOPTRACE_ALPHA_B` | Off when null. |");
    assertThat(md).contains("| `alpha.c` | `[1,2]` |").contains("| `alpha.d` | `10s` |");
  }

  /** Walks up from the module directory surefire runs in to the one holding config/. */
  static Path repositoryRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null) {
      if (Files.isRegularFile(dir.resolve("config/src/main/resources/reference.conf"))) return dir;
      dir = dir.getParent();
    }
    throw new AssertionError("no repository root above " + Path.of("").toAbsolutePath());
  }
}
