package io.hoptrace.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A real Zipkin server (the {@code io.zipkin:zipkin-server} exec jar the build copies to
 * target/zipkin of the module under test), in-memory storage, on a free loopback port, launched
 * with {@code java -jar}.
 */
public final class ZipkinServer implements AutoCloseable {
  public static final Path JAR = Path.of("target/zipkin/zipkin-server-exec.jar");
  public static final Duration STARTUP = Duration.ofSeconds(90);

  private final Process process;
  private final int port;
  private final Path log;

  private ZipkinServer(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  public int port() {
    return port;
  }

  public Process process() {
    return process;
  }

  public URI baseUri() {
    return URI.create("http://127.0.0.1:" + port);
  }

  /**
   * Starts Zipkin and waits until it is healthy. The port is chosen free before Zipkin binds it, so
   * another process can take it in between (seen once on this shared machine: "Address already in
   * use"); that case alone is retried, on a new port, up to three times.
   */
  public static ZipkinServer start() throws IOException, InterruptedException {
    if (!Files.isRegularFile(JAR)) {
      throw new IllegalStateException(JAR.toAbsolutePath() + " missing: run through Maven");
    }
    for (int attempt = 1; ; attempt++) {
      try {
        return startOnce();
      } catch (IllegalStateException e) {
        String message = String.valueOf(e.getMessage());
        if (attempt == 3 || !message.contains("Address already in use")) throw e;
      }
    }
  }

  private static ZipkinServer startOnce() throws IOException, InterruptedException {
    int port = ChildProcesses.freePort();
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

  /** The last lines of Zipkin's output, for an assertion message. */
  public String tail() throws IOException {
    return ChildProcesses.tail(log, 40);
  }

  @Override
  public void close() {
    ChildProcesses.stop(process, 15);
  }
}
