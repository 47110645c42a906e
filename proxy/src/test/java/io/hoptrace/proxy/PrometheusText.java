package io.hoptrace.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;

/** A strict reader of the Prometheus text exposition format 0.0.4, enough to reject bad output. */
final class PrometheusText {
  private static final String NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  private static final String LABEL = "[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\"";
  private static final Pattern SAMPLE =
      Pattern.compile(
          "("
              + NAME
              + ")(\\{("
              + LABEL
              + ")(,"
              + LABEL
              + ")*,?\\})? "
              + "(-?[0-9.]+(?:[eE][-+]?[0-9]+)?|NaN|[+-]Inf)( -?[0-9]+)?");
  private static final Pattern TYPE =
      Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");
  private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") .*");

  static void assertParses(String text) {
    assertThat(text).endsWith("\n");
    Set<String> typed = new HashSet<>();
    int samples = 0;
    for (String line : text.split("\n", -1)) {
      if (line.isEmpty()) continue;
      if (line.startsWith("# TYPE")) {
        var m = TYPE.matcher(line);
        assertThat(m.matches()).as(line).isTrue();
        assertThat(typed.add(m.group(1))).as("TYPE twice: " + line).isTrue();
      } else if (line.startsWith("# HELP")) {
        assertThat(HELP.matcher(line).matches()).as(line).isTrue();
      } else if (!line.startsWith("#")) {
        assertThat(SAMPLE.matcher(line).matches()).as(line).isTrue();
        samples++;
      }
    }
    assertThat(samples).isPositive();
  }

  private PrometheusText() {}
}
