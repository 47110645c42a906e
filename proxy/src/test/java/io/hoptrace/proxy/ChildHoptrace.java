package io.hoptrace.proxy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code hoptrace} in a child JVM, started from the test classpath, as a user would run it. */
final class ChildHoptrace implements AutoCloseable {
  static final Pattern LISTENING = Pattern.compile("hoptrace: (\\w+) listening on (\\S+):(\\d+)");

  final Process process;
  final List<String> stderr = new CopyOnWriteArrayList<>();
  final CompletableFuture<Integer> inboundPort = new CompletableFuture<>();
  final Thread reader;

  ChildHoptrace(List<String> jvmArgs, Map<String, String> env, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmArgs);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(env);
    builder.redirectOutput(ProcessBuilder.Redirect.DISCARD);
    process = builder.start();
    reader =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                  stderr.add(line);
                  Matcher m = LISTENING.matcher(line);
                  if (m.matches() && m.group(1).equals("inbound")) {
                    inboundPort.complete(Integer.parseInt(m.group(3)));
                  }
                }
              } catch (IOException e) {
                // process gone
              }
              inboundPort.completeExceptionally(new AssertionError("no listening line: " + stderr));
            },
            "child-stderr");
    reader.setDaemon(true);
    reader.start();
  }

  static ChildHoptrace run(String... args) throws IOException {
    return new ChildHoptrace(List.of(), Map.of(), args);
  }

  /** The port from the startup line {@code hoptrace: inbound listening on HOST:PORT}. */
  int awaitInboundPort() throws Exception {
    return inboundPort.get(20, TimeUnit.SECONDS);
  }

  /**
   * Sends SIGTERM, as {@code kill} or an orchestrator would. (Process.destroy() also sends it, but
   * closes our end of the child's stderr, losing the shutdown lines.)
   */
  void sigterm() throws IOException, InterruptedException {
    new ProcessBuilder("kill", "-TERM", Long.toString(process.pid())).start().waitFor();
  }

  int awaitExit() throws InterruptedException {
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("hoptrace did not exit; stderr: " + stderr);
    }
    return process.exitValue();
  }

  String stderrText() throws InterruptedException {
    if (!process.isAlive()) reader.join(5000); // read to the end of the pipe
    return String.join("\n", stderr);
  }

  @Override
  public void close() {
    if (process.isAlive()) process.destroyForcibly();
  }
}
