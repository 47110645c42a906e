package io.hoptrace.proxy.procfs;

import static java.util.Objects.requireNonNull;

import io.hoptrace.config.Settings;
import io.hoptrace.correlation.CandidateFilter;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Paths;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The {@code process} link feature as the proxy runs it: the {@link SocketOwnership} built from
 * {@code procfs.*}, its {@link ProcessEvidence} for the correlator, a background thread calling
 * {@link SocketOwnership#maintain()} whenever it says something is due (a re-probe, a refresh of
 * the process list in use, the idle check of the listener: once per {@code procfs.refresh-interval}
 * on an idle sidecar, and at least every 10 s), the availability line ({@code hoptrace: process
 * links: ...}, at startup and whenever it changes) and the metrics:
 *
 * <ul>
 *   <li>{@code hoptrace.procfs.available} (0/1)
 *   <li>{@code hoptrace.procfs.lookups}, {@code _found}, {@code _not_found}, {@code _timed_out},
 *       {@code _unavailable}, {@code _cache_hits} (connections looked up, by outcome)
 *   <li>{@code hoptrace.procfs.asked}, {@code _process}, {@code _narrowed} (outbound calls)
 *   <li>{@code hoptrace.procfs.refreshes}: re-reads of the app's process list (startup, probes, and
 *       every {@code procfs.refresh-interval} while lookups use it; none while idle)
 * </ul>
 *
 * When off (by setting, or /proc unusable) the correlator gets {@link CandidateFilter#NONE}, or an
 * evidence whose lookups answer UNAVAILABLE at once: it works as without this feature.
 */
public final class ProcessLinks implements AutoCloseable {
  static final String LINE = "hoptrace: process links: %s%n";

  /**
   * Bounds of the wait between two background runs: no tighter than this, whatever the settings.
   */
  private static final long MIN_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  /** ...and no longer than this, so the availability line follows what lookups find. */
  private static final long MAX_WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final @Nullable ProcessEvidence evidence;
  private final @Nullable ScheduledExecutorService maintainer;
  private final PrintStream log;
  private volatile String status;

  private ProcessLinks(
      @Nullable ProcessEvidence evidence,
      @Nullable ScheduledExecutorService maintainer,
      PrintStream log,
      String status) {
    this.evidence = evidence;
    this.maintainer = maintainer;
    this.log = log;
    this.status = status;
  }

  /**
   * Probes /proc for the app listening on {@code appPort} (a full scan: startup only), logs the
   * answer to {@code log} and registers the metrics.
   */
  public static ProcessLinks start(
      Settings.Procfs settings, int appPort, ProxyMetrics metrics, PrintStream log) {
    requireNonNull(settings, "settings");
    requireNonNull(metrics, "metrics");
    requireNonNull(log, "log");
    if (!settings.enabled()) {
      metrics.gauge("hoptrace.procfs.available", () -> 0);
      String status = "off (procfs.enabled = false)";
      log.printf(LINE, status);
      return new ProcessLinks(null, null, log, status);
    }
    SocketOwnership ownership =
        SocketOwnership.create(
            SocketOwnership.Options.newBuilder()
                .procRoot(Paths.get(settings.root()))
                .appPort(appPort)
                .lookupBudget(settings.lookupBudget())
                .cacheSize(settings.cacheSize())
                .refreshInterval(settings.refreshInterval())
                .missRefreshInterval(settings.missRefreshInterval())
                .reprobeInterval(settings.reprobeInterval())
                .build());
    ProcessEvidence evidence = new ProcessEvidence(ownership);
    metrics.gauge(
        "hoptrace.procfs.available", () -> ownership.availability().isAvailable() ? 1 : 0);
    metrics.gauge("hoptrace.procfs.lookups", () -> ownership.counters().lookups());
    metrics.gauge("hoptrace.procfs.cache_hits", () -> ownership.counters().cacheHits());
    metrics.gauge("hoptrace.procfs.found", () -> ownership.counters().found());
    metrics.gauge("hoptrace.procfs.not_found", () -> ownership.counters().notFound());
    metrics.gauge("hoptrace.procfs.timed_out", () -> ownership.counters().timedOut());
    metrics.gauge("hoptrace.procfs.unavailable", () -> ownership.counters().unavailable());
    metrics.gauge("hoptrace.procfs.asked", evidence::asked);
    metrics.gauge("hoptrace.procfs.process", evidence::processLinks);
    metrics.gauge("hoptrace.procfs.narrowed", evidence::narrowedLinks);
    metrics.gauge("hoptrace.procfs.refreshes", () -> ownership.counters().refreshes());
    String status = ownership.availability().reason();
    log.printf(LINE, status);
    ScheduledExecutorService maintainer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "hoptrace-procfs");
              t.setDaemon(true);
              return t;
            });
    ProcessLinks links = new ProcessLinks(evidence, maintainer, log, status);
    links.scheduleMaintain(MIN_WAIT_NANOS);
    return links;
  }

  /**
   * Discovery off the request path, then again when {@link SocketOwnership#maintain()} says
   * something is due (an idle sidecar: once per {@code procfs.refresh-interval}); logs the
   * availability line again when it changed.
   */
  private void maintain() {
    ProcessEvidence e = evidence;
    if (e == null) return;
    long next = TimeUnit.SECONDS.toNanos(1);
    try {
      next = e.ownership().maintain();
      String now = e.ownership().availability().reason();
      if (!now.equals(status)) {
        status = now;
        log.printf(LINE, now);
      }
    } catch (RuntimeException ex) {
      // maintain() does not throw on what /proc says; keep the timer alive whatever happens.
    } finally {
      scheduleMaintain(next);
    }
  }

  private void scheduleMaintain(long delayNanos) {
    ScheduledExecutorService m = maintainer;
    if (m == null || m.isShutdown()) return;
    try {
      var unused =
          m.schedule(
              this::maintain,
              Math.min(Math.max(delayNanos, MIN_WAIT_NANOS), MAX_WAIT_NANOS),
              TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException closed) {
      // close() ran meanwhile
    }
  }

  /** The filter for the {@link io.hoptrace.correlation.Correlator}. */
  public CandidateFilter filter() {
    ProcessEvidence e = evidence;
    return e == null ? CandidateFilter.NONE : e;
  }

  /** The evidence, or null when turned off by setting. */
  public @Nullable ProcessEvidence evidence() {
    return evidence;
  }

  /** Whether lookups can answer now. */
  public boolean available() {
    ProcessEvidence e = evidence;
    return e != null && e.ownership().availability().isAvailable();
  }

  /** The last availability line (without the prefix). */
  public String status() {
    return status;
  }

  /**
   * The app's side of a connection, or null when an address is not a resolved IP one: for the app's
   * outbound call, {@code (peer, listener)}; for hoptrace's connection to the app, {@code (app,
   * hoptrace's local)}.
   */
  public static @Nullable SocketKey appSide(
      @Nullable SocketAddress appSideLocal, @Nullable SocketAddress appSideRemote) {
    if (appSideLocal instanceof InetSocketAddress local
        && appSideRemote instanceof InetSocketAddress remote
        && local.getAddress() != null
        && remote.getAddress() != null) {
      return SocketKey.of(local, remote);
    }
    return null;
  }

  /** A connection closed: its owner must not be remembered for a later one on the same ports. */
  public void forget(SocketKey key) {
    ProcessEvidence e = evidence;
    if (e != null) e.ownership().forget(key);
  }

  @Override
  public void close() {
    ScheduledExecutorService m = maintainer;
    if (m != null) m.shutdownNow();
  }
}
