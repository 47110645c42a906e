package io.hoptrace.proxy.procfs;

import static java.util.Objects.requireNonNull;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * Which of the app's processes owns a TCP connection: the connection's socket inode from {@code
 * /proc/net/tcp}/{@code tcp6}, then its owner among the app's processes' {@code /proc/<pid>/fd}
 * symlinks ({@code socket:[inode]}).
 *
 * <p>Only the app's processes are scanned ({@link ProcessTree}), each lookup has a time budget and
 * ends {@link OwnerLookup.Status#TIMED_OUT} rather than late, and a found owner is cached per
 * connection until {@link #forget} (call it when the connection closes: a later connection may
 * reuse the same addresses and ports). Nothing here throws on a race with exiting processes or
 * closing fds; those read as "not this one".
 *
 * <p>Availability is probed at creation. When /proc cannot be read every lookup returns {@link
 * OwnerLookup#UNAVAILABLE} at once; when the app is merely not up yet, or its owner not visible,
 * the probe is repeated at most every {@link Options#reprobeInterval()}: by {@link #maintain()},
 * which the proxy calls from a background thread, or within a lookup's budget. A request thread
 * never waits for another thread's refresh of the process list.
 *
 * <p>The process list is re-read only while lookups use it: an idle proxy (no lookup since the last
 * refresh) reads nothing but whether the app's listening process still exists, so that availability
 * still turns off when the app exits. The first lookup after an idle spell re-reads the list itself
 * (within its budget), as a lookup past {@link Options#refreshInterval()} always has.
 */
public final class SocketOwnership {
  /** Settings; every one has a default, see {@link Builder}. */
  public static final class Options {
    private final Path procRoot;
    private final int appPort;
    private final Duration lookupBudget;
    private final int cacheSize;
    private final Duration refreshInterval;
    private final Duration missRefreshInterval;
    private final Duration reprobeInterval;

    private Options(Builder b) {
      this.procRoot = b.procRoot;
      this.appPort = b.appPort;
      this.lookupBudget = b.lookupBudget;
      this.cacheSize = b.cacheSize;
      this.refreshInterval = b.refreshInterval;
      this.missRefreshInterval = b.missRefreshInterval;
      this.reprobeInterval = b.reprobeInterval;
    }

    public static Builder newBuilder() {
      return new Builder();
    }

    public Builder toBuilder() {
      Builder b = new Builder();
      b.procRoot = procRoot;
      b.appPort = appPort;
      b.lookupBudget = lookupBudget;
      b.cacheSize = cacheSize;
      b.refreshInterval = refreshInterval;
      b.missRefreshInterval = missRefreshInterval;
      b.reprobeInterval = reprobeInterval;
      return b;
    }

    public Path procRoot() {
      return procRoot;
    }

    public int appPort() {
      return appPort;
    }

    public Duration lookupBudget() {
      return lookupBudget;
    }

    public int cacheSize() {
      return cacheSize;
    }

    public Duration refreshInterval() {
      return refreshInterval;
    }

    public Duration missRefreshInterval() {
      return missRefreshInterval;
    }

    public Duration reprobeInterval() {
      return reprobeInterval;
    }
  }

  /** Builds {@link Options}; {@link #build()} checks every value. */
  public static final class Builder {
    private Path procRoot = Paths.get("/proc");
    private int appPort;
    private Duration lookupBudget = Duration.ofMillis(5);
    private int cacheSize = 4096;
    private Duration refreshInterval = Duration.ofSeconds(10);
    private Duration missRefreshInterval = Duration.ofMillis(200);
    private Duration reprobeInterval = Duration.ofSeconds(5);

    private Builder() {}

    /** Where proc is mounted; default {@code /proc}. */
    public Builder procRoot(Path procRoot) {
      this.procRoot = requireNonNull(procRoot, "procRoot");
      return this;
    }

    /** The app's listening port (required): its owner and descendants are the app. */
    public Builder appPort(int appPort) {
      this.appPort = appPort;
      return this;
    }

    /** Wall-clock limit of one lookup; default 5 ms. */
    public Builder lookupBudget(Duration lookupBudget) {
      this.lookupBudget = requireNonNull(lookupBudget, "lookupBudget");
      return this;
    }

    /** Connections whose owner is remembered; 0 disables the cache; default 4096. */
    public Builder cacheSize(int cacheSize) {
      this.cacheSize = cacheSize;
      return this;
    }

    /** Age after which a lookup first re-reads the app's processes; default 10 s. */
    public Builder refreshInterval(Duration refreshInterval) {
      this.refreshInterval = requireNonNull(refreshInterval, "refreshInterval");
      return this;
    }

    /**
     * Minimum age of the process list before a lookup that found no owner re-reads it (a new
     * worker); default 200 ms, so a stream of misses cannot turn into a stream of /proc scans.
     */
    public Builder missRefreshInterval(Duration missRefreshInterval) {
      this.missRefreshInterval = requireNonNull(missRefreshInterval, "missRefreshInterval");
      return this;
    }

    /** How often an unavailable state (app not up, owner not visible) is probed again; 5 s. */
    public Builder reprobeInterval(Duration reprobeInterval) {
      this.reprobeInterval = requireNonNull(reprobeInterval, "reprobeInterval");
      return this;
    }

    public Options build() {
      if (appPort < 1 || appPort > 65535) {
        throw new IllegalArgumentException("procfs.app-port: " + appPort + " (expected: 1..65535)");
      }
      positive(lookupBudget, "procfs.lookup-budget");
      positive(refreshInterval, "procfs.refresh-interval");
      positive(missRefreshInterval, "procfs.miss-refresh-interval");
      positive(reprobeInterval, "procfs.reprobe-interval");
      if (cacheSize < 0) {
        throw new IllegalArgumentException("procfs.cache-size: " + cacheSize + " (expected: >= 0)");
      }
      return new Options(this);
    }

    private static void positive(Duration d, String key) {
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(key + ": " + d + " (expected: > 0)");
      }
    }
  }

  /**
   * Counter values at one moment; each counts lookups by how they ended ({@code notFound} includes
   * {@link OwnerLookup.Status#UNOWNED}).
   */
  public record Counters(
      long lookups,
      long cacheHits,
      long found,
      long notFound,
      long ambiguous,
      long timedOut,
      long unavailable,
      long refreshes,
      long scanNanos) {}

  private final Options options;
  private final ProcFs fs;
  private final ProcNetTcp net;
  private final ProcessTree tree;
  private final FdScanner scanner;
  private final long budgetNanos;
  private final long refreshNanos;
  private final long missRefreshNanos;
  private final long reprobeNanos;
  private final Cache cache;
  private volatile Availability availability;
  private volatile long probedAtNanos;

  /** A lookup needed the process list since it was last re-read. */
  private volatile boolean inUse;

  /** When an idle {@link #maintain()} last checked that the app's listener is still there. */
  private volatile long watchedAtNanos;

  private final LongAdder lookups = new LongAdder();
  private final LongAdder cacheHits = new LongAdder();
  private final LongAdder found = new LongAdder();
  private final LongAdder notFound = new LongAdder();
  private final LongAdder ambiguous = new LongAdder();
  private final LongAdder timedOut = new LongAdder();
  private final LongAdder unavailable = new LongAdder();
  private final LongAdder refreshes = new LongAdder();
  private final LongAdder scanNanos = new LongAdder();

  /** Creates the façade and probes availability once (a full /proc scan: do it at startup). */
  public static SocketOwnership create(Options options) {
    requireNonNull(options, "options");
    return new SocketOwnership(options, new ProcFs(options.procRoot()));
  }

  SocketOwnership(Options options, ProcFs fs) {
    this.options = options;
    this.fs = fs;
    this.net = new ProcNetTcp(fs.root);
    this.tree = new ProcessTree(fs, options.appPort());
    this.scanner = new FdScanner(fs);
    this.budgetNanos = options.lookupBudget().toNanos();
    this.refreshNanos = options.refreshInterval().toNanos();
    this.missRefreshNanos = options.missRefreshInterval().toNanos();
    this.reprobeNanos = options.reprobeInterval().toNanos();
    this.cache = new Cache(options.cacheSize());
    this.watchedAtNanos = System.nanoTime();
    this.availability = probe();
  }

  public Options options() {
    return options;
  }

  /** The app's processes as last read. */
  public ProcessTree processTree() {
    return tree;
  }

  /** The last probe's answer; log {@link Availability#reason()} once at startup. */
  public Availability availability() {
    return availability;
  }

  /** Probes now: re-reads the app's processes and returns (and keeps) the answer. */
  public Availability probe() {
    inUse = false;
    refreshes.increment();
    ProcessTree.Snapshot s = tree.refresh();
    Availability a = Availability.of(s, fs.root, options.appPort());
    probedAtNanos = System.nanoTime();
    availability = a;
    return a;
  }

  /**
   * The owner of a connection seen from the app's side (see {@link SocketKey#of}). Never throws on
   * what /proc says; returns within about the lookup budget.
   */
  public OwnerLookup ownerPid(InetSocketAddress appSideLocal, InetSocketAddress appSideRemote) {
    return ownerPid(SocketKey.of(appSideLocal, appSideRemote));
  }

  /** As {@link #ownerPid(InetSocketAddress, InetSocketAddress)}, for a key already built. */
  public OwnerLookup ownerPid(SocketKey key) {
    requireNonNull(key, "key");
    return ownerPids(Collections.singletonList(key)).get(0);
  }

  /**
   * The owners of several connections, in order (an unmodifiable list), within one lookup budget:
   * one read of the TCP tables and one pass over the app's fds answer them all. Use it when one
   * outbound call needs the owners of every in-flight inbound connection too: producing {@code
   * /proc/net/tcp} costs the kernel a walk of its TCP hash up to the furthest row wanted, however
   * many rows that is, so one batch costs far less than a lookup per connection.
   */
  public List<OwnerLookup> ownerPids(List<SocketKey> keys) {
    requireNonNull(keys, "keys");
    int n = keys.size();
    lookups.add(n);
    OwnerLookup[] results = new OwnerLookup[n];
    long start = System.nanoTime();
    long deadline = start + budgetNanos;
    if (!usable(deadline)) {
      unavailable.add(n);
      Arrays.fill(results, OwnerLookup.UNAVAILABLE);
      return List.of(results);
    }
    int pending = 0;
    SocketKey[] pendingKeys = new SocketKey[n];
    int[] pendingIndex = new int[n];
    for (int i = 0; i < n; i++) {
      SocketKey key = requireNonNull(keys.get(i), "keys[i]");
      OwnerLookup cached = cache.get(key);
      if (cached != null) {
        cacheHits.increment();
        results[i] = cached;
      } else {
        pendingKeys[pending] = key;
        pendingIndex[pending++] = i;
      }
    }
    if (pending > 0) {
      inUse = true;
      OwnerLookup[] found = lookup(Arrays.copyOf(pendingKeys, pending), deadline);
      scanNanos.add(System.nanoTime() - start);
      for (int j = 0; j < pending; j++) {
        OwnerLookup r = found[j];
        results[pendingIndex[j]] = r;
        LongAdder counter =
            switch (r.status()) {
              case FOUND -> this.found;
              case NOT_FOUND, UNOWNED -> notFound;
              case AMBIGUOUS -> ambiguous;
              case TIMED_OUT -> timedOut;
              case UNAVAILABLE -> unavailable;
            };
        counter.increment();
        if (r.isFound()) {
          cache.put(pendingKeys[j], r);
        }
      }
    }
    return List.of(results);
  }

  /**
   * Which of these connections no process holds any more, by one read of the TCP tables (no fd
   * scan, cache untouched otherwise): true at {@code i} when key {@code i}'s row shows no owner
   * (the app closed its side: FIN_WAIT, TIME_WAIT), and its cached owner is then forgotten. A
   * cached owner lasts until {@link #forget}, which hoptrace calls when its own side closes; the
   * app may have closed its side well before. A row not found, or a read over budget, counts as
   * held (no evidence either way).
   */
  public boolean[] released(List<SocketKey> keys) {
    requireNonNull(keys, "keys");
    int n = keys.size();
    boolean[] released = new boolean[n];
    if (n == 0 || !availability.isAvailable()) return released;
    SocketKey[] array = keys.toArray(new SocketKey[0]);
    long[] inodes = new long[n];
    if (!net.connectionInodes(array, inodes, System.nanoTime() + budgetNanos)) return released;
    for (int i = 0; i < n; i++) {
      if (inodes[i] == ProcNetTcp.UNOWNED) {
        released[i] = true;
        cache.remove(array[i]);
      }
    }
    return released;
  }

  /** Drops the cached owner of a connection: call when it closes. */
  public void forget(InetSocketAddress appSideLocal, InetSocketAddress appSideRemote) {
    forget(SocketKey.of(appSideLocal, appSideRemote));
  }

  public void forget(SocketKey key) {
    cache.remove(requireNonNull(key, "key"));
  }

  /** Connections whose owner is cached. */
  public int cachedConnections() {
    return cache.size();
  }

  public Counters counters() {
    return new Counters(
        lookups.sum(),
        cacheHits.sum(),
        found.sum(),
        notFound.sum(),
        ambiguous.sum(),
        timedOut.sum(),
        unavailable.sum(),
        refreshes.sum(),
        scanNanos.sum());
  }

  /**
   * Keeps discovery off request threads: call from a background thread, again after the delay it
   * returns. Probes again when unavailable and {@link Options#reprobeInterval()} has passed, and
   * re-reads the app's processes when older than {@link Options#refreshInterval()} if a lookup has
   * needed them since they were last read. Idle (no such lookup), it only checks every refresh
   * interval that a process holding the app's listening socket still exists, and probes if none
   * does (the app exited: {@link #availability()} says so). Takes as long as /proc takes; never
   * throws on what it reads.
   *
   * @return nanoseconds until the next call has something to do: the next re-probe, or the next
   *     refresh or idle check (computed now: a lookup that starts using the list meanwhile gets its
   *     refresh up to one interval later, or makes it itself once the list is stale)
   */
  public long maintain() {
    Availability a = availability;
    long now = System.nanoTime();
    if (!a.isAvailable()) {
      if (a.discovery() != ProcessTree.Discovery.NO_PROC && now - probedAtNanos >= reprobeNanos) {
        probe();
      }
    } else if (now - tree.snapshot().takenAtNanos() > refreshNanos) {
      if (inUse) {
        probe();
      } else if (now - watchedAtNanos > refreshNanos) {
        watchedAtNanos = now;
        if (!tree.listenersAlive()) {
          probe();
        }
      }
    }
    return untilNextMaintain();
  }

  private long untilNextMaintain() {
    long now = System.nanoTime();
    Availability a = availability;
    long due;
    if (a.discovery() == ProcessTree.Discovery.NO_PROC) {
      return refreshNanos; // never probed again: nothing is due
    } else if (!a.isAvailable()) {
      due = probedAtNanos + reprobeNanos;
    } else {
      // Stale (the comparisons above are strict) once older than the interval; idle, the listener
      // check is due an interval after the last one.
      long taken = tree.snapshot().takenAtNanos();
      long watched = watchedAtNanos;
      due = (inUse || taken - watched > 0 ? taken : watched) + refreshNanos + 1;
    }
    return Math.max(0, due - now);
  }

  /**
   * Available, or not for a reason that may have passed and whose re-probe is due: then one probe
   * within the lookup's deadline is tried (if it cannot finish in time, {@link #maintain()} will).
   */
  private boolean usable(long deadline) {
    Availability a = availability;
    if (a.isAvailable()) {
      return true;
    }
    if (a.discovery() == ProcessTree.Discovery.NO_PROC
        || System.nanoTime() - probedAtNanos < reprobeNanos) {
      return false;
    }
    probedAtNanos = System.nanoTime(); // one request thread tries; the others do not wait
    ProcessTree.Snapshot s = tryRefreshTree(deadline);
    return s != null && s.discovery() == ProcessTree.Discovery.FOUND;
  }

  private OwnerLookup[] lookup(SocketKey[] keys, long deadline) {
    int n = keys.length;
    OwnerLookup[] results = new OwnerLookup[n];
    ProcessTree.Snapshot s = tree.snapshot();
    if (System.nanoTime() - s.takenAtNanos() > refreshNanos) {
      ProcessTree.Snapshot fresh = tryRefreshTree(deadline);
      s = fresh != null ? fresh : s; // busy or slow: the last list is still mostly right
    }
    long[] inodes = new long[n];
    if (!net.connectionInodes(keys, inodes, deadline)) {
      Arrays.fill(results, OwnerLookup.TIMED_OUT);
      return results;
    }
    long[] owners = new long[n];
    int[] counts = new int[n];
    int unresolved = 0;
    for (int i = 0; i < n; i++) {
      if (inodes[i] == ProcNetTcp.NOT_FOUND) {
        inodes[i] = 0; // matches no fd
        results[i] = OwnerLookup.NOT_FOUND;
      } else if (inodes[i] == ProcNetTcp.UNOWNED) {
        inodes[i] = 0;
        results[i] = OwnerLookup.UNOWNED;
      } else {
        unresolved++;
      }
    }
    if (unresolved == 0) {
      return results;
    }
    boolean late = !scan(s, null, inodes, deadline, owners, counts);
    boolean anyUnowned = false;
    for (int i = 0; i < n; i++) {
      anyUnowned |= results[i] == null && counts[i] == 0;
    }
    if (!late && anyUnowned && System.nanoTime() - s.takenAtNanos() > missRefreshNanos) {
      // A socket no known app process holds: maybe a worker forked since the last refresh.
      ProcessTree.Snapshot fresh = tryRefreshTree(deadline);
      if (fresh != null) {
        late = !scan(fresh, s, inodes, deadline, owners, counts);
      } else {
        late = System.nanoTime() - deadline > 0;
      }
    }
    for (int i = 0; i < n; i++) {
      if (results[i] != null) {
        continue;
      }
      if (late) {
        results[i] = OwnerLookup.TIMED_OUT;
      } else if (counts[i] == 1) {
        results[i] = OwnerLookup.found(owners[i]);
      } else {
        results[i] = counts[i] == 0 ? OwnerLookup.NOT_FOUND : OwnerLookup.AMBIGUOUS;
      }
    }
    return results;
  }

  /**
   * Scans the fds of the pids in {@code s} (skipping those already in {@code skip}); false if the
   * deadline passed.
   */
  private boolean scan(
      ProcessTree.Snapshot s,
      ProcessTree.@Nullable Snapshot skip,
      long[] inodes,
      long deadline,
      long[] owners,
      int[] counts) {
    for (int i = 0; i < s.size(); i++) {
      long pid = s.pidAt(i);
      if (skip != null && skip.contains(pid)) {
        continue;
      }
      if (scanner.scan(pid, inodes, deadline, owners, counts) == FdScanner.Result.TIMED_OUT) {
        return false;
      }
    }
    return true;
  }

  private ProcessTree.@Nullable Snapshot tryRefreshTree(long deadline) {
    ProcessTree.Snapshot s = tree.tryRefresh(deadline);
    if (s == null) {
      return null;
    }
    inUse = false;
    refreshes.increment();
    if (s.discovery() != availability.discovery()) {
      // The app went away or came back between probes: keep availability() truthful.
      availability = Availability.of(s, fs.root, options.appPort());
      probedAtNanos = System.nanoTime();
    }
    return s;
  }

  /** A bounded LRU map; lookups are off the hot path, so one lock is enough. */
  private static final class Cache {
    private final int max;
    private final LinkedHashMap<SocketKey, OwnerLookup> map;

    Cache(int max) {
      this.max = max;
      this.map =
          new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<SocketKey, OwnerLookup> eldest) {
              return size() > Cache.this.max;
            }
          };
    }

    synchronized @Nullable OwnerLookup get(SocketKey key) {
      return map.get(key);
    }

    synchronized void put(SocketKey key, OwnerLookup value) {
      if (max > 0) {
        map.put(key, value);
      }
    }

    synchronized void remove(SocketKey key) {
      map.remove(key);
    }

    synchronized int size() {
      return map.size();
    }
  }
}
