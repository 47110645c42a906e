package io.hoptrace.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class StripedTableTest {

  /**
   * A key whose hash the test chooses: many keys with one home slot, and homes near the end of a
   * stripe's array, make the long probe runs that wrap around, which deletion must close up.
   */
  record Key(int hash, int id) {
    @Override
    public int hashCode() {
      return hash;
    }
  }

  /**
   * {@code count} key hashes of one stripe: the first four have their home in the last slot of its
   * array at every size up to 128 slots, so probe runs start at the end and wrap around; the others
   * are homed anywhere in it, so runs of different homes meet.
   */
  static int[] hashesOfOneStripe(int count) {
    int[] found = new int[count];
    int n = 0;
    for (int h = 0; n < Math.min(count, 4); h++) {
      int mixed = StripedTable.hash(h);
      if ((mixed & 127) == 127 && mixed >>> 29 == 0) found[n++] = h;
    }
    for (int h = -1; n < count; h--) {
      if (StripedTable.hash(h) >>> 29 == 0) found[n++] = h;
    }
    return found;
  }

  /** Random puts, replaces and removes, checked after each against a HashMap. */
  @Test
  void everyOperation_agreesWithAHashMap_underCollisionsAndWrapAround() {
    for (int hashes : new int[] {1, 3, 17, 200}) {
      int[] oneStripe = hashesOfOneStripe(hashes);
      int ids = Math.max(1, 200 / hashes); // ~200 keys: up to ~100 held at once
      SplittableRandom random = new SplittableRandom(hashes);
      StripedTable<Key, Integer> table = new StripedTable<>();
      Map<Key, Integer> expected = new HashMap<>();
      for (int op = 0; op < 40_000; op++) {
        int pick = random.nextInt(hashes);
        Key k = new Key(oneStripe[pick], random.nextInt(ids));
        int v = random.nextInt(5);
        switch (random.nextInt(6)) {
          case 0, 1 -> assertThat(table.put(k, v)).isEqualTo(expected.put(k, v));
          case 2 -> assertThat(table.replace(k, v)).isEqualTo(expected.replace(k, v));
          case 3 -> assertThat(table.remove(k)).isEqualTo(expected.remove(k));
          case 4 -> assertThat(table.remove(k, v)).isEqualTo(expected.remove(k, v));
          default -> assertThat(table.get(k)).isEqualTo(expected.get(k));
        }
        assertThat(table.size()).isEqualTo(expected.size());
        for (Map.Entry<Key, Integer> e : expected.entrySet()) { // every key held is still found
          if (!e.getValue().equals(table.get(e.getKey()))) {
            assertThat(table.get(e.getKey()))
                .as("op %d: get %s", op, e.getKey())
                .isEqualTo(e.getValue());
          }
        }
      }
      List<Integer> values = new ArrayList<>();
      assertThat(table.forEachValueWhile(values::add)).isTrue();
      assertThat(values).containsExactlyInAnyOrderElementsOf(expected.values());
    }
  }

  @Test
  void forEachValueWhile_stopsWhenTheVisitorSaysSo() {
    StripedTable<Long, Long> table = new StripedTable<>();
    for (long i = 0; i < 100; i++) table.put(i, i);
    List<Long> seen = new ArrayList<>();
    assertThat(table.forEachValueWhile(v -> seen.add(v) && seen.size() < 7)).isFalse();
    assertThat(seen).hasSize(7);
  }

  @Test
  void forEachValueWhile_visitorMayChangeTheTable() {
    StripedTable<Long, Long> table = new StripedTable<>();
    for (long i = 0; i < 100; i++) table.put(i, i);
    List<Long> seen = new ArrayList<>();
    table.forEachValueWhile(v -> seen.add(v) && table.remove(v) != null);
    assertThat(seen).hasSize(100).doesNotHaveDuplicates();
    assertThat(table.size()).isZero();
  }

  /** Four threads put and remove their own keys while sharing stripes: nothing lost or leaked. */
  @Test
  void putRemove_fromSeveralThreads_eachSeesItsOwnKeys() throws Exception {
    StripedTable<Long, Long> table = new StripedTable<>();
    int threads = 4;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        long base = (long) t << 40;
        results.add(
            pool.submit(
                () -> {
                  start.await();
                  int wrong = 0;
                  for (long i = 0; i < 50_000; i++) {
                    Long k = base + i;
                    table.put(k, k);
                    if (!k.equals(table.get(k))) wrong++;
                    // keep up to 20 of its own in the table, like requests in flight
                    if (i >= 20
                        && !Long.valueOf(base + i - 20).equals(table.remove(base + i - 20))) {
                      wrong++;
                    }
                  }
                  return wrong;
                }));
      }
      start.countDown();
      for (Future<Integer> f : results) assertThat(f.get()).isZero();
      assertThat(table.size()).isEqualTo(threads * 20);
    } finally {
      pool.shutdownNow();
    }
  }
}
