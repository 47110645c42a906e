package io.hoptrace.proxy.procfs;

import static java.util.Objects.requireNonNull;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * The app's processes: the owners of the socket listening on the app port (a prefork master and,
 * since they inherit it, its workers) and their descendants by {@code /proc/<pid>/stat} ppid.
 *
 * <p>A refresh first re-checks the listeners it found last time: while one still holds a listening
 * socket found then, the app has not moved, and neither {@code /proc/net/tcp} nor any other
 * process's fds are read. Only when none does are the listening sockets read again from the tables,
 * and every visible process's fds scanned for them. So the refresh that picks up recycled workers
 * costs the listeners' fds and one {@code stat} read per visible process: producing the tables
 * costs the kernel a walk of its whole TCP hash (~8 ms on a large host, see {@link
 * ProcNetTcp#listenInodes}).
 */
public final class ProcessTree {
  /** What the last refresh found. */
  public enum Discovery {
    /** The app's processes are known. */
    FOUND,
    /** {@code /proc/net/tcp} cannot be read: /proc is not mounted there. */
    NO_PROC,
    /** Nothing listens on the app port in this network namespace (yet). */
    APP_NOT_LISTENING,
    /** The port listens but no visible process owns it: the PID namespace is not shared. */
    OWNER_NOT_VISIBLE,
    /** The owners' fd directories are not readable (EACCES). */
    ACCESS_DENIED
  }

  /** An immutable view of the app's processes. */
  public static final class Snapshot {
    private final Discovery discovery;
    private final long[] pids;
    private final long[] listenerPids;
    private final long[] listenInodes;
    private final long takenAtNanos;

    Snapshot(Discovery discovery, long[] pids, long[] listenerPids, long takenAtNanos) {
      this(discovery, pids, listenerPids, NONE, takenAtNanos);
    }

    Snapshot(
        Discovery discovery,
        long[] pids,
        long[] listenerPids,
        long[] listenInodes,
        long takenAtNanos) {
      this.discovery = discovery;
      this.pids = pids;
      this.listenerPids = listenerPids;
      this.listenInodes = listenInodes;
      this.takenAtNanos = takenAtNanos;
    }

    public Discovery discovery() {
      return discovery;
    }

    /** The app's pids, ascending: listeners and their descendants. */
    public long[] pids() {
      return pids.clone();
    }

    /** The pids holding the listening socket. */
    public long[] listenerPids() {
      return listenerPids.clone();
    }

    public boolean contains(long pid) {
      return Arrays.binarySearch(pids, pid) >= 0;
    }

    public int size() {
      return pids.length;
    }

    long pidAt(int i) {
      return pids[i];
    }

    long takenAtNanos() {
      return takenAtNanos;
    }

    @Override
    public String toString() {
      return discovery + " " + Arrays.toString(pids);
    }
  }

  private static final long[] NONE = new long[0];

  private final ProcFs fs;
  private final ProcNetTcp net;
  private final FdScanner scanner;
  private final int appPort;
  private final long selfPid = ProcessHandle.current().pid();
  private final ReentrantLock refreshing = new ReentrantLock();
  private final LongAdder tableReads = new LongAdder();
  private volatile Snapshot snapshot;

  /** The processes of the app listening on {@code appPort}, read from {@code procRoot}. */
  public ProcessTree(Path procRoot, int appPort) {
    this(new ProcFs(procRoot), appPort);
  }

  ProcessTree(ProcFs fs, int appPort) {
    if (appPort < 1 || appPort > 65535) {
      throw new IllegalArgumentException("appPort: " + appPort + " (expected: 1..65535)");
    }
    this.fs = fs;
    this.net = new ProcNetTcp(fs.root);
    this.scanner = new FdScanner(fs);
    this.appPort = appPort;
    this.snapshot = new Snapshot(Discovery.APP_NOT_LISTENING, NONE, NONE, System.nanoTime());
  }

  public int appPort() {
    return appPort;
  }

  /**
   * Refreshes that read the listening sockets from {@code /proc/net/tcp} and {@code tcp6}: the
   * first, and those that found no known listener still holding its socket.
   */
  public long tableReads() {
    return tableReads.sum();
  }

  /**
   * Whether a process that held the app's listening socket at the last refresh still exists (one
   * {@code stat} of its {@code /proc} directory each, no read): false once the app has exited, or
   * when none was found.
   */
  boolean listenersAlive() {
    for (long pid : snapshot.listenerPids) {
      if (fs.exists(pid)) {
        return true;
      }
    }
    return false;
  }

  /** The last refresh's view (never refreshed: empty, APP_NOT_LISTENING). */
  public Snapshot snapshot() {
    return snapshot;
  }

  /** Re-reads the app's processes, however long it takes. Concurrent callers take turns. */
  public Snapshot refresh() {
    refreshing.lock();
    try {
      Snapshot s = requireNonNull(discover(snapshot, Long.MIN_VALUE));
      snapshot = s;
      return s;
    } finally {
      refreshing.unlock();
    }
  }

  /**
   * Re-reads the app's processes within a deadline (a {@link System#nanoTime()} value), for a
   * request thread: null, keeping the last snapshot, when the deadline passes or another refresh is
   * already running (a request thread never waits for one).
   */
  @Nullable Snapshot tryRefresh(long deadlineNanos) {
    if (!refreshing.tryLock()) {
      return null;
    }
    try {
      Snapshot s = discover(snapshot, deadlineNanos);
      if (s != null) {
        snapshot = s;
      }
      return s;
    } finally {
      refreshing.unlock();
    }
  }

  /** The app's processes now; null if the deadline ({@link Long#MIN_VALUE}: none) passed. */
  private @Nullable Snapshot discover(Snapshot previous, long deadline) {
    long now = System.nanoTime();
    if (!Files.isReadable(net.tcpPath())) {
      return new Snapshot(Discovery.NO_PROC, NONE, NONE, now);
    }
    Set<Long> listeners = new HashSet<>();
    long[] listenInodes = previous.listenInodes;
    if (listenInodes.length > 0) {
      // A listener still holding a socket it held: the app has not moved, the tables are not read.
      long[] owners = new long[listenInodes.length];
      int[] counts = new int[listenInodes.length];
      if (!scanListeners(
          previous.listenerPids, listenInodes, deadline, owners, counts, listeners)) {
        return null;
      }
      listenInodes = held(listenInodes, counts);
    }
    boolean denied = false;
    long[] visible = null;
    if (listeners.isEmpty()) {
      tableReads.increment();
      listenInodes = net.listenInodes(appPort);
      if (listenInodes.length == 0) {
        return new Snapshot(Discovery.APP_NOT_LISTENING, NONE, NONE, now);
      }
      if (late(deadline)) {
        return null;
      }
      long[] owners = new long[listenInodes.length];
      int[] counts = new int[listenInodes.length];
      if (!Arrays.equals(previous.listenInodes, listenInodes)) {
        // New sockets: maybe the same processes listening again (checked above for the old ones).
        if (!scanListeners(
            previous.listenerPids, listenInodes, deadline, owners, counts, listeners)) {
          return null;
        }
      }
      if (listeners.isEmpty()) {
        // The listeners we knew are gone (or this is the first look): scan every visible process.
        visible = fs.pids();
        for (long pid : visible) {
          if (pid == selfPid) {
            continue;
          }
          FdScanner.Result r = scanner.scan(pid, listenInodes, deadline, owners, counts);
          if (r == FdScanner.Result.TIMED_OUT) {
            return null;
          } else if (r == FdScanner.Result.MATCH) {
            listeners.add(pid);
          } else if (r == FdScanner.Result.DENIED) {
            denied = true;
          }
        }
      }
    }
    if (listeners.isEmpty()) {
      return new Snapshot(
          denied ? Discovery.ACCESS_DENIED : Discovery.OWNER_NOT_VISIBLE, NONE, NONE, now);
    }
    long[] app = withDescendants(listeners, visible != null ? visible : fs.pids(), deadline);
    return app == null
        ? null
        : new Snapshot(Discovery.FOUND, app, sorted(listeners), listenInodes, System.nanoTime());
  }

  /** The inodes at least one process was found holding. */
  private static long[] held(long[] inodes, int[] counts) {
    int n = 0;
    long[] held = new long[inodes.length];
    for (int i = 0; i < inodes.length; i++) {
      if (counts[i] > 0) {
        held[n++] = inodes[i];
      }
    }
    return n == inodes.length ? inodes : Arrays.copyOf(held, n);
  }

  private static boolean late(long deadline) {
    return deadline != Long.MIN_VALUE && System.nanoTime() - deadline > 0;
  }

  /** The listeners plus every visible process descending from one. */
  private long @Nullable [] withDescendants(Set<Long> listeners, long[] visible, long deadline) {
    long[] ppids = new long[visible.length];
    for (int i = 0; i < visible.length; i++) {
      if (late(deadline)) {
        return null;
      }
      ppids[i] = fs.parentPid(visible[i]);
    }
    Set<Long> app = new HashSet<>(listeners);
    // One pass per generation; a tree deeper than the process count cannot exist, so this ends.
    for (int pass = 0; pass < visible.length; pass++) {
      boolean grew = false;
      for (int i = 0; i < visible.length; i++) {
        if (ppids[i] > 0 && app.contains(ppids[i]) && app.add(visible[i])) {
          grew = true;
        }
      }
      if (!grew) {
        break;
      }
    }
    app.remove(selfPid);
    return sorted(app);
  }

  private static long[] sorted(Set<Long> pids) {
    long[] a = new long[pids.size()];
    int i = 0;
    for (long pid : pids) {
      a[i++] = pid;
    }
    Arrays.sort(a);
    return a;
  }

  /**
   * Adds to {@code listeners} each of {@code pids} holding one of {@code inodes} (counted in {@code
   * counts}); false when the scan ran past {@code deadline}.
   */
  private boolean scanListeners(
      long[] pids, long[] inodes, long deadline, long[] owners, int[] counts, Set<Long> listeners) {
    for (long pid : pids) {
      FdScanner.Result r = scanner.scan(pid, inodes, deadline, owners, counts);
      if (r == FdScanner.Result.TIMED_OUT) {
        return false;
      }
      if (r == FdScanner.Result.MATCH) {
        listeners.add(pid);
      }
    }
    return true;
  }
}
