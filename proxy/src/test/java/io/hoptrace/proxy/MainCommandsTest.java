package io.hoptrace.proxy;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import org.junit.jupiter.api.Test;

/** The command table: each subcommand is reachable from {@code hoptrace} and the help names it. */
class MainCommandsTest {
  final ByteArrayOutputStream out = new ByteArrayOutputStream();
  final ByteArrayOutputStream err = new ByteArrayOutputStream();

  int run(String... args) {
    return Main.run(args, new PrintStream(out, true, UTF_8), new PrintStream(err, true, UTF_8));
  }

  @Test
  void help_namesEveryCommand() {
    assertThat(run("--help")).isZero();
    assertThat(out.toString(UTF_8)).contains("run ", "demo ", "traces ", "export ");
  }

  @Test
  void demoHelp_printsItsUsage() {
    assertThat(run("demo", "--help")).isZero();
    assertThat(out.toString(UTF_8)).startsWith("usage: hoptrace demo");
  }

  @Test
  void tracesHelp_printsItsUsage() {
    assertThat(run("traces", "--help")).isZero();
    assertThat(out.toString(UTF_8)).startsWith("usage: hoptrace traces");
  }

  @Test
  void exportHelp_printsItsUsage() {
    assertThat(run("export", "--help")).isZero();
    assertThat(out.toString(UTF_8)).startsWith("usage: hoptrace export");
  }

  @Test
  void tracesWithoutLogs_exits2() {
    assertThat(run("traces")).isEqualTo(2);
    assertThat(err.toString(UTF_8)).contains("no span logs given");
  }
}
