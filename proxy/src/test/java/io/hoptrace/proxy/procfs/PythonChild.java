package io.hoptrace.proxy.procfs;

import io.hoptrace.testing.ChildProcesses;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A {@code python3 -c} child process standing in for the app. Each script exits by itself when
 * stdin closes (so a dying test JVM leaves nothing behind) or after 60 s; {@link #close()} ends it
 * and every process it forked.
 */
final class PythonChild implements AutoCloseable {
  /**
   * Prepended to every script: exit when stdin reaches EOF, and after 60 s. Call {@code guard()}
   * again in each forked worker: threads and alarms do not survive fork.
   */
  static final String PRELUDE =
      """
          import os, signal, socket, sys, threading
          def guard():
              signal.alarm(60)
              def watch():
                  # os.read, not sys.stdin: a fork copies the buffered reader's lock held.
                  while os.read(0, 4096):
                      pass
                  os._exit(0)
              threading.Thread(target=watch, daemon=True).start()
          guard()
          """;

  final Process process;
  private final BlockingQueue<String> lines;

  private PythonChild(Process process) {
    this.process = process;
    this.lines = ChildProcesses.lines(process, "python-child-stdout");
  }

  static String python() {
    // The system interpreter directly: a version-manager shim would add a process in between.
    Path system = Paths.get("/usr/bin/python3");
    return Files.isExecutable(system) ? system.toString() : "python3";
  }

  static boolean available() {
    try {
      Process p = new ProcessBuilder(python(), "-c", "pass").redirectErrorStream(true).start();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  static PythonChild start(String script, String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(python());
    cmd.add("-c");
    cmd.add(PRELUDE + script);
    cmd.addAll(List.of(args));
    return new PythonChild(
        new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start());
  }

  long pid() {
    return process.pid();
  }

  /** The next line the child printed; fails after 20 s. */
  String nextLine() throws InterruptedException {
    String line = lines.poll(20, TimeUnit.SECONDS);
    if (line == null) {
      throw new AssertionError(
          "python child printed nothing for 20 s (alive: " + process.isAlive() + ")");
    }
    return line;
  }

  /** The next line's space-separated fields. */
  String[] nextFields() throws InterruptedException {
    return nextLine().trim().split(" ", -1);
  }

  /** Kills the child and its forks and waits for them (at most 10 s). */
  void kill() throws InterruptedException {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws IOException {
    process.getOutputStream().close(); // stdin EOF: the script and its workers exit
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        kill();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    process.descendants().forEach(ProcessHandle::destroyForcibly);
  }
}
