package io.hoptrace.proxy.procfs;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Path;

/** Scans one process's {@code /proc/<pid>/fd} symlinks for {@code socket:[inode]} targets. */
final class FdScanner {
  enum Result {
    /** One of the fds is one of the sockets. */
    MATCH,
    /** None is. */
    NO_MATCH,
    /** The process exited (or its fd directory vanished) during the scan. */
    GONE,
    /** EACCES: another user's process, and no CAP_SYS_PTRACE. */
    DENIED,
    /** The deadline passed mid-scan. */
    TIMED_OUT
  }

  private static final String SOCKET_PREFIX = "socket:[";

  private final ProcFs fs;

  FdScanner(ProcFs fs) {
    this.fs = fs;
  }

  /**
   * Which of {@code inodes} {@code pid} holds: for each held {@code inodes[i]}, sets {@code
   * owners[i] = pid} and increments {@code counts[i]} (so a count above one means several owners).
   * {@code deadlineNanos} is a {@link System#nanoTime()} value, or {@link Long#MIN_VALUE} for none.
   * Returns MATCH if at least one was held.
   */
  Result scan(long pid, long[] inodes, long deadlineNanos, long[] owners, int[] counts) {
    boolean bounded = deadlineNanos != Long.MIN_VALUE;
    boolean matched = false;
    try (DirectoryStream<Path> fds = fs.fds(pid)) {
      for (Path fd : fds) {
        if (bounded && System.nanoTime() - deadlineNanos > 0) {
          return Result.TIMED_OUT;
        }
        long inode;
        try {
          inode = socketInode(fs.readLink(fd).toString());
        } catch (IOException e) {
          continue; // the fd closed between listing and reading: not ours
        }
        if (inode <= 0) {
          continue;
        }
        for (int i = 0; i < inodes.length; i++) {
          if (inode == inodes[i] && owners[i] != pid) {
            owners[i] = pid;
            counts[i]++;
            matched = true;
          }
        }
      }
    } catch (AccessDeniedException e) {
      return Result.DENIED;
    } catch (IOException | DirectoryIteratorException e) {
      return e.getCause() instanceof AccessDeniedException ? Result.DENIED : Result.GONE;
    }
    return matched ? Result.MATCH : Result.NO_MATCH;
  }

  /** The inode in {@code socket:[12345]}, or -1 for any other link (files, pipes, anon inodes). */
  static long socketInode(String link) {
    int len = link.length();
    if (len < SOCKET_PREFIX.length() + 2
        || !link.startsWith(SOCKET_PREFIX)
        || link.charAt(len - 1) != ']'
        || len - SOCKET_PREFIX.length() - 1 > 19) {
      return -1;
    }
    long v = 0;
    for (int i = SOCKET_PREFIX.length(); i < len - 1; i++) {
      char c = link.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }
}
