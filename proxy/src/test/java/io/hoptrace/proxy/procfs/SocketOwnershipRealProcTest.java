package io.hoptrace.proxy.procfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.hoptrace.proxy.testing.RefusedPort;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Real sockets, real /proc: the app is a python child process, the test JVM plays hoptrace. Every
 * socket binds 127.0.0.1.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SocketOwnershipRealProcTest {
  /** An app: listens on an ephemeral port, calls out to argv[1] (family argv[2]), holds it. */
  static final String CALLING_APP =
      """
          ls = socket.socket()
          ls.bind(('127.0.0.1', 0)); ls.listen(16)
          if sys.argv[2] == 'v6mapped':
              c = socket.socket(socket.AF_INET6)
              c.connect(('::ffff:127.0.0.1', int(sys.argv[1])))
          else:
              c = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
          print(ls.getsockname()[1], os.getpid(), c.getsockname()[1], flush=True)
          threading.Event().wait()""";

  /** An app that accepts connections and holds them, printing each peer port. */
  static final String SERVING_APP =
      """
          ls = socket.socket()
          ls.bind(('127.0.0.1', 0)); ls.listen(16)
          print(ls.getsockname()[1], os.getpid(), flush=True)
          held = []
          while True:
              c, peer = ls.accept()
              held.append(c)
              print('accepted', peer[1], flush=True)""";

  /**
   * A prefork app: the master listens, forks argv[2] workers; each accepts one inbound connection
   * and answers with its pid, and opens one outbound connection to argv[1] sending its pid.
   */
  static final String PREFORK_APP =
      """
          ls = socket.socket()
          ls.bind(('127.0.0.1', 0)); ls.listen(16)
          print(ls.getsockname()[1], os.getpid(), flush=True)
          for _ in range(int(sys.argv[2])):
              if os.fork() == 0:
                  guard()
                  out = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
                  out.sendall(b'%d\\n' % os.getpid())
                  c, _ = ls.accept()
                  c.sendall(b'%d\\n' % os.getpid())
                  threading.Event().wait()
          threading.Event().wait()""";

  /**
   * A prefork app whose master forks a worker on SIGUSR1 (as gunicorn replaces one): the worker
   * accepts one inbound connection and answers its pid.
   */
  static final String FORKING_APP =
      """
          ls = socket.socket()
          ls.bind(('127.0.0.1', 0)); ls.listen(16)
          def worker(*_):
              if os.fork() == 0:
                  guard()
                  c, _ = ls.accept()
                  c.sendall(b'%d\\n' % os.getpid())
                  threading.Event().wait()
          signal.signal(signal.SIGUSR1, worker)
          print(ls.getsockname()[1], os.getpid(), flush=True)
          while True:
              signal.pause()""";

  /**
   * Correctness tests must not depend on how loaded the machine is; the budget has its own test.
   */
  static final Duration GENEROUS = Duration.ofSeconds(2);

  private final List<PythonChild> children = new ArrayList<>();
  private ServerSocket hoptrace;

  @BeforeAll
  static void linuxWithPython() {
    assumeTrue(Files.isReadable(Paths.get("/proc/net/tcp")), "needs Linux /proc");
    assumeTrue(PythonChild.available(), "needs python3");
  }

  @BeforeEach
  void listen() throws IOException {
    hoptrace = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    hoptrace.setSoTimeout(20_000);
  }

  @AfterEach
  void cleanUp() throws Exception {
    for (PythonChild c : children) {
      c.close();
    }
    hoptrace.close();
  }

  private PythonChild start(String script, String... args) throws IOException {
    PythonChild c = PythonChild.start(script, args);
    children.add(c);
    return c;
  }

  private static SocketOwnership ownership(int appPort, Duration budget, int cacheSize) {
    return SocketOwnership.create(
        SocketOwnership.Options.newBuilder()
            .appPort(appPort)
            .lookupBudget(budget)
            .cacheSize(cacheSize)
            .build());
  }

  /** The app's side of a connection hoptrace accepted: local = the peer, remote = us. */
  private static OwnerLookup outboundOwner(SocketOwnership o, Socket accepted) {
    return o.ownerPid(
        (InetSocketAddress) accepted.getRemoteSocketAddress(),
        (InetSocketAddress) accepted.getLocalSocketAddress());
  }

  /** The app's side of a connection hoptrace opened: local = the app port, remote = us. */
  private static OwnerLookup inboundOwner(SocketOwnership o, Socket connected) {
    return o.ownerPid(
        (InetSocketAddress) connected.getRemoteSocketAddress(),
        (InetSocketAddress) connected.getLocalSocketAddress());
  }

  private static long readPid(Socket s) throws IOException {
    s.setSoTimeout(20_000);
    InputStream in = s.getInputStream();
    StringBuilder b = new StringBuilder();
    for (int c = in.read(); c != '\n'; c = in.read()) {
      if (c < 0) {
        throw new IOException("closed before a pid arrived: " + b);
      }
      b.append((char) c);
    }
    return Long.parseLong(b.toString().trim());
  }

  @Test
  void ownerPid_appCallingHoptrace_isTheChildProcess() throws Exception {
    PythonChild app = start(CALLING_APP, Integer.toString(hoptrace.getLocalPort()), "v4");
    String[] printed = app.nextFields();
    try (Socket accepted = hoptrace.accept()) {
      SocketOwnership o = ownership(Integer.parseInt(printed[0]), GENEROUS, 16);

      OwnerLookup r = outboundOwner(o, accepted);

      assertThat(o.availability().isAvailable()).as(o.availability().reason()).isTrue();
      assertThat(r.status()).isEqualTo(OwnerLookup.Status.FOUND);
      assertThat(r.pid()).isEqualTo(app.pid()).isEqualTo(Long.parseLong(printed[1]));
      assertThat(accepted.getPort()).isEqualTo(Integer.parseInt(printed[2]));
    }
  }

  @Test
  void ownerPid_appCallingOverDualStackSocket_findsTheMappedTcp6Row() throws Exception {
    PythonChild app = start(CALLING_APP, Integer.toString(hoptrace.getLocalPort()), "v6mapped");
    String[] printed = app.nextFields();
    try (Socket accepted = hoptrace.accept()) {
      SocketOwnership o = ownership(Integer.parseInt(printed[0]), GENEROUS, 16);

      assertThat(outboundOwner(o, accepted).pid()).isEqualTo(app.pid());
    }
  }

  @Test
  void ownerPid_hoptraceCallingTheApp_isTheChild_andTreeIsFoundFromItsPort() throws Exception {
    PythonChild app = start(SERVING_APP);
    String[] printed = app.nextFields();
    int appPort = Integer.parseInt(printed[0]);
    try (Socket toApp = new Socket()) {
      toApp.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), appPort), 5000);
      assertThat(app.nextLine()).isEqualTo("accepted " + toApp.getLocalPort());
      SocketOwnership o = ownership(appPort, GENEROUS, 16);

      OwnerLookup r = inboundOwner(o, toApp);

      assertThat(o.processTree().snapshot().pids()).containsExactly(app.pid());
      assertThat(r.pid()).isEqualTo(app.pid());
    }
  }

  @Test
  void ownerPid_preforkWorkers_eachConnectionMapsToItsWorker() throws Exception {
    int workers = 3;
    PythonChild app =
        start(PREFORK_APP, Integer.toString(hoptrace.getLocalPort()), Integer.toString(workers));
    String[] printed = app.nextFields();
    int appPort = Integer.parseInt(printed[0]);
    List<Socket> sockets = new ArrayList<>();
    try {
      // Outbound: each worker calls us and says who it is.
      Map<Socket, Long> outbound = new HashMap<>();
      for (int i = 0; i < workers; i++) {
        Socket s = hoptrace.accept();
        sockets.add(s);
        outbound.put(s, readPid(s));
      }
      // Inbound: the kernel hands each of our connections to some worker, which answers its pid.
      Map<Socket, Long> inbound = new HashMap<>();
      for (int i = 0; i < workers; i++) {
        Socket s = new Socket();
        sockets.add(s);
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), appPort), 5000);
        inbound.put(s, readPid(s));
      }
      SocketOwnership o = ownership(appPort, GENEROUS, 0);

      ProcessTree.Snapshot tree = o.processTree().snapshot();
      assertThat(tree.listenerPids()).contains(app.pid());
      assertThat(tree.pids()).hasSize(workers + 1).contains(app.pid());
      assertThat(outbound.values()).doesNotHaveDuplicates();
      ThreadMXBean threads = ManagementFactory.getThreadMXBean();
      long[] nanos = new long[100];
      long cpu0 = threads.getCurrentThreadCpuTime();
      int n = 0;
      for (int round = 0; round < 100 / (2 * workers); round++) {
        for (Map.Entry<Socket, Long> e : outbound.entrySet()) {
          long t0 = System.nanoTime();
          assertThat(outboundOwner(o, e.getKey())).hasToString("FOUND(" + e.getValue() + ")");
          nanos[n++] = System.nanoTime() - t0;
        }
        for (Map.Entry<Socket, Long> e : inbound.entrySet()) {
          long t0 = System.nanoTime();
          assertThat(inboundOwner(o, e.getKey())).hasToString("FOUND(" + e.getValue() + ")");
          nanos[n++] = System.nanoTime() - t0;
        }
      }
      long cpuPerLookup = (threads.getCurrentThreadCpuTime() - cpu0) / n;
      // All 2 x workers connections at once: what one outbound call with every inbound request as
      // a candidate costs.
      List<SocketKey> batch = new ArrayList<>();
      List<String> expected = new ArrayList<>();
      for (Map.Entry<Socket, Long> e : outbound.entrySet()) {
        batch.add(
            SocketKey.of(
                (InetSocketAddress) e.getKey().getRemoteSocketAddress(),
                (InetSocketAddress) e.getKey().getLocalSocketAddress()));
        expected.add("FOUND(" + e.getValue() + ")");
      }
      for (Map.Entry<Socket, Long> e : inbound.entrySet()) {
        batch.add(
            SocketKey.of(
                (InetSocketAddress) e.getKey().getRemoteSocketAddress(),
                (InetSocketAddress) e.getKey().getLocalSocketAddress()));
        expected.add("FOUND(" + e.getValue() + ")");
      }
      long batchCpu0 = threads.getCurrentThreadCpuTime();
      int batches = 20;
      for (int i = 0; i < batches; i++) {
        assertThat(o.ownerPids(batch)).map(OwnerLookup::toString).isEqualTo(expected);
      }
      long cpuPerBatch = (threads.getCurrentThreadCpuTime() - batchCpu0) / batches;
      long[] done = Arrays.copyOf(nanos, n);
      Arrays.sort(done);
      // A figure for docs/process-links.md, not an assertion: wall time depends on machine load.
      System.out.printf(
          "procfs lookup cost, uncached, %d app processes, %d lookups: wall p50 %d us, p90 %d us,"
              + " max %d us; cpu %d us per lookup, %d us per batch of %d%n",
          tree.size(),
          n,
          done[n / 2] / 1000,
          done[n * 9 / 10] / 1000,
          done[n - 1] / 1000,
          cpuPerLookup / 1000,
          cpuPerBatch / 1000,
          batch.size());
    } finally {
      for (Socket s : sockets) {
        s.close();
      }
    }
  }

  @Test
  void ownerPid_appProcessGone_isUnownedOrNotFound() throws Exception {
    PythonChild app = start(CALLING_APP, Integer.toString(hoptrace.getLocalPort()), "v4");
    String[] printed = app.nextFields();
    try (Socket accepted = hoptrace.accept()) {
      SocketOwnership o = ownership(Integer.parseInt(printed[0]), GENEROUS, 0);
      assertThat(outboundOwner(o, accepted).pid()).isEqualTo(app.pid());

      app.kill();

      // The kernel keeps the orphaned socket (FIN_WAIT, inode 0) a while: UNOWNED; once gone,
      // NOT_FOUND.
      assertThat(outboundOwner(o, accepted).status())
          .isIn(
              OwnerLookup.Status.UNOWNED,
              OwnerLookup.Status.NOT_FOUND,
              OwnerLookup.Status.UNAVAILABLE);
    }
  }

  @Test
  void ownerPid_processExitsDuringLookups_neverThrowsNorNamesAnotherPid() throws Exception {
    PythonChild app = start(CALLING_APP, Integer.toString(hoptrace.getLocalPort()), "v4");
    String[] printed = app.nextFields();
    try (Socket accepted = hoptrace.accept()) {
      SocketOwnership o = ownership(Integer.parseInt(printed[0]), GENEROUS, 0);
      EnumSet<OwnerLookup.Status> seen = EnumSet.noneOf(OwnerLookup.Status.class);
      AtomicReference<Throwable> failure = new AtomicReference<>();
      long[] wrongPid = {0};
      Thread looker =
          new Thread(
              () -> {
                long end = System.nanoTime() + Duration.ofSeconds(2).toNanos();
                for (int i = 0; i < 20_000 && System.nanoTime() < end; i++) {
                  try {
                    OwnerLookup r = outboundOwner(o, accepted);
                    synchronized (seen) {
                      seen.add(r.status());
                      if (r.isFound() && r.pid() != app.pid()) {
                        wrongPid[0] = r.pid();
                      }
                    }
                  } catch (RuntimeException e) {
                    failure.set(e);
                    return;
                  }
                }
              });
      looker.start();
      Thread.sleep(100);
      app.kill();
      looker.join(10_000);

      assertThat(failure.get()).isNull();
      synchronized (seen) {
        assertThat(wrongPid[0]).isZero();
        assertThat(seen)
            .contains(OwnerLookup.Status.FOUND)
            .isSubsetOf(
                OwnerLookup.Status.FOUND,
                OwnerLookup.Status.NOT_FOUND,
                OwnerLookup.Status.UNOWNED,
                OwnerLookup.Status.UNAVAILABLE,
                OwnerLookup.Status.TIMED_OUT);
      }
    }
  }

  @Test
  void ownerPid_tinyBudget_isTimedOut_notAnException() throws Exception {
    PythonChild app = start(CALLING_APP, Integer.toString(hoptrace.getLocalPort()), "v4");
    String[] printed = app.nextFields();
    try (Socket accepted = hoptrace.accept()) {
      SocketOwnership o = ownership(Integer.parseInt(printed[0]), Duration.ofNanos(1), 16);

      assertThat(outboundOwner(o, accepted)).isSameAs(OwnerLookup.TIMED_OUT);
      assertThat(o.counters().timedOut()).isEqualTo(1);
    }
  }

  @Test
  void maintain_idle_rereadsNothing_andTheNextLookupFindsAWorkerForkedMeanwhile() throws Exception {
    PythonChild app = start(FORKING_APP);
    String[] printed = app.nextFields();
    int appPort = Integer.parseInt(printed[0]);
    SocketOwnership o =
        SocketOwnership.create(
            SocketOwnership.Options.newBuilder()
                .appPort(appPort)
                .lookupBudget(GENEROUS)
                .cacheSize(0)
                .refreshInterval(Duration.ofMillis(50))
                .build());
    assertThat(o.processTree().snapshot().pids()).containsExactly(app.pid());
    signal("USR1", app.pid());
    try (Socket toApp = new Socket()) {
      toApp.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), appPort), 5000);
      long worker = readPid(toApp);
      Thread.sleep(100); // the list is stale now

      for (int i = 0; i < 3; i++) {
        o.maintain();
      }
      // Idle: the list was not re-read, so the new worker is not in it yet...
      assertThat(o.counters().refreshes()).isEqualTo(1);
      assertThat(o.processTree().snapshot().pids()).containsExactly(app.pid());

      // ...and the first lookup re-reads it, without reading the listeners from the TCP tables
      // (the master still holds its socket).
      assertThat(inboundOwner(o, toApp)).hasToString("FOUND(" + worker + ")");
      assertThat(o.processTree().snapshot().pids()).containsExactly(app.pid(), worker);
      assertThat(o.counters().refreshes()).isEqualTo(2);

      // In use: the next stale list is re-read by maintain(), still without a table read.
      assertThat(inboundOwner(o, toApp)).hasToString("FOUND(" + worker + ")");
      Thread.sleep(100);
      o.maintain();
      assertThat(o.counters().refreshes()).isEqualTo(3);
      assertThat(o.processTree().tableReads()).isEqualTo(1);
    }
  }

  @Test
  void maintain_idleAndTheAppExits_turnsAvailabilityOff() throws Exception {
    PythonChild app = start(SERVING_APP);
    int appPort = Integer.parseInt(app.nextFields()[0]);
    SocketOwnership o =
        SocketOwnership.create(
            SocketOwnership.Options.newBuilder()
                .appPort(appPort)
                .refreshInterval(Duration.ofMillis(50))
                .build());
    assertThat(o.availability().isAvailable()).as(o.availability().reason()).isTrue();

    app.kill();
    Thread.sleep(100);
    o.maintain();

    assertThat(o.availability().discovery()).isEqualTo(ProcessTree.Discovery.APP_NOT_LISTENING);
  }

  private static void signal(String name, long pid) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).isZero();
  }

  @Test
  void availability_appPortNotListening_isUnavailableWithReason() throws IOException {
    // Bound, not listening: in no listening table, and nobody else's for the test.
    try (RefusedPort notListening = new RefusedPort()) {
      SocketOwnership o = ownership(notListening.port(), Duration.ofMillis(5), 16);

      assertThat(o.availability().discovery()).isEqualTo(ProcessTree.Discovery.APP_NOT_LISTENING);
      assertThat(
              o.ownerPid(
                  notListening.address(),
                  new InetSocketAddress(InetAddress.getLoopbackAddress(), 1)))
          .isSameAs(OwnerLookup.UNAVAILABLE);
    }
  }
}
