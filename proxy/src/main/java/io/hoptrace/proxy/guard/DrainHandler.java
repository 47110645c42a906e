package io.hoptrace.proxy.guard;

import static java.util.Objects.requireNonNull;

import io.undertow.server.ExchangeCompletionListener;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The outermost stage of the inbound listener: counts the exchanges in flight so that shutdown can
 * wait for them, and once {@link #shutdown} is called refuses every new one ({@link
 * RefusalReason#DRAINING}: 503, {@code Retry-After}, {@code Connection: close}, a span line and a
 * counter) while those in flight finish. Undertow's {@code GracefulShutdownHandler} did the same
 * but answered a bare 503 with no span line or counter.
 *
 * <p>One atomic word holds both the in-flight count and the shutdown flag (count × 2 + flag), so an
 * exchange either is counted before the flag is set (and drained) or sees the flag (and is
 * refused): none slips between. The cost per exchange is two atomic adds and one completion
 * listener, as with the handler it replaces.
 */
public final class DrainHandler implements HttpHandler {
  private static final long SHUTDOWN = 1;
  private static final long ONE = 2;

  private final Refusals refusals;
  private final HttpHandler next;
  private final AtomicLong state = new AtomicLong();
  private final Object drained = new Object();
  private final ExchangeCompletionListener onComplete = this::complete;

  DrainHandler(Refusals refusals, HttpHandler next) {
    this.refusals = requireNonNull(refusals, "refusals");
    this.next = requireNonNull(next, "next");
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    long now = state.addAndGet(ONE);
    if ((now & SHUTDOWN) != 0) {
      done();
      refusals.refuse(exchange, RefusalReason.DRAINING, "");
      return;
    }
    exchange.addExchangeCompleteListener(onComplete);
    next.handleRequest(exchange);
  }

  private void complete(HttpServerExchange exchange, ExchangeCompletionListener.NextListener next) {
    try {
      done();
    } finally {
      next.proceed();
    }
  }

  /**
   * Counts a request that does not pass through this stage (the byte relay's) as in flight, unless
   * shutdown has begun: then false, nothing counted, and the caller hands the request to this
   * stage, which refuses it. Each true is followed by one {@link #exit()}.
   */
  public boolean tryEnter() {
    if ((state.addAndGet(ONE) & SHUTDOWN) == 0) return true;
    done();
    return false;
  }

  /** The end of a request {@link #tryEnter()} counted. */
  public void exit() {
    done();
  }

  private void done() {
    if (state.addAndGet(-ONE) == SHUTDOWN) {
      synchronized (drained) {
        drained.notifyAll();
      }
    }
  }

  /** From now on new exchanges are refused; those in flight go on. */
  public void shutdown() {
    state.getAndUpdate(s -> s | SHUTDOWN);
  }

  /** Exchanges in flight (not counting refused ones). */
  public long inFlight() {
    return state.get() >> 1;
  }

  /**
   * Waits up to {@code millis} for the exchanges in flight to finish (after {@link #shutdown}).
   *
   * @return true when none is left
   */
  public boolean awaitShutdown(long millis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    synchronized (drained) {
      while (state.get() != SHUTDOWN) {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) return false;
        drained.wait(left);
      }
    }
    return true;
  }
}
