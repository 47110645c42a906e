package io.hoptrace.proxy.guard;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleSupplier;

/**
 * The fraction of the maximum heap still in use after the last garbage collection of each heap
 * pool: live data, not garbage waiting to be collected, so a busy but healthy heap does not shed.
 * Read at most every 100 ms; between reads the last value is returned.
 */
final class HeapPressure implements DoubleSupplier {
  private static final long REFRESH_NANOS = 100_000_000L;

  private final List<MemoryPoolMXBean> pools = new ArrayList<>();
  private final long max;
  private volatile double ratio;
  private volatile long nextReadNanos = System.nanoTime();

  HeapPressure() {
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP && pool.isCollectionUsageThresholdSupported()) {
        pools.add(pool);
      }
    }
    long m = Runtime.getRuntime().maxMemory();
    this.max = m == Long.MAX_VALUE || m <= 0 ? Runtime.getRuntime().totalMemory() : m;
  }

  @Override
  public double getAsDouble() {
    long now = System.nanoTime();
    if (now - nextReadNanos >= 0) {
      nextReadNanos = now + REFRESH_NANOS;
      long used = 0;
      for (MemoryPoolMXBean pool : pools) {
        MemoryUsage usage = pool.getCollectionUsage();
        if (usage != null) used += usage.getUsed();
      }
      ratio = (double) used / max;
    }
    return ratio;
  }
}
