package io.hoptrace.proxy.export;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Zipkin server (the {@code io.zipkin:zipkin-server} exec jar the build copies to
 * target/zipkin), in-memory storage, on a free loopback port, launched with {@code java -jar}.
 *
 * <p>A copy of the traces module's test launcher ({@code io.hoptrace.traces.export.ZipkinServer}):
 * sharing it would take a test-jar dependency between modules for ~100 lines; keep the two alike.
 */
final class ZipkinServer implements AutoCloseable {
  static final Path JAR = Path.of("target/zipkin/zipkin-server-exec.jar");
  static final Duration STARTUP = Duration.ofSeconds(90);

  final Process process;
  final int port;
  final Path log;

  private ZipkinServer(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  URI baseUri() {
    return URI.create("http://127.0.0.1:" + port);
  }

  static ZipkinServer start() throws IOException, InterruptedException {
    if (!Files.isRegularFile(JAR)) {
      throw new IllegalStateException(JAR.toAbsolutePath() + " missing: run through Maven");
    }
    int port = freePort();
    Path log = Files.createTempFile(JAR.getParent(), "zipkin-" + port + "-", ".out");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb =
        new ProcessBuilder(
            List.of(
                java,
                "-Xmx256m",
                "-XX:TieredStopAtLevel=1", // starts faster; the test sends a handful of spans
                "-jar",
                JAR.toString(),
                // Loopback only, on the port we chose (Zipkin 3 listens through Armeria's ports).
                "--armeria.ports[0].ip=127.0.0.1",
                "--armeria.ports[0].port=" + port,
                "--armeria.ports[0].protocols[0]=http"));
    pb.environment().put("STORAGE_TYPE", "mem");
    pb.environment().put("QUERY_PORT", Integer.toString(port));
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    Process process = pb.start();
    ZipkinServer server = new ZipkinServer(process, port, log);
    try {
      server.awaitHealthy();
    } catch (IOException | RuntimeException | InterruptedException e) {
      server.close();
      throw e;
    }
    return server;
  }

  private void awaitHealthy() throws IOException, InterruptedException {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    long deadline = System.nanoTime() + STARTUP.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "zipkin exited with " + process.exitValue() + ":\n" + tail());
      }
      try {
        HttpResponse<String> r =
            client.send(
                HttpRequest.newBuilder(baseUri().resolve("/health"))
                    .timeout(Duration.ofSeconds(2))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) return;
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(250);
    }
    throw new IllegalStateException("zipkin not healthy after " + STARTUP + ":\n" + tail());
  }

  String tail() throws IOException {
    List<String> lines = Files.readAllLines(log);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(15, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
