package io.hoptrace.traces.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.traces.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --follow} for real: a writer thread appends span lines while the command follows. */
class TracesFollowTest {
  @Test
  void follow_printsEachTraceOnceItIsQuiet(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("spans.log");
    Files.writeString(log, "");
    List<String> lines = Files.readAllLines(Fixtures.logs().resolve("orders.log"), UTF_8);

    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, UTF_8);
    AtomicInteger code = new AtomicInteger(-1);
    TracesCommand.Environment env =
        new TracesCommand.Environment(() -> 0L, Map.of(), false, System::nanoTime);
    Thread follower =
        new Thread(
            () ->
                code.set(
                    TracesCommand.run(
                        new String[] {
                          dir.toString(), "--follow", "--quiet-period", "300ms", "--width", "120"
                        },
                        out,
                        out,
                        env)),
            "follower");
    follower.start();

    Thread writer =
        new Thread(
            () -> {
              try {
                Thread.sleep(200);
                for (String line : lines) {
                  Files.writeString(log, line + "\n", UTF_8, StandardOpenOption.APPEND);
                  Thread.sleep(50);
                }
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            },
            "writer");
    writer.start();
    writer.join(10_000);

    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!bytes.toString(UTF_8).contains(Fixtures.CHECKOUT) && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    Thread.sleep(700); // more than a quiet period: nothing is printed twice
    follower.interrupt();
    follower.join(10_000);
    assertThat(follower.isAlive()).isFalse();
    assertThat(code.get()).isZero();

    String printed = bytes.toString(UTF_8);
    assertThat(printed).startsWith("TRACE ");
    assertThat(printed.split(Fixtures.CHECKOUT, -1)).hasSize(2); // exactly once
    assertThat(printed).contains("orders get /orders/42").contains("    3   1  1");
  }

  @Test
  void follow_json_printsOneObjectPerLine(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("spans.log");
    Files.writeString(log, "");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, UTF_8);
    TracesCommand.Environment env =
        new TracesCommand.Environment(() -> 0L, Map.of(), false, System::nanoTime);
    Thread follower =
        new Thread(
            () ->
                TracesCommand.run(
                    new String[] {log.toString(), "-f", "--json", "--quiet-period", "100ms"},
                    out,
                    out,
                    env));
    follower.start();
    Thread.sleep(300);
    Files.writeString(
        log,
        Files.readString(Fixtures.logs().resolve("front/spans.log"), UTF_8),
        UTF_8,
        StandardOpenOption.APPEND);
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!bytes.toString(UTF_8).contains("\n") && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    follower.interrupt();
    follower.join(10_000);
    assertThat(bytes.toString(UTF_8))
        .startsWith("{\"traceId\":\"" + Fixtures.HEALTH + "\"")
        .endsWith("}\n");
  }
}
