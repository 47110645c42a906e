package io.hoptrace.traces.export;

import java.util.List;

/**
 * Sends one batch of span lines to a backend. Lines arrive already encoded — each a Zipkin v2 span
 * as the span-log writer wrote it (DESIGN.md "Span log") — so a Zipkin exporter only joins them.
 * Implementations are called from one thread at a time ({@link AsyncExportQueue}'s worker, or
 * {@code hoptrace export}); they do not retry, the caller does.
 */
public interface SpanExporter extends AutoCloseable {
  /** What became of a batch. */
  enum Result {
    /** The backend accepted the batch. */
    SUCCESS,
    /** A transient failure (I/O, timeout, 408, 429, 5xx): the same batch may succeed later. */
    RETRY,
    /** The backend refused the batch (another 4xx): sending it again will not help. */
    FAILURE
  }

  /** Sends {@code spanLines} (UTF-8 JSON, one span each) as one request. */
  Result export(List<byte[]> spanLines) throws InterruptedException;

  /** A short name for logs and metrics, e.g. {@code zipkin}. */
  String name();

  /** The last failure's description (status line or exception), or empty. */
  default String lastError() {
    return "";
  }

  @Override
  default void close() {}
}
