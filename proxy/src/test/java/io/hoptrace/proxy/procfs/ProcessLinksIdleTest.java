package io.hoptrace.proxy.procfs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.hoptrace.config.Settings;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The background thread as the proxy runs it, on real /proc: while no lookup needs the app's
 * process list it re-reads nothing ({@code hoptrace_procfs_refreshes} stays put), and once lookups
 * use it, it keeps the list fresh again.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProcessLinksIdleTest {
  private static final Pattern REFRESHES =
      Pattern.compile("(?m)^hoptrace_procfs_refreshes ([0-9.]+)$");

  @BeforeAll
  static void linuxWithPython() {
    assumeTrue(Files.isReadable(Paths.get("/proc/net/tcp")), "needs Linux /proc");
    assumeTrue(PythonChild.available(), "needs python3");
  }

  private static long refreshes(ProxyMetrics metrics) throws IOException {
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    metrics.writePrometheusText(text);
    Matcher m = REFRESHES.matcher(text.toString(UTF_8));
    assertThat(m.find()).as("hoptrace_procfs_refreshes in %s", text).isTrue();
    return (long) Double.parseDouble(m.group(1));
  }

  @Test
  void idleSidecar_rereadsNothing_untilALookupUsesTheList() throws Exception {
    try (PythonChild app = PythonChild.start(SocketOwnershipRealProcTest.SERVING_APP)) {
      int appPort = Integer.parseInt(app.nextFields()[0]);
      Settings.Procfs settings =
          new Settings.Procfs(
              true,
              "/proc",
              Duration.ofSeconds(2),
              0,
              Duration.ofMillis(100),
              Duration.ofMillis(200),
              Duration.ofSeconds(5));
      ProxyMetrics metrics = new ProxyMetrics();
      ByteArrayOutputStream log = new ByteArrayOutputStream();
      try (ProcessLinks links =
              ProcessLinks.start(settings, appPort, metrics, new PrintStream(log, true, UTF_8));
          Socket toApp = new Socket()) {
        assertThat(links.available()).as(links.status()).isTrue();
        assertThat(refreshes(metrics)).isEqualTo(1);

        // The thread runs every 100 ms (the refresh interval) and the list is stale, but nobody
        // looks up.
        Thread.sleep(2_500);
        assertThat(refreshes(metrics)).isEqualTo(1);

        toApp.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), appPort), 5000);
        assertThat(app.nextLine()).isEqualTo("accepted " + toApp.getLocalPort());
        SocketKey appSide =
            SocketKey.of(
                (InetSocketAddress) toApp.getRemoteSocketAddress(),
                (InetSocketAddress) toApp.getLocalSocketAddress());
        SocketOwnership ownership = links.evidence().ownership();
        // The first lookup after the idle spell re-reads the list itself (the connection is
        // newer than the only read so far)...
        assertThat(ownership.ownerPid(appSide)).hasToString("FOUND(" + app.pid() + ")");
        assertThat(refreshes(metrics)).isGreaterThanOrEqualTo(2);
        // ...and once a lookup has used the fresh list, the background thread re-reads it when
        // it goes stale, with no lookup waiting for it. (On a loaded machine it may already have
        // done so for the first lookup: count from here.)
        assertThat(ownership.ownerPid(appSide)).hasToString("FOUND(" + app.pid() + ")");
        long used = refreshes(metrics);
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (refreshes(metrics) <= used && System.nanoTime() < deadline) {
          Thread.sleep(50);
        }
        assertThat(refreshes(metrics)).as("background re-read after a lookup").isGreaterThan(used);
        // Idle again: once the last use has been refreshed for, nothing more is re-read.
        Thread.sleep(500);
        long settled = refreshes(metrics);
        Thread.sleep(2_500);
        assertThat(refreshes(metrics)).isEqualTo(settled);
        assertThat(log.toString(UTF_8)).contains("process links on");
      }
    }
  }
}
