import io.hoptrace.context.TraceContext;
import io.hoptrace.correlation.InboundRegistry;
import io.hoptrace.correlation.InboundRequest;
import io.hoptrace.propagation.requestid.RequestIdCodec;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;

/**
 * Heap retained per remembered inbound request by the correlator's registry (bench/README.md,
 * "Ended requests in the ring"). Registers N requests the way the proxy does (new root context, a
 * new UUID request id, a route key and a connection key shared between requests), ends them (or
 * not, with "inflight"), and prints the live heap they add after full collections. Run with
 * bench/lib/ring-heap.sh.
 */
public final class RingHeap {
  public static void main(String[] args) {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    boolean end = args.length < 2 || !args[1].equals("inflight");
    String[] routes = new String[8];
    for (int i = 0; i < routes.length; i++) routes[i] = "GET /route/" + i;
    Object[] connections = new Object[16];
    for (int i = 0; i < connections.length; i++) connections[i] = new Object();
    long before = used();
    InboundRegistry registry =
        InboundRegistry.newBuilder()
            .generations(4)
            .period(Duration.ofHours(1))
            .capPerGeneration(n)
            .build();
    for (int i = 0; i < n; i++) {
      String rid = RequestIdCodec.newRequestId();
      InboundRequest r =
          registry.begin(
              TraceContext.newRoot(rid),
              routes[i & 7],
              rid,
              connections[i & 15],
              System.nanoTime());
      registry.delivered(r, System.nanoTime());
      if (end) registry.end(r, System.nanoTime());
    }
    long after = used();
    System.out.printf(
        "requests=%d %s held=%d refused=%d retained=%.1f MB bytes/request=%.1f%n",
        n,
        end ? "ended" : "in-flight",
        registry.size(),
        registry.refusedCount(),
        (after - before) / 1e6,
        (after - before) / (double) n);
    java.lang.ref.Reference.reachabilityFence(registry);
  }

  private static long used() {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    for (int i = 0; i < 4; i++) System.gc();
    return memory.getHeapMemoryUsage().getUsed();
  }
}
