package io.hoptrace.proxy.guard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The span log's disk fails: requests keep flowing, failed lines are counted, and writing resumes
 * when space returns. {@code /dev/full} is a real ENOSPC target on Linux; the "space returns" case
 * mounts a 64 KiB tmpfs (needs root, as in CI; skipped elsewhere).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SpanLogFaultTest extends GuardHarness {
  static final String GET = "GET /x HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n";

  @Test
  void diskFull_requestsKeepFlowing_failuresCounted() throws Exception {
    assumeTrue(Files.isWritable(Path.of("/dev/full")), "/dev/full");
    spanLog = Path.of("/dev/full");
    PrintStream original = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      start("span-log.path", "/dev/full");
      for (int i = 0; i < 50; i++) {
        Raw answer = send(GET);
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.millis()).isLessThan(1000L);
        if (i % 10 == 9) Thread.sleep(100); // several flushes fail, not just one
      }
      long deadline = System.nanoTime() + 3_000_000_000L;
      while (gauge("hoptrace_spanlog_failed") == 0 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
    } finally {
      System.setErr(original);
    }
    String logged = err.toString(StandardCharsets.UTF_8);
    assertThat(logged.split("span log write failed", -1)).as(logged).hasSize(2); // logged once
    assertThat(gauge("hoptrace_spanlog_failed")).isPositive();
    assertThat(gauge("hoptrace_spanlog_written") + gauge("hoptrace_spanlog_failed"))
        .isGreaterThanOrEqualTo(1);
  }

  @Test
  void diskFullThenSpaceReturns_writingResumes() throws Exception {
    Path mnt = dir.resolve("mnt");
    Files.createDirectories(mnt);
    assumeTrue(
        run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt.toString()), "mount tmpfs");
    try {
      Path filler = mnt.resolve("filler");
      try (OutputStream out = Files.newOutputStream(filler)) {
        byte[] block = new byte[4096];
        for (int i = 0; i < 64; i++) out.write(block);
      } catch (IOException e) {
        // full: that is the point
      }
      spanLog = mnt.resolve("spans.log");
      start("span-log.path", spanLog.toString());
      for (int i = 0; i < 40; i++) assertThat(send(GET).status()).isEqualTo(200);
      long deadline = System.nanoTime() + 3_000_000_000L;
      while (gauge("hoptrace_spanlog_failed") == 0 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(gauge("hoptrace_spanlog_failed")).as("failures counted while full").isPositive();

      Files.delete(filler);
      Raw after = send(GET);
      assertThat(after.status()).isEqualTo(200);
      String requestId = after.header("X-Request-Id");
      deadline = System.nanoTime() + 5_000_000_000L;
      while (!Files.readString(spanLog).contains(requestId) && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(Files.readString(spanLog))
          .as("written again once space returned")
          .contains(requestId);
    } finally {
      if (hoptrace != null) hoptrace.close();
      hoptrace = null;
      run("umount", "-l", mnt.toString());
    }
  }

  @Test
  void fileReplacedByDirectoryWhileRunning_requestsFlow_failuresCountedOnce_writingResumes()
      throws Exception {
    spanLog = dir.resolve("logs").resolve("spans.log");
    PrintStream original = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    int sent = 0;
    try {
      start("span-log.path", spanLog.toString());
      for (int i = 0; i < 5; i++, sent++) assertThat(send(GET).status()).isEqualTo(200);
      assertThat(awaitSpans(5)).hasSize(5);
      assertThat(gauge("hoptrace_spanlog_written")).isEqualTo(5);

      // Unwritable while running, as root too: the file's path now names a directory.
      Files.delete(spanLog);
      Files.createDirectory(spanLog);
      long deadline = System.nanoTime() + 10_000_000_000L;
      while ((gauge("hoptrace_spanlog_failed") == 0 || sent < 20) && System.nanoTime() < deadline) {
        Raw answer = send(GET);
        sent++;
        assertThat(answer.status()).as("requests keep flowing").isEqualTo(200);
        assertThat(answer.millis()).isLessThan(1000L);
        Thread.sleep(50);
      }
      assertThat(gauge("hoptrace_spanlog_failed")).as("failed lines counted").isPositive();
      assertThat(metricsText()).containsPattern("(?m)^hoptrace_spanlog_failed [1-9]");

      Files.delete(spanLog); // writable again
      String requestId = null;
      deadline = System.nanoTime() + 10_000_000_000L;
      while (System.nanoTime() < deadline) {
        Raw answer = send(GET);
        sent++;
        assertThat(answer.status()).isEqualTo(200);
        requestId = answer.header("X-Request-Id");
        Thread.sleep(100);
        if (Files.isRegularFile(spanLog) && Files.readString(spanLog).contains(requestId)) break;
      }
      assertThat(Files.readString(spanLog)).as("written again").contains(requestId);
      long accounted = 0;
      deadline = System.nanoTime() + 3_000_000_000L;
      while (System.nanoTime() < deadline) {
        accounted = gauge("hoptrace_spanlog_written") + gauge("hoptrace_spanlog_failed");
        if (accounted == sent) break;
        Thread.sleep(20);
      }
      assertThat(accounted).as("every line written or counted as failed").isEqualTo(sent);
      assertThat(gauge("hoptrace_spanlog_dropped")).isZero();
    } finally {
      System.setErr(original);
    }
    String logged = err.toString(StandardCharsets.UTF_8);
    assertThat(logged.split("span log write failed", -1)).as(logged).hasSize(2); // once
    assertThat(logged.split("span log writable again", -1)).as(logged).hasSize(2); // once
    for (String line : Files.readAllLines(spanLog)) assertThat(line).startsWith("{").endsWith("}");
  }

  @Test
  void diskFillsWhileRunning_countersHonest_fileKeepsWholeLines_writingResumes() throws Exception {
    Path mnt = dir.resolve("mnt2");
    Files.createDirectories(mnt);
    assumeTrue(
        run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt.toString()), "mount tmpfs");
    try {
      spanLog = mnt.resolve("spans.log");
      start("span-log.path", spanLog.toString());
      int sent = 0;
      for (int i = 0; i < 10; i++, sent++) assertThat(send(GET).status()).isEqualTo(200);
      assertThat(awaitSpans(10)).hasSize(10);

      Path filler = mnt.resolve("filler");
      try (OutputStream out = Files.newOutputStream(filler)) {
        byte[] block = new byte[1024];
        for (int i = 0; i < 64; i++) out.write(block);
      } catch (IOException e) {
        // full: that is the point
      }
      long deadline = System.nanoTime() + 10_000_000_000L;
      while ((gauge("hoptrace_spanlog_failed") == 0 || sent < 40) && System.nanoTime() < deadline) {
        assertThat(send(GET).status()).isEqualTo(200);
        sent++;
      }
      assertThat(gauge("hoptrace_spanlog_failed")).as("failures counted while full").isPositive();

      Files.delete(filler);
      Raw after = send(GET);
      sent++;
      assertThat(after.status()).isEqualTo(200);
      String requestId = after.header("X-Request-Id");
      deadline = System.nanoTime() + 5_000_000_000L;
      while (!Files.readString(spanLog).contains(requestId) && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(Files.readString(spanLog)).contains(requestId);
      List<String> lines = Files.readAllLines(spanLog);
      for (String line : lines) assertThat(line).startsWith("{").endsWith("}");
      assertThat(gauge("hoptrace_spanlog_written"))
          .as("written = the lines in the file")
          .isEqualTo(lines.size());
      assertThat(gauge("hoptrace_spanlog_written") + gauge("hoptrace_spanlog_failed"))
          .isEqualTo(sent);
    } finally {
      if (hoptrace != null) hoptrace.close();
      hoptrace = null;
      run("umount", "-l", mnt.toString());
    }
  }

  String metricsText() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    hoptrace.metrics().writePrometheusText(out);
    return out.toString(StandardCharsets.UTF_8);
  }

  long gauge(String name) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    hoptrace.metrics().writePrometheusText(out);
    Matcher m =
        Pattern.compile("(?m)^" + Pattern.quote(name) + "(?:_total)? ([0-9.eE+]+)$")
            .matcher(out.toString(StandardCharsets.UTF_8));
    return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
  }

  static boolean run(String... command) throws InterruptedException {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    }
  }
}
