package io.hoptrace.proxy.export;

import static java.util.Objects.requireNonNull;

import io.hoptrace.config.Settings;
import io.hoptrace.proxy.admin.TracesPageHandler;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.proxy.spanlog.SpanLogWriter;
import io.hoptrace.traces.export.AsyncExportQueue;
import io.hoptrace.traces.export.OtlpHttpExporter;
import io.hoptrace.traces.export.SpanExporter;
import io.hoptrace.traces.export.ZipkinExporter;
import io.hoptrace.traces.web.RecentSpanLines;
import io.hoptrace.traces.web.TraceSource;
import io.hoptrace.traces.web.TracesWebHandler;
import io.undertow.Handlers;
import io.undertow.server.HttpHandler;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Where encoded span lines go besides the span log: one {@link AsyncExportQueue} per configured
 * backend and, when the admin traces page is on, the {@link RecentSpanLines} it shows. The span-log
 * writer calls {@link #line} on its thread with a fresh copy of each line; every target only
 * offers, so a slow or dead backend costs dropped spans (counted), never a blocked writer or
 * request.
 *
 * <p>Metrics, per backend ({@code zipkin}, {@code otlp}): {@code hoptrace_export_<backend>_sent},
 * {@code _failed} (refused, or retries exhausted), {@code _dropped} (queue full, or left at
 * shutdown), {@code _retries}, {@code _queued}.
 */
public final class SpanExport implements SpanLogWriter.LineListener, AutoCloseable {
  /** Where the waterfall page is mounted on the admin listener (it uses relative API paths). */
  public static final String TRACES_PREFIX = "/traces";

  private final List<AsyncExportQueue> queues;
  private final @Nullable RecentSpanLines recent;

  private SpanExport(List<AsyncExportQueue> queues, @Nullable RecentSpanLines recent) {
    this.queues = List.copyOf(queues);
    this.recent = recent;
  }

  /**
   * Starts a queue (and its worker thread) per backend in {@code settings.export()}, registers
   * their metrics, and keeps recent lines when the admin listener and its traces page are on.
   */
  public static SpanExport create(Settings settings, ProxyMetrics metrics) {
    requireNonNull(settings, "settings");
    requireNonNull(metrics, "metrics");
    Settings.Export export = settings.export();
    List<AsyncExportQueue> queues = new ArrayList<>(2);
    if (export.zipkinUrl() != null) {
      queues.add(queue(new ZipkinExporter(export.zipkinUrl(), export.timeout()), export));
    }
    if (export.otlpUrl() != null) {
      OtlpHttpExporter.Encoding encoding =
          OtlpHttpExporter.Encoding.valueOf(export.otlpEncoding().name());
      queues.add(queue(new OtlpHttpExporter(export.otlpUrl(), encoding, export.timeout()), export));
    }
    for (AsyncExportQueue q : queues) {
      String prefix = "hoptrace.export." + q.exporterName() + ".";
      metrics.gauge(prefix + "sent", q::sent);
      metrics.gauge(prefix + "failed", q::failed);
      metrics.gauge(prefix + "dropped", q::dropped);
      metrics.gauge(prefix + "retries", q::retries);
      metrics.gauge(prefix + "queued", q::queued);
    }
    Settings.TracesPage page = settings.tracesPage();
    RecentSpanLines recent =
        settings.admin() != null && page.enabled() ? new RecentSpanLines(page.recentSpans()) : null;
    return new SpanExport(queues, recent);
  }

  private static AsyncExportQueue queue(SpanExporter exporter, Settings.Export export) {
    return AsyncExportQueue.newBuilder(exporter)
        .capacity(export.queueSize())
        .batchSize(export.batchSize())
        .flushInterval(export.flushInterval())
        .maxAttempts(export.maxAttempts())
        .closeTimeout(export.closeTimeout())
        .build();
  }

  /** Whether any line needs handing over (a backend or the traces page is on). */
  public boolean active() {
    return !queues.isEmpty() || recent != null;
  }

  /** Offers the line to every queue and keeps it for the page; never blocks. */
  @Override
  public void line(byte[] line) {
    for (AsyncExportQueue queue : queues) queue.offer(line); // a full queue counts the drop
    if (recent != null) recent.add(line);
  }

  /**
   * As {@link #line(byte[])} for a line in the writer's reused buffer: one fresh copy for the
   * queues (when there are any), and the page copies into its own reused slots, so with only the
   * page on a line allocates nothing (bench/README.md, "RSS under load (s16)").
   */
  @Override
  public void line(byte[] bytes, int from, int to) {
    if (!queues.isEmpty()) {
      byte[] line = Arrays.copyOfRange(bytes, from, to);
      for (AsyncExportQueue queue : queues) queue.offer(line);
    }
    if (recent != null) recent.add(bytes, from, to);
  }

  /** The running export queues, one per configured backend. */
  public List<AsyncExportQueue> queues() {
    return queues;
  }

  /**
   * {@code admin} with the waterfall page mounted under {@value #TRACES_PREFIX}{@code /} when the
   * page is on; {@code admin} itself otherwise.
   */
  public HttpHandler adminHandler(HttpHandler admin) {
    if (recent == null) return admin;
    TracesWebHandler page = new TracesWebHandler(TraceSource.ofLines(recent::snapshot));
    return Handlers.path(admin).addPrefixPath(TRACES_PREFIX, new TracesPageHandler(page));
  }

  /**
   * Closes each queue: it sends what is queued for up to its close timeout, then counts the rest as
   * dropped. Call after the span log is closed, so its last lines were offered.
   */
  @Override
  public void close() {
    for (AsyncExportQueue queue : queues) queue.close();
  }
}
