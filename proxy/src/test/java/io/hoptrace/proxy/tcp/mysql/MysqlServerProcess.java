package io.hoptrace.proxy.tcp.mysql;

import io.hoptrace.testing.ChildProcesses;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real MariaDB server (Debian's {@code mariadb-server} package) on an ephemeral loopback port in
 * a temporary directory, with user {@code app} / password {@code secret} and database {@code app}.
 * The data directory is initialised once per JVM (mariadb-install-db takes seconds) and copied per
 * server. Tests are skipped when MariaDB is not installed, except on CI, where they fail.
 */
public final class MysqlServerProcess implements AutoCloseable {
  static final String SERVER = "/usr/sbin/mariadbd";
  static final String INSTALL = "/usr/bin/mariadb-install-db";
  public static final String USER = "app";
  public static final String PASSWORD = "secret";

  static Path template;

  final Path dir;
  public final int port;
  final Process process;

  public MysqlServerProcess() throws IOException, InterruptedException {
    requireInstalled();
    Path initialised = template();
    dir = Files.createTempDirectory("hoptrace-mariadb");
    copy(initialised.resolve("data"), dir.resolve("data"));
    Files.copy(initialised.resolve("init.sql"), dir.resolve("init.sql"));
    port = ChildProcesses.freePort();
    process =
        new ProcessBuilder(
                List.of(
                    SERVER,
                    "--no-defaults",
                    "--datadir=" + dir.resolve("data"),
                    "--socket=" + dir.resolve("s"),
                    "--pid-file=" + dir.resolve("pid"),
                    "--port=" + port,
                    "--bind-address=127.0.0.1",
                    "--user=root",
                    "--skip-log-bin",
                    "--skip-name-resolve",
                    "--innodb-buffer-pool-size=16M",
                    "--max-allowed-packet=64M",
                    "--init-file=" + dir.resolve("init.sql")))
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("server.log").toFile())
            .start();
    awaitLogin();
  }

  static void requireInstalled() {
    ChildProcesses.requireInstalled(INSTALL, "mariadb-server");
    ChildProcesses.requireInstalled(SERVER, "mariadb-server");
  }

  static synchronized Path template() throws IOException, InterruptedException {
    if (template != null) return template;
    Path t = Files.createTempDirectory("hoptrace-mariadb-template");
    Files.writeString(
        t.resolve("init.sql"),
        """
        CREATE DATABASE IF NOT EXISTS app;
        CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 'secret';
        GRANT ALL ON *.* TO 'app'@'%';
        """);
    Process install =
        new ProcessBuilder(
                List.of(
                    INSTALL,
                    "--no-defaults",
                    "--datadir=" + t.resolve("data"),
                    "--auth-root-authentication-method=normal",
                    "--user=root",
                    "--skip-test-db"))
            .redirectErrorStream(true)
            .redirectOutput(t.resolve("install.log").toFile())
            .start();
    if (!install.waitFor(60, TimeUnit.SECONDS) || install.exitValue() != 0) {
      install.destroyForcibly();
      throw new IOException(
          "mariadb-install-db failed: " + Files.readString(t.resolve("install.log")));
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> ChildProcesses.deleteTreeQuietly(t)));
    template = t;
    return t;
  }

  static void copy(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path p : files.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) Files.createDirectories(target);
        else Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
      }
    }
  }

  void awaitLogin() throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) throw new IOException("mariadbd exited: " + log());
      try {
        new Socket(InetAddress.getLoopbackAddress(), port).close(); // cheap until it listens
        try (MysqlClient c = MysqlClient.connect(port, USER, PASSWORD, "app", true)) {
          c.query("SELECT 1");
          return;
        }
      } catch (IOException notYet) {
        Thread.sleep(50);
      }
    }
    throw new IOException("mariadbd not ready within 30 s: " + log());
  }

  String log() throws IOException {
    Path log = dir.resolve("server.log");
    return Files.exists(log) ? Files.readString(log) : "";
  }

  /** SIGKILL, as in a crash. */
  void kill() {
    ChildProcesses.kill(process);
  }

  @Override
  public void close() {
    kill();
    ChildProcesses.deleteTreeQuietly(dir);
  }
}
