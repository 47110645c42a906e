package io.hoptrace.proxy.tcp.redis;

import static java.nio.charset.StandardCharsets.US_ASCII;

import io.hoptrace.testing.ChildProcesses;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real redis-server (Debian's {@code redis-server} package) on an ephemeral loopback port, with
 * no persistence, in a temporary directory. Tests are skipped when it is not installed, except on
 * CI ({@code CI=true}), where a missing server fails them.
 */
public final class RedisServerProcess implements AutoCloseable {
  static final String BINARY = "/usr/bin/redis-server";

  final Path dir;
  public final int port;
  final Process process;

  public RedisServerProcess() throws IOException, InterruptedException {
    ChildProcesses.requireInstalled(BINARY, "redis-server");
    dir = Files.createTempDirectory("hoptrace-redis");
    port = ChildProcesses.freePort();
    process =
        new ProcessBuilder(
                List.of(
                    BINARY,
                    "--port",
                    Integer.toString(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    dir.toString(),
                    "--daemonize",
                    "no",
                    "--loglevel",
                    "warning"))
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("redis.log").toFile())
            .start();
    awaitPing();
  }

  void awaitPing() throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) throw new IOException("redis-server exited: " + log());
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
        s.setSoTimeout(1000);
        s.getOutputStream().write("PING\r\n".getBytes(US_ASCII));
        byte[] pong = s.getInputStream().readNBytes(7);
        if (new String(pong, US_ASCII).equals("+PONG\r\n")) return;
      } catch (IOException notYet) {
        Thread.sleep(20);
      }
    }
    throw new IOException("redis-server did not answer PING within 10 s: " + log());
  }

  String log() throws IOException {
    Path log = dir.resolve("redis.log");
    return Files.exists(log) ? Files.readString(log) : "";
  }

  /** SIGKILL: the server dies mid-whatever, as in a crash. */
  void kill() {
    ChildProcesses.kill(process);
  }

  @Override
  public void close() throws IOException {
    kill();
    ChildProcesses.deleteTree(dir);
  }
}
