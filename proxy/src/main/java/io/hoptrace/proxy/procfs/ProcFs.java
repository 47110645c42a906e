package io.hoptrace.proxy.procfs;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The few reads of {@code /proc} this package makes, under a configurable root. Not final: tests
 * override it to produce what root cannot (EACCES) or what only a race produces.
 */
class ProcFs {
  final Path root;

  ProcFs(Path root) {
    this.root = root;
  }

  /** Pids of the processes visible under the root (its numeric entries); empty if unreadable. */
  long[] pids() {
    long[] pids = new long[64];
    int n = 0;
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(root)) {
      for (Path p : dir) {
        long pid = parsePid(p.getFileName().toString());
        if (pid > 0) {
          if (n == pids.length) {
            pids = Arrays.copyOf(pids, n * 2);
          }
          pids[n++] = pid;
        }
      }
    } catch (IOException | DirectoryIteratorException e) {
      // Whatever was listed before the error is still a valid view.
    }
    return Arrays.copyOf(pids, n);
  }

  /** Whether {@code /proc/<pid>} exists: the process has not exited (or not been reaped yet). */
  boolean exists(long pid) {
    return Files.isDirectory(root.resolve(Long.toString(pid)));
  }

  /** The entries of {@code /proc/<pid>/fd}; the caller closes the stream. */
  @SuppressWarnings("StreamResourceLeak") // returned open on purpose: FdScanner closes it
  DirectoryStream<Path> fds(long pid) throws IOException {
    return Files.newDirectoryStream(root.resolve(Long.toString(pid)).resolve("fd"));
  }

  /** The target of one fd symlink, e.g. {@code socket:[12345]}. */
  Path readLink(Path fd) throws IOException {
    return Files.readSymbolicLink(fd);
  }

  /** The parent pid from {@code /proc/<pid>/stat}; -1 if the process is gone or unreadable. */
  long parentPid(long pid) {
    byte[] stat = new byte[512];
    int n;
    try (InputStream in = Files.newInputStream(root.resolve(Long.toString(pid)).resolve("stat"))) {
      n = in.readNBytes(stat, 0, stat.length);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return parseParentPid(stat, n);
  }

  /**
   * {@code pid (comm) S ppid ...}: comm may hold spaces and parentheses, so the state follows the
   * last {@code ')'}.
   */
  static long parseParentPid(byte[] stat, int n) {
    int close = -1;
    for (int i = n - 1; i >= 0; i--) {
      if (stat[i] == ')') {
        close = i;
        break;
      }
    }
    // ") S ppid"
    int i = close + 4;
    if (close < 0 || i >= n || stat[close + 1] != ' ' || stat[close + 3] != ' ') {
      return -1;
    }
    long ppid = 0;
    int start = i;
    while (i < n && stat[i] >= '0' && stat[i] <= '9' && i - start < 19) {
      ppid = ppid * 10 + (stat[i] - '0');
      i++;
    }
    return i == start ? -1 : ppid;
  }

  static long parsePid(String name) {
    int len = name.length();
    if (len == 0 || len > 18) {
      return -1;
    }
    long pid = 0;
    for (int i = 0; i < len; i++) {
      char c = name.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      pid = pid * 10 + (c - '0');
    }
    return pid;
  }
}
