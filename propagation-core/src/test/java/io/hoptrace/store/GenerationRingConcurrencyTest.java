package io.hoptrace.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The ring and its striped tables under many threads at once, as the correlator's in-flight maps
 * are used (bench/README.md, "Allocation sites (s20)": the four-thread table test shared no
 * generation drops). Twelve threads put, get and remove their own keys (sharing every stripe) while
 * another steps the ticker, so generations are dropped under them. Nothing may be lost that its
 * generation still holds, and nothing may come back that was removed or never put.
 */
class GenerationRingConcurrencyTest {
  private static final int THREADS = 12;
  private static final int GENERATIONS = 4;
  private static final long PERIOD = 1_000_000; // ticker units (ns)
  private static final int IN_FLIGHT = 24; // each thread's keys held at once, like requests

  /** One thread's errors and how much it checked. */
  record Outcome(List<String> errors, long checked, Set<Long> live) {}

  @Test
  void putGetRemove_manyThreads_whileGenerationsDrop_loseNothingAndInventNothing()
      throws Exception {
    ManualTicker ticker = new ManualTicker();
    GenerationRing<Long, Long> ring =
        GenerationRing.newBuilder()
            .generations(GENERATIONS)
            .period(Duration.ofNanos(PERIOD))
            .capPerGeneration(1 << 20) // never full: a refusal would be a loss of another kind
            .ticker(ticker)
            .build();
    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService pool = Executors.newFixedThreadPool(THREADS + 1);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Outcome>> workers = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        long base = (long) (t + 1) << 40;
        workers.add(pool.submit(() -> work(ring, ticker, base, start, 60_000)));
      }
      Future<?> dropper =
          pool.submit(
              () -> {
                start.await();
                while (!stop.get()) {
                  ticker.advance(PERIOD);
                  ring.advanceIfDue();
                  TimeUnit.MICROSECONDS.sleep(300);
                }
                return null;
              });
      start.countDown();
      List<String> errors = new ArrayList<>();
      Set<Long> live = new HashSet<>();
      long checked = 0;
      for (Future<Outcome> f : workers) {
        Outcome o = f.get(120, TimeUnit.SECONDS);
        errors.addAll(o.errors());
        checked += o.checked();
        live.addAll(o.live());
      }
      stop.set(true);
      dropper.get(10, TimeUnit.SECONDS);

      assertThat(errors).as("lost or phantom entries").isEmpty();
      // The check ran often enough to mean something, across many drops.
      assertThat(checked).isGreaterThan(THREADS * 10_000L);
      assertThat(ring.advanceCount()).isGreaterThan(5);
      // What is left is what the threads still hold (or less: dropped), never a removed key.
      List<Long> left = new ArrayList<>();
      ring.forEachValueWhile(left::add);
      assertThat(live).containsAll(left);
    } finally {
      stop.set(true);
      pool.shutdownNow();
    }
  }

  /**
   * Puts {@code count} keys of its own, holding {@link #IN_FLIGHT} at a time; each is read back
   * after its put and removed later. An entry must be there unless its generation can have been
   * dropped, which takes M advances after the put's generation began: never before (M − 1)·T have
   * passed since the put (readings taken before the put and after the read that missed).
   */
  private static Outcome work(
      GenerationRing<Long, Long> ring,
      ManualTicker ticker,
      long base,
      CountDownLatch start,
      int count)
      throws InterruptedException {
    start.await();
    List<String> errors = new ArrayList<>();
    long checked = 0;
    ArrayDeque<long[]> held = new ArrayDeque<>(); // key, ticker before its put
    Set<Long> live = new HashSet<>();
    for (int i = 0; i < count && errors.size() < 10; i++) {
      long key = base + i;
      Long value = key; // the key's own box: another thread's value would not be equal
      long before = ticker.read();
      ring.put(key, value);
      Long got = ring.get(key);
      checked += check(errors, key, got, before, ticker.read(), "get after put");
      held.addLast(new long[] {key, before});
      live.add(key);
      if (held.size() > IN_FLIGHT) {
        long[] oldest = held.removeFirst();
        Long removed = ring.remove(oldest[0]);
        checked += check(errors, oldest[0], removed, oldest[1], ticker.read(), "remove");
        live.remove(oldest[0]);
        Long again = ring.get(oldest[0]);
        if (again != null) errors.add("phantom: " + oldest[0] + " read back after its remove");
      }
    }
    return new Outcome(errors, checked, live);
  }

  /** 1 if the read was checked, 0 if its generation may have been dropped meanwhile. */
  private static int check(
      List<String> errors, long key, Long got, long before, long after, String what) {
    if (got != null) {
      if (got != key) errors.add("phantom: " + what + " of " + key + " gave " + got);
      return 1;
    }
    if (after - before < (GENERATIONS - 1) * PERIOD) {
      errors.add("lost: " + what + " of " + key + " found nothing " + (after - before) + " ns on");
      return 1;
    }
    return 0;
  }
}
