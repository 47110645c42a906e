package io.hoptrace.proxy.demo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.jspecify.annotations.Nullable;

/**
 * The three demo services, wired as a small shop:
 *
 * <pre>
 * front     GET /checkout/{id} → orders GET /orders/{id}                      (serially)
 * orders    GET /orders/{id}   → inventory GET /stock/{id} and /prices/{id}   (in parallel)
 * orders    every 300 ms, from a timer → inventory GET /health                (no request in flight)
 * inventory answers
 * </pre>
 *
 * No app copies a header from its inbound request to its outbound calls: every link in the span
 * logs is hoptrace's own work. The order id travels in the paths, so the demo can check each link
 * against the truth afterwards.
 */
final class DemoSystem implements AutoCloseable {
  static final long BACKGROUND_PERIOD_MILLIS = 300;

  final DemoService inventory;
  final DemoService orders;
  final DemoService front;

  /**
   * Checkouts hold the read side; orders' timer takes the write side, so its call goes out between
   * checkouts. A timer call made while a request is in flight would be linked to that request (the
   * correlator cannot tell a timer thread from a worker): the demo shows the clean case.
   */
  private final ReentrantReadWriteLock quiet = new ReentrantReadWriteLock(true);

  private final Thread timer;
  private final AtomicInteger backgroundCalls = new AtomicInteger();
  private final AtomicInteger backgroundFailures = new AtomicInteger();
  private volatile long backgroundPeriodMillis = BACKGROUND_PERIOD_MILLIS;
  private volatile boolean closed;

  private DemoSystem(Path dir) throws Exception {
    DemoService inventory = null;
    DemoService orders = null;
    try {
      inventory =
          DemoService.start("inventory", DemoSystem::inventory, log(dir, "inventory"), Map.of());
      DemoService callee = inventory;
      // correlator.grace = 0: orders' timer fires just after a checkout ended; with the default
      // grace (2s) hoptrace would take its call for fire-and-forget work of that checkout.
      orders =
          DemoService.start(
              "orders",
              (path, self) -> orders(path, self, callee),
              log(dir, "orders"),
              Map.of("correlator.grace", "0"));
      DemoService ordersService = orders;
      this.front =
          DemoService.start(
              "front",
              (path, self) -> front(path, self, ordersService),
              log(dir, "front"),
              Map.of());
    } catch (Exception e) {
      if (orders != null) orders.close();
      if (inventory != null) inventory.close();
      throw e;
    }
    this.inventory = inventory;
    this.orders = orders;
    this.timer = new Thread(this::background, "demo-orders-timer");
    timer.setDaemon(true);
    timer.start();
  }

  /** Starts inventory, orders and front (callees first), each behind its own hoptrace. */
  static DemoSystem start(Path dir) throws Exception {
    return new DemoSystem(dir);
  }

  static Path log(Path dir, String service) {
    return dir.resolve(service + ".spans.jsonl");
  }

  List<DemoService> services() {
    return List.of(front, orders, inventory);
  }

  List<Path> spanLogs() {
    return List.of(front.spanLog(), orders.spanLog(), inventory.spanLog());
  }

  /** Runs one checkout from outside (holding the read side of the quiet lock). */
  <T> T checkout(CheckedSupplier<T> call) throws IOException, InterruptedException {
    quiet.readLock().lockInterruptibly();
    try {
      return call.get();
    } finally {
      quiet.readLock().unlock();
    }
  }

  interface CheckedSupplier<T> {
    T get() throws IOException, InterruptedException;
  }

  int backgroundCalls() {
    return backgroundCalls.get();
  }

  int backgroundFailures() {
    return backgroundFailures.get();
  }

  /**
   * After the burst, with --keep-running: a quieter timer, so the page is not all health checks.
   */
  void slowBackground(long periodMillis) {
    backgroundPeriodMillis = periodMillis;
  }

  // ---- the apps

  private static @Nullable String front(String path, DemoService self, DemoService orders)
      throws IOException, InterruptedException {
    String id = id(path, "/checkout/");
    if (id == null) return null;
    DemoService.work(1, 3);
    String order = self.get(orders.url("/orders/" + id));
    return "checkout " + id + ": " + order;
  }

  private static @Nullable String orders(String path, DemoService self, DemoService inventory)
      throws InterruptedException {
    String id = id(path, "/orders/");
    if (id == null) return null;
    DemoService.work(1, 4);
    CompletableFuture<String> stock = self.getAsync(inventory.url("/stock/" + id));
    CompletableFuture<String> price = self.getAsync(inventory.url("/prices/" + id));
    return "order " + id + " (" + stock.join().strip() + ", " + price.join().strip() + ")";
  }

  private static @Nullable String inventory(String path, DemoService self)
      throws InterruptedException {
    if (path.equals("/health")) return "ok\n";
    String id = id(path, "/stock/");
    if (id != null) {
      DemoService.work(3, 12);
      return "stock " + (id.hashCode() & 0xf) + "\n";
    }
    id = id(path, "/prices/");
    if (id != null) {
      DemoService.work(3, 12);
      return "price " + (10 + (id.hashCode() & 0x3f)) + ".00\n";
    }
    return null;
  }

  /** The id after {@code prefix}: 1..32 letters, digits or '-'; null when the path is not that. */
  static @Nullable String id(String path, String prefix) {
    if (!path.startsWith(prefix)) return null;
    String id = path.substring(prefix.length());
    if (id.isEmpty() || id.length() > 32) return null;
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (!Character.isLetterOrDigit(c) && c != '-') return null;
    }
    return id;
  }

  // ---- orders' background job

  private void background() {
    while (!closed) {
      try {
        Thread.sleep(backgroundPeriodMillis);
        quiet.writeLock().lockInterruptibly();
        try {
          // The last checkout's response may still be leaving orders' hoptrace: wait until it
          // holds nothing in flight (bounded), so the call below is truly made between requests.
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
          while (orders.inFlight() > 0 && System.nanoTime() < deadline) Thread.sleep(1);
          if (closed) return;
          orders.get(inventory.url("/health"));
          backgroundCalls.incrementAndGet();
        } finally {
          quiet.writeLock().unlock();
        }
      } catch (InterruptedException e) {
        return;
      } catch (IOException | RuntimeException e) {
        if (!closed) backgroundFailures.incrementAndGet();
      }
    }
  }

  /**
   * Stops the timer (after its call in progress, if any), then the three services side by side
   * (each drains its hoptrace: nothing is in flight by now, and closing one by one would add up the
   * listeners' shutdown times); when this returns every span line is in the files.
   */
  @Override
  public void close() {
    closed = true;
    // A timer call in progress finishes first (it holds the write side): interrupting it would
    // leave a CLIENT span for a call that never reached inventory.
    try {
      boolean quietNow = quiet.writeLock().tryLock(15, TimeUnit.SECONDS); // calls time out in 10 s
      try {
        timer.interrupt();
      } finally {
        if (quietNow) quiet.writeLock().unlock();
      }
      timer.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      timer.interrupt();
      Thread.currentThread().interrupt();
    }
    List<Thread> closing = new ArrayList<>();
    for (DemoService s : services()) {
      Thread t = new Thread(s::close, "demo-close-" + s.name);
      t.setDaemon(true);
      t.start();
      closing.add(t);
    }
    try {
      for (Thread t : closing) t.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
