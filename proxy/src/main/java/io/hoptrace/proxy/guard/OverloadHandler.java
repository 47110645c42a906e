package io.hoptrace.proxy.guard;

import static java.util.Objects.requireNonNull;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;

/**
 * Sheds load first, at the cost of one comparison each: 503 when the listener holds more
 * connections than allowed or the heap is nearly full of live data. Fast, so an overloaded proxy
 * spends nothing more on what it refuses; it recovers by itself once connections close or the heap
 * frees.
 */
final class OverloadHandler implements HttpHandler {
  private final HttpHandler next;
  private final Refusals refusals;
  private final long maxConnections;
  private final double shedHeapRatio;
  private final DoubleSupplier heap;
  private volatile LongSupplier activeConnections = () -> 0;

  OverloadHandler(
      long maxConnections,
      double shedHeapRatio,
      DoubleSupplier heap,
      Refusals refusals,
      HttpHandler next) {
    this.maxConnections = maxConnections;
    this.shedHeapRatio = shedHeapRatio;
    this.heap = requireNonNull(heap, "heap");
    this.refusals = requireNonNull(refusals, "refusals");
    this.next = requireNonNull(next, "next");
  }

  /**
   * The listener's open connections, as the head guard's accept and close listeners count them
   * ({@link HeadGuardConduit#listen}); known only once it is bound.
   */
  void activeConnections(LongSupplier active) {
    this.activeConnections = requireNonNull(active, "active");
  }

  /**
   * Whether a request arriving now would be shed: the test {@link #handleRequest} makes, without
   * refusing (the byte relay hands such a request to the Undertow path, which refuses it).
   */
  boolean sheds() {
    if (activeConnections.getAsLong() > maxConnections) return true;
    return shedHeapRatio < 1 && heap.getAsDouble() > shedHeapRatio;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    long open = activeConnections.getAsLong();
    if (open > maxConnections) {
      refusals.refuse(exchange, RefusalReason.CONNECTION_LIMIT, open + " open");
      return;
    }
    if (shedHeapRatio < 1) {
      double ratio = heap.getAsDouble();
      if (ratio > shedHeapRatio) {
        refusals.refuse(
            exchange, RefusalReason.OVERLOADED, "heap " + Math.round(ratio * 100) + "% live");
        return;
      }
    }
    next.handleRequest(exchange);
  }
}
