package io.hoptrace.testing;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** The chores every test that starts a real server process repeats. */
public final class ChildProcesses {
  private ChildProcesses() {}

  /**
   * A loopback port nothing listens on right now (the child binds it next; a race with another
   * process taking it in between is possible and shows as the child failing to start).
   */
  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /**
   * Skips the test when {@code binary} is not installed, except under CI ({@code CI} set), where a
   * missing peer is a broken pipeline and fails the test naming the package to install.
   */
  public static void requireInstalled(String binary, String debianPackage) {
    boolean installed = new File(binary).canExecute();
    String hint = "apt-get install -y " + debianPackage;
    if (!installed && System.getenv("CI") != null) {
      throw new AssertionError(binary + " missing: " + hint);
    }
    assumeTrue(installed, binary + " not installed (" + hint + ")");
  }

  /** SIGKILL, as in a crash, and wait (bounded) until the process is gone. */
  public static void kill(Process process) {
    process.destroyForcibly();
    awaitExit(process, 10);
  }

  /** SIGTERM, then SIGKILL if the process has not exited within {@code graceSeconds}. */
  public static void stop(Process process, long graceSeconds) {
    process.destroy();
    if (!awaitExit(process, graceSeconds)) kill(process);
  }

  private static boolean awaitExit(Process process, long seconds) {
    try {
      return process.waitFor(seconds, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Deletes {@code dir} and everything below it; a missing directory is not an error. */
  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }

  /** {@link #deleteTree} for teardown paths that must not throw. */
  public static void deleteTreeQuietly(Path dir) {
    try {
      deleteTree(dir);
    } catch (IOException | UncheckedIOException e) {
      // teardown: leave it for the OS's temp cleaning
    }
  }

  /**
   * The child's output, line by line, read by a daemon thread until the child closes it. Read the
   * queue with a timeout: nothing ever blocks on a child that stops talking.
   */
  public static BlockingQueue<String> lines(Process process, String threadName) {
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(new InputStreamReader(process.getInputStream(), UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                  lines.add(line);
                }
              } catch (IOException e) {
                // the child went away
              }
            },
            threadName);
    reader.setDaemon(true);
    reader.start();
    return lines;
  }

  /**
   * Points the child's HTTP client at a forward proxy the way a deployment does ({@code
   * HTTP_PROXY}, both spellings), and removes what could route around it ({@code NO_PROXY}, the
   * HTTPS and ALL proxies of the test machine).
   */
  public static void useHttpProxy(ProcessBuilder pb, int proxyPort) {
    Map<String, String> env = pb.environment();
    for (String k : List.of("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY")) {
      env.remove(k);
    }
    env.put("HTTP_PROXY", "http://127.0.0.1:" + proxyPort);
    env.put("http_proxy", "http://127.0.0.1:" + proxyPort);
  }

  /** The last {@code n} lines of a child's log, for an assertion message; empty when none yet. */
  public static String tail(Path log, int n) throws IOException {
    if (!Files.exists(log)) return "";
    List<String> lines = Files.readAllLines(log);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
  }
}
