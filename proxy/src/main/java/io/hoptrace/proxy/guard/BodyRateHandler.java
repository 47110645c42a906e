package io.hoptrace.proxy.guard;

import static java.util.Objects.requireNonNull;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.TimeUnit;
import org.xnio.IoUtils;
import org.xnio.XnioExecutor;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.StreamSourceConduit;

/**
 * Cuts a request body that arrives slower than {@code limits.body-min-rate} bytes a second,
 * averaged from the start of the request, once {@code limits.body-rate-grace} has passed: a
 * slowloris body ties up a connection to the app, so it is closed (both sides) and counted as
 * {@code body_too_slow}; the span is the exchange's own, with the client-abort error. Checked once
 * a second on the exchange's IO thread while the body is being read; costs nothing for bodyless
 * requests.
 */
final class BodyRateHandler implements HttpHandler {
  private final HttpHandler next;
  private final Refusals refusals;
  private final long minBytesPerSecond;
  private final long graceNanos;

  BodyRateHandler(long minBytesPerSecond, long graceNanos, Refusals refusals, HttpHandler next) {
    this.minBytesPerSecond = minBytesPerSecond;
    this.graceNanos = graceNanos;
    this.refusals = requireNonNull(refusals, "refusals");
    this.next = requireNonNull(next, "next");
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    if (minBytesPerSecond > 0 && hasBody(exchange)) {
      Watch watch = new Watch(exchange);
      exchange.addRequestWrapper((factory, ex) -> watch.conduit(factory.create()));
      watch.schedule();
    }
    next.handleRequest(exchange);
  }

  private static boolean hasBody(HttpServerExchange exchange) {
    return !exchange.isRequestComplete()
        && (exchange.getRequestContentLength() > 0
            || exchange.getRequestHeaders().contains(Headers.TRANSFER_ENCODING));
  }

  /** Counts body bytes and checks the rate; touched only on the exchange's IO thread. */
  private final class Watch implements Runnable {
    final HttpServerExchange exchange;
    final long startNanos = System.nanoTime();
    long bytes;

    Watch(HttpServerExchange exchange) {
      this.exchange = exchange;
    }

    StreamSourceConduit conduit(StreamSourceConduit next) {
      return new AbstractStreamSourceConduit<StreamSourceConduit>(next) {
        @Override
        public int read(ByteBuffer dst) throws IOException {
          int n = super.read(dst);
          if (n > 0) bytes += n;
          return n;
        }

        @Override
        public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
          long n = super.read(dsts, offs, len);
          if (n > 0) bytes += n;
          return n;
        }

        @Override
        public long transferTo(long position, long count, FileChannel target) throws IOException {
          long n = super.transferTo(position, count, target);
          if (n > 0) bytes += n;
          return n;
        }

        @Override
        public long transferTo(long count, ByteBuffer throughBuffer, StreamSinkChannel target)
            throws IOException {
          long n = super.transferTo(count, throughBuffer, target);
          if (n > 0) bytes += n;
          return n;
        }
      };
    }

    void schedule() {
      XnioExecutor.Key unused = exchange.getIoThread().executeAfter(this, 1, TimeUnit.SECONDS);
    }

    @Override
    public void run() {
      if (exchange.isRequestComplete() || exchange.isComplete()) return;
      long elapsed = System.nanoTime() - startNanos;
      if (elapsed > graceNanos && bytes < minBytesPerSecond * (elapsed / 1e9)) {
        refusals.count(RefusalReason.BODY_TOO_SLOW);
        IoUtils.safeClose(exchange.getConnection());
        return;
      }
      schedule();
    }
  }
}
