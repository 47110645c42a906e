package io.hoptrace.proxy.procfs;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A proc tree in a temporary directory: {@code net/tcp}, {@code net/tcp6}, and per process a {@code
 * stat} and an {@code fd} directory of symlinks, as the kernel lays them out. Rows are written
 * little-endian, as on x86-64 and arm64.
 */
final class FakeProc {
  static final String HEADER =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout"
          + " inode\n";

  final Path root;
  private final List<String> tcp = new ArrayList<>();

  FakeProc(Path root) {
    this.root = root;
  }

  /** Adds a row to net/tcp (and creates net/ if needed). */
  FakeProc tcpRow(
      String localIp, int localPort, String remoteIp, int remotePort, int state, long inode) {
    tcp.add(
        String.format(
            "%4d: %s:%04X %s:%04X %02X 00000000:00000000 00:00000000 00000000     0        0 %d 1"
                + " 0000000000000000 20 4 30 10 -1\n",
            tcp.size(), hex(localIp), localPort, hex(remoteIp), remotePort, state, inode));
    writeTcp();
    return this;
  }

  /** As the kernel writes it: every listening socket first, then the others. */
  private void writeTcp() {
    StringBuilder text = new StringBuilder(HEADER);
    String listen = String.format(" %02X ", ProcNetTcp.STATE_LISTEN);
    for (String row : tcp) {
      if (row.contains(listen)) text.append(row);
    }
    for (String row : tcp) {
      if (!row.contains(listen)) text.append(row);
    }
    write(root.resolve("net/tcp"), text.toString());
  }

  FakeProc listen(int port, long inode) {
    return tcpRow("0.0.0.0", port, "0.0.0.0", 0, ProcNetTcp.STATE_LISTEN, inode);
  }

  FakeProc connection(String localIp, int localPort, String remoteIp, int remotePort, long inode) {
    return tcpRow(localIp, localPort, remoteIp, remotePort, ProcNetTcp.STATE_ESTABLISHED, inode);
  }

  /**
   * The app's process closed its side of a connection (FIN_WAIT2): the row stays, with inode 0, and
   * the socket leaves the process's fds ({@code fd} of {@code pid}).
   */
  FakeProc appClosed(int localPort, int remotePort, long pid, int fd) {
    for (int i = 0; i < tcp.size(); i++) {
      String row = tcp.get(i);
      int local = row.indexOf(String.format(":%04X ", localPort));
      if (local > 0 && row.indexOf(String.format(":%04X ", remotePort), local + 6) > 0) {
        tcp.set(
            i,
            row.replaceFirst(" 01 00000000", " 05 00000000")
                .replaceFirst("        0 \\d+ 1 ", "        0 0 1 "));
      }
    }
    writeTcp();
    try {
      Files.delete(root.resolve(pid + "/fd/" + fd));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  /** A process with fds 0-2 on a tty and pipes, then one fd per socket inode. */
  FakeProc process(long pid, long ppid, String comm, long... socketInodes) {
    Path dir = root.resolve(Long.toString(pid));
    write(dir.resolve("stat"), pid + " (" + comm + ") S " + ppid + " " + pid + " 0 0 -1 4194560\n");
    link(dir.resolve("fd/0"), "/dev/pts/0");
    link(dir.resolve("fd/1"), "pipe:[" + (900000 + pid) + "]");
    link(dir.resolve("fd/2"), "anon_inode:[eventpoll]");
    int fd = 3;
    for (long inode : socketInodes) {
      addSocket(pid, fd++, inode);
    }
    return this;
  }

  FakeProc addSocket(long pid, int fd, long inode) {
    link(root.resolve(pid + "/fd/" + fd), "socket:[" + inode + "]");
    return this;
  }

  /** The process exits: its directory vanishes. */
  FakeProc exit(long pid) {
    Path dir = root.resolve(Long.toString(pid));
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  private static String hex(String ipv4) {
    String[] parts = ipv4.split("\\.", -1);
    return String.format(
        "%02X%02X%02X%02X",
        Integer.parseInt(parts[3]),
        Integer.parseInt(parts[2]),
        Integer.parseInt(parts[1]),
        Integer.parseInt(parts[0]));
  }

  private static void write(Path file, String text) {
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, text, US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void link(Path link, String target) {
    try {
      Files.createDirectories(link.getParent());
      Files.deleteIfExists(link);
      Files.createSymbolicLink(link, Paths.get(target));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
