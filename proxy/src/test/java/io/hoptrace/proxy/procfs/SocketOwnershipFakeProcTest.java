package io.hoptrace.proxy.procfs;

import static io.hoptrace.proxy.procfs.TestAddresses.at;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SocketOwnership} and {@link ProcessTree} on a proc tree written to a temp dir: every
 * availability outcome, discovery of a prefork tree, and the races a real /proc produces on demand
 * only rarely.
 */
class SocketOwnershipFakeProcTest {
  static final int APP_PORT = 8080;

  @TempDir Path dir;
  FakeProc proc;

  @BeforeAll
  static void littleEndianHost() {
    assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN);
  }

  @BeforeEach
  void setUp() {
    proc = new FakeProc(dir);
  }

  private SocketOwnership.Builder options() {
    return SocketOwnership.Options.newBuilder()
        .procRoot(dir)
        .appPort(APP_PORT)
        .lookupBudget(Duration.ofSeconds(5));
  }

  private SocketOwnership ownership(SocketOwnership.Builder b) {
    return new SocketOwnership(b.build(), new ProcFs(dir));
  }

  /** gunicorn-like: master 100 and workers 101, 102 share the listener; 103 is 101's child. */
  private void preforkApp() {
    proc.listen(APP_PORT, 500)
        .process(1, 0, "init")
        .process(100, 1, "gunicorn: master [app:app]", 500)
        .process(101, 100, "gunicorn: worker [app:app]", 500)
        .process(102, 100, "gunicorn: worker [app:app]", 500)
        .process(103, 101, "sh")
        .process(200, 1, "unrelated", 777);
  }

  private static OwnerLookup inboundOwner(SocketOwnership o, int proxyEphemeralPort) {
    return o.ownerPid(at("127.0.0.1", APP_PORT), at("127.0.0.1", proxyEphemeralPort));
  }

  @Test
  void availability_emptyProcRoot_saysNotMounted_andLookupsAreUnavailable() {
    SocketOwnership o = ownership(options());

    assertThat(o.availability().isAvailable()).isFalse();
    assertThat(o.availability().discovery()).isEqualTo(ProcessTree.Discovery.NO_PROC);
    assertThat(o.availability().reason()).contains("not mounted").contains("net/tcp");
    long start = System.nanoTime();
    for (int i = 0; i < 1000; i++) {
      assertThat(inboundOwner(o, 40000 + i)).isSameAs(OwnerLookup.UNAVAILABLE);
    }
    assertThat(System.nanoTime() - start).isLessThan(Duration.ofSeconds(1).toNanos());
    assertThat(o.counters().unavailable()).isEqualTo(1000);
    assertThat(o.counters().refreshes()).isEqualTo(1); // NO_PROC is never probed again
  }

  @Test
  void availability_nothingListensOnAppPort_saysSoAndNamesTheNamespace() {
    proc.listen(9999, 1).process(100, 1, "other", 1);

    SocketOwnership o = ownership(options());

    assertThat(o.availability().discovery()).isEqualTo(ProcessTree.Discovery.APP_NOT_LISTENING);
    assertThat(o.availability().reason())
        .contains("nothing listens on app port 8080")
        .contains("network namespace");
    assertThat(inboundOwner(o, 40000)).isSameAs(OwnerLookup.UNAVAILABLE);
  }

  @Test
  void availability_listenerWithNoVisibleOwner_saysPidNamespaceNotShared() {
    proc.listen(APP_PORT, 500).process(1, 0, "pause");

    SocketOwnership o = ownership(options());

    assertThat(o.availability().discovery()).isEqualTo(ProcessTree.Discovery.OWNER_NOT_VISIBLE);
    assertThat(o.availability().reason()).contains("shareProcessNamespace").contains("pid:");
  }

  @Test
  void availability_fdsNotReadable_saysEaccesAndHowToFix() {
    proc.listen(APP_PORT, 500).process(100, 1, "app", 500);
    ProcFs denying =
        new ProcFs(dir) {
          @Override
          DirectoryStream<Path> fds(long pid) throws IOException {
            throw new AccessDeniedException(dir.resolve(pid + "/fd").toString());
          }
        };

    SocketOwnership o = new SocketOwnership(options().build(), denying);

    assertThat(o.availability().discovery()).isEqualTo(ProcessTree.Discovery.ACCESS_DENIED);
    assertThat(o.availability().reason()).contains("EACCES").contains("CAP_SYS_PTRACE");
  }

  @Test
  void availability_appComesUpLater_isFoundOnReprobe() throws InterruptedException {
    proc.listen(9999, 1); // /proc is there, the app is not up yet
    SocketOwnership o = ownership(options().reprobeInterval(Duration.ofMillis(20)));
    assertThat(o.availability().isAvailable()).isFalse();

    preforkApp();
    proc.connection("127.0.0.1", APP_PORT, "127.0.0.1", 40001, 601).addSocket(101, 9, 601);
    Thread.sleep(30);

    assertThat(inboundOwner(o, 40001).pid()).isEqualTo(101);
    assertThat(o.availability().isAvailable()).isTrue();
  }

  @Test
  void maintain_appComesUpLater_isFoundOffTheRequestPath() throws InterruptedException {
    proc.listen(9999, 1);
    SocketOwnership o =
        ownership(
            options().reprobeInterval(Duration.ofMillis(20)).lookupBudget(Duration.ofNanos(1)));
    preforkApp();
    proc.connection("127.0.0.1", APP_PORT, "127.0.0.1", 40001, 601).addSocket(101, 9, 601);
    Thread.sleep(30);

    // A 1 ns budget cannot fit a probe: the request thread gives up at once...
    assertThat(inboundOwner(o, 40001)).isIn(OwnerLookup.UNAVAILABLE, OwnerLookup.TIMED_OUT);
    Thread.sleep(30);
    // ...and the background call finds the app.
    o.maintain();

    assertThat(o.availability().isAvailable()).as(o.availability().reason()).isTrue();
    assertThat(o.processTree().snapshot().pids()).containsExactly(100, 101, 102, 103);
  }

  @Test
  void maintain_staleProcessListInUse_isRefreshed() throws InterruptedException {
    preforkApp();
    SocketOwnership o = ownership(options().refreshInterval(Duration.ofMillis(200)));
    inboundOwner(o, 40999); // a lookup used the list (a fresh one: not re-read by the lookup)
    proc.process(106, 100, "gunicorn: worker [app:app]", 500);
    Thread.sleep(250);

    o.maintain();

    assertThat(o.processTree().snapshot().pids()).contains(106);
    assertThat(o.counters().refreshes()).isEqualTo(2);
  }

  @Test
  void maintain_idle_rereadsNothing_andTheNextLookupRereadsTheList() throws InterruptedException {
    preforkApp();
    SocketOwnership o = ownership(options().refreshInterval(Duration.ofMillis(10)));
    proc.process(106, 100, "gunicorn: worker [app:app]", 500)
        .connection("127.0.0.1", APP_PORT, "127.0.0.1", 40020, 620)
        .addSocket(106, 9, 620);
    Thread.sleep(20);

    for (int i = 0; i < 3; i++) {
      o.maintain();
      Thread.sleep(15);
    }

    assertThat(o.counters().refreshes()).isEqualTo(1);
    assertThat(o.processTree().snapshot().pids()).doesNotContain(106);
    assertThat(inboundOwner(o, 40020).pid()).isEqualTo(106);
    assertThat(o.counters().refreshes()).isEqualTo(2);
  }

  @Test
  void maintain_saysWhenItIsNextDue() throws InterruptedException {
    preforkApp();
    Duration interval = Duration.ofMillis(300);
    SocketOwnership o = ownership(options().refreshInterval(interval));

    // Fresh: due when the list goes stale.
    assertThat(o.maintain()).isPositive().isLessThanOrEqualTo(interval.toNanos() + 1);
    Thread.sleep(350);
    // Idle and stale: the listener checked, the next check an interval later (not at once).
    assertThat(o.maintain()).isGreaterThan(interval.toNanos() / 2);
    assertThat(o.counters().refreshes()).isEqualTo(1);

    proc.exit(103).exit(102).exit(101).exit(100);
    SocketOwnership down = ownership(options().reprobeInterval(Duration.ofMillis(200)));
    assertThat(down.availability().isAvailable()).isFalse();
    // Unavailable: due at the next re-probe.
    assertThat(down.maintain()).isPositive().isLessThanOrEqualTo(Duration.ofMillis(200).toNanos());
  }

  @Test
  void maintain_idleAndTheListenersExit_probesAndTurnsAvailabilityOff()
      throws InterruptedException {
    preforkApp();
    SocketOwnership o = ownership(options().refreshInterval(Duration.ofMillis(10)));
    proc.exit(103).exit(102).exit(101).exit(100);
    Thread.sleep(20);

    o.maintain();

    assertThat(o.availability().discovery()).isEqualTo(ProcessTree.Discovery.OWNER_NOT_VISIBLE);
    assertThat(o.counters().refreshes()).isEqualTo(2);
  }

  @Test
  void processTree_tryRefreshPastDeadline_keepsTheLastSnapshot() {
    preforkApp();
    ProcessTree tree = new ProcessTree(dir, APP_PORT);
    ProcessTree.Snapshot first = tree.refresh();
    proc.exit(103).exit(102).exit(101).exit(100).process(300, 1, "app restarted", 500);

    assertThat(tree.tryRefresh(System.nanoTime() - 1)).isNull();
    assertThat(tree.snapshot()).isSameAs(first);
  }

  @Test
  void processTree_preforkApp_isListenersAndDescendants_notOthers() {
    preforkApp();

    ProcessTree.Snapshot s = new ProcessTree(dir, APP_PORT).refresh();

    assertThat(s.discovery()).isEqualTo(ProcessTree.Discovery.FOUND);
    assertThat(s.pids()).containsExactly(100, 101, 102, 103);
    assertThat(s.listenerPids()).containsExactly(100, 101, 102);
  }

  @Test
  void processTree_recycledWorker_isPickedUpByRefresh() {
    preforkApp();
    ProcessTree tree = new ProcessTree(dir, APP_PORT);
    tree.refresh();

    proc.exit(102).process(104, 100, "gunicorn: worker [app:app]", 500);

    assertThat(tree.refresh().pids()).containsExactly(100, 101, 103, 104);
  }

  @Test
  void processTree_listenersAllGone_rescansEveryProcess() {
    preforkApp();
    ProcessTree tree = new ProcessTree(dir, APP_PORT);
    tree.refresh();

    proc.exit(103).exit(102).exit(101).exit(100).process(300, 1, "app restarted", 500);

    assertThat(tree.refresh().pids()).containsExactly(300);
    assertThat(tree.tableReads()).isEqualTo(2);
  }

  @Test
  void processTree_listenerStillHoldsItsSocket_refreshReadsNoTable() {
    preforkApp();
    ProcessTree tree = new ProcessTree(dir, APP_PORT);
    tree.refresh();
    proc.exit(102).process(104, 100, "gunicorn: worker [app:app]", 500);
    // A row the tables would show only if the app listened again: not read while 100 holds 500.
    proc.listen(APP_PORT, 501);

    ProcessTree.Snapshot s = tree.refresh();

    assertThat(s.pids()).containsExactly(100, 101, 103, 104);
    assertThat(s.listenerPids()).containsExactly(100, 101);
    assertThat(tree.tableReads()).isEqualTo(1);
  }

  @Test
  void processTree_listenerOnANewSocket_isFoundAgain_withoutScanningOtherProcesses()
      throws IOException {
    preforkApp();
    List<Long> scanned = new ArrayList<>();
    ProcFs recording =
        new ProcFs(dir) {
          @Override
          DirectoryStream<Path> fds(long pid) throws IOException {
            scanned.add(pid);
            return super.fds(pid);
          }
        };
    ProcessTree tree = new ProcessTree(recording, APP_PORT);
    tree.refresh();
    // The app closes its listening socket (fd 3 in each) and the master listens on a new one.
    for (long pid : new long[] {100, 101, 102}) {
      Files.delete(dir.resolve(pid + "/fd/3"));
    }
    proc.listen(APP_PORT, 501).addSocket(100, 3, 501);
    scanned.clear();

    ProcessTree.Snapshot s = tree.refresh();

    assertThat(s.discovery()).isEqualTo(ProcessTree.Discovery.FOUND);
    assertThat(s.listenerPids()).containsExactly(100);
    assertThat(s.pids()).containsExactly(100, 101, 102, 103);
    assertThat(scanned).containsOnly(100L, 101L, 102L).doesNotContain(200L);
    assertThat(tree.tableReads()).isEqualTo(2);
  }

  @Test
  void ownerPid_inboundConnection_isTheWorkerThatAcceptedIt() {
    preforkApp();
    proc.connection("127.0.0.1", APP_PORT, "127.0.0.1", 40001, 601).addSocket(102, 7, 601);
    SocketOwnership o = ownership(options());

    OwnerLookup r = inboundOwner(o, 40001);

    assertThat(r.status()).isEqualTo(OwnerLookup.Status.FOUND);
    assertThat(r.pid()).isEqualTo(102);
  }

  @Test
  void ownerPid_outboundConnection_isTheWorkerThatOpenedIt() {
    preforkApp();
    // The app's view of its call to hoptrace's outbound listener on 15001.
    proc.connection("127.0.0.1", 51000, "127.0.0.1", 15001, 602).addSocket(101, 8, 602);
    SocketOwnership o = ownership(options());

    OwnerLookup r = o.ownerPid(at("127.0.0.1", 51000), at("127.0.0.1", 15001));

    assertThat(r.pid()).isEqualTo(101);
  }

  @Test
  void ownerPid_socketOfAProcessOutsideTheApp_isNotFound() {
    preforkApp();
    proc.connection("127.0.0.1", 51000, "127.0.0.1", 15001, 777);

    assertThat(ownership(options()).ownerPid(at("127.0.0.1", 51000), at("127.0.0.1", 15001)))
        .isSameAs(OwnerLookup.NOT_FOUND);
  }

  @Test
  void ownerPid_noSuchConnection_isNotFound() {
    preforkApp();

    assertThat(inboundOwner(ownership(options()), 40999)).isSameAs(OwnerLookup.NOT_FOUND);
  }

  @Test
  void ownerPid_socketHeldByTwoProcesses_isAmbiguous() {
    preforkApp();
    proc.connection("127.0.0.1", APP_PORT, "127.0.0.1", 40002, 603)
        .addSocket(101, 9, 603)
        .addSocket(103, 9, 603);
    SocketOwnership o = ownership(options());

    assertThat(inboundOwner(o, 40002)).isSameAs(OwnerLookup.AMBIGUOUS);
    assertThat(o.counters().ambiguous()).isEqualTo(1);
  }

  @Test
  void ownerPid_workerForkedAfterLastRefresh_isFoundByRefreshOnMiss() throws InterruptedException {
    preforkApp();
    SocketOwnership o = ownership(options().missRefreshInterval(Duration.ofMillis(1)));
    proc.process(105, 100, "gunicorn: worker [app:app]", 500)
        .connection("127.0.0.1", APP_PORT, "127.0.0.1", 40003, 604)
        .addSocket(105, 9, 604);
    Thread.sleep(5);

    assertThat(inboundOwner(o, 40003).pid()).isEqualTo(105);
  }

  @Test
  void ownerPids_batch_answersEachInOrder_fromOneReadOfTheTables() {
    preforkApp();
    proc.connection("127.0.0.1", APP_PORT, "127.0.0.1", 40010, 610)
        .addSocket(101, 9, 610)
        .connection("127.0.0.1", APP_PORT, "127.0.0.1", 40011, 611)
        .addSocket(102, 9, 611)
        .connection("127.0.0.1", 51000, "127.0.0.1", 15001, 612)
        .addSocket(102, 10, 612);
    SocketOwnership o = ownership(options());

    List<OwnerLookup> r =
        o.ownerPids(
            List.of(
                SocketKey.of(at("127.0.0.1", 51000), at("127.0.0.1", 15001)),
                SocketKey.of(at("127.0.0.1", APP_PORT), at("127.0.0.1", 40010)),
                SocketKey.of(at("127.0.0.1", APP_PORT), at("127.0.0.1", 40011)),
                SocketKey.of(at("127.0.0.1", APP_PORT), at("127.0.0.1", 40999))));

    assertThat(r)
        .map(OwnerLookup::toString)
        .containsExactly("FOUND(102)", "FOUND(101)", "FOUND(102)", "NOT_FOUND");
    assertThat(o.counters().lookups()).isEqualTo(4);
    assertThat(o.counters().found()).isEqualTo(3);
    assertThat(o.counters().notFound()).isEqualTo(1);
  }

  @Test
  void ownerPid_foundOwner_isCachedUntilForgotten() {
    preforkApp();
    proc.connection("127.0.0.1", APP_PORT, "127.0.0.1", 40004, 605).addSocket(102, 9, 605);
    SocketOwnership o = ownership(options());

    OwnerLookup first = inboundOwner(o, 40004);
    OwnerLookup second = inboundOwner(o, 40004);
    o.forget(at("127.0.0.1", APP_PORT), at("127.0.0.1", 40004));
    inboundOwner(o, 40004);

    assertThat(second).isSameAs(first);
    assertThat(o.counters().cacheHits()).isEqualTo(1);
    assertThat(o.counters().found()).isEqualTo(2);
    assertThat(o.cachedConnections()).isEqualTo(1);
  }

  @Test
  void ownerPid_cacheIsBounded() {
    preforkApp();
    for (int i = 0; i < 10; i++) {
      proc.connection("127.0.0.1", APP_PORT, "127.0.0.1", 41000 + i, 700 + i)
          .addSocket(101, 10 + i, 700 + i);
    }
    SocketOwnership o = ownership(options().cacheSize(4));

    for (int i = 0; i < 10; i++) {
      assertThat(inboundOwner(o, 41000 + i).pid()).isEqualTo(101);
    }

    assertThat(o.cachedConnections()).isEqualTo(4);
  }

  @Test
  void ownerPid_processExitsBetweenListingAndReadingFds_isNotFound() {
    preforkApp();
    proc.connection("127.0.0.1", APP_PORT, "127.0.0.1", 40005, 606).addSocket(102, 9, 606);
    ProcFs exitingMidScan =
        new ProcFs(dir) {
          @Override
          Path readLink(Path fd) throws IOException {
            if (fd.toString().contains("/102/")) {
              throw new NoSuchFileException(fd.toString());
            }
            return super.readLink(fd);
          }
        };
    SocketOwnership o = new SocketOwnership(options().build(), exitingMidScan);

    assertThat(inboundOwner(o, 40005)).isSameAs(OwnerLookup.NOT_FOUND);
  }

  @Test
  void ownerPid_processDirectoryGoneAtScan_isNotFound() {
    preforkApp();
    proc.connection("127.0.0.1", APP_PORT, "127.0.0.1", 40006, 607).addSocket(102, 9, 607);
    SocketOwnership o = ownership(options());

    proc.exit(102);

    assertThat(inboundOwner(o, 40006)).isSameAs(OwnerLookup.NOT_FOUND);
  }

  @Test
  void ownerPid_tinyBudget_timesOutWithoutThrowing() {
    preforkApp();
    proc.connection("127.0.0.1", APP_PORT, "127.0.0.1", 40007, 608).addSocket(102, 9, 608);
    SocketOwnership o = ownership(options().lookupBudget(Duration.ofNanos(1)));

    assertThat(inboundOwner(o, 40007)).isSameAs(OwnerLookup.TIMED_OUT);
    assertThat(o.counters().timedOut()).isEqualTo(1);
  }

  @Test
  void options_badValues_throwNamingTheSetting() {
    assertThatThrownBy(() -> SocketOwnership.Options.newBuilder().build())
        .hasMessage("procfs.app-port: 0 (expected: 1..65535)");
    assertThatThrownBy(() -> options().lookupBudget(Duration.ZERO).build())
        .hasMessage("procfs.lookup-budget: PT0S (expected: > 0)");
    assertThatThrownBy(() -> options().cacheSize(-1).build())
        .hasMessage("procfs.cache-size: -1 (expected: >= 0)");
    assertThatThrownBy(() -> options().refreshInterval(Duration.ofSeconds(-1)).build())
        .hasMessage("procfs.refresh-interval: PT-1S (expected: > 0)");
  }

  @Test
  void options_defaults() {
    SocketOwnership.Options o = SocketOwnership.Options.newBuilder().appPort(80).build();

    assertThat(o.procRoot()).hasToString("/proc");
    assertThat(o.lookupBudget()).isEqualTo(Duration.ofMillis(5));
    assertThat(o.cacheSize()).isEqualTo(4096);
    assertThat(o.toBuilder().build().appPort()).isEqualTo(80);
  }

  @Test
  void parseParentPid_commWithSpacesAndParens() {
    byte[] stat =
        "4242 (a) b (c)) S 17 4242 0 0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    assertThat(ProcFs.parseParentPid(stat, stat.length)).isEqualTo(17);
    assertThat(ProcFs.parseParentPid(new byte[0], 0)).isEqualTo(-1);
  }

  @Test
  void socketInode_parsesOnlySocketLinks() {
    assertThat(FdScanner.socketInode("socket:[12345]")).isEqualTo(12345);
    assertThat(FdScanner.socketInode("pipe:[12345]")).isEqualTo(-1);
    assertThat(FdScanner.socketInode("socket:[]")).isEqualTo(-1);
    assertThat(FdScanner.socketInode("socket:[12a]")).isEqualTo(-1);
    assertThat(FdScanner.socketInode("/dev/null")).isEqualTo(-1);
  }
}
