import io.hoptrace.context.TraceContext;
import io.hoptrace.correlation.InboundRegistry;
import io.hoptrace.correlation.InboundRequest;
import io.hoptrace.propagation.requestid.RequestIdCodec;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Arrays;
import javax.management.ObjectName;

/**
 * Heap retained per remembered inbound request by the correlator's registry (bench/README.md,
 * "Ended requests in the ring (s13-ring)", "Ring memory (s15)"). Registers N requests the way the
 * proxy does (new root context, a new UUID request id, a route key and a connection key shared
 * between requests), ends them (or not, with "inflight"), and prints the live heap they hold after
 * full collections, then the top of a class histogram. Run with bench/lib/ring-heap.sh.
 *
 * <p>The retained heap is measured as the live heap with the registry minus the live heap once it
 * is dropped: a baseline taken before would include what the source launcher's compiler still
 * held then (~5 MB, which made s13's figures low).
 */
public final class RingHeap {
  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    boolean end = args.length < 2 || !args[1].equals("inflight");
    int top = args.length > 2 ? Integer.parseInt(args[2]) : 14;
    String[] routes = new String[8];
    for (int i = 0; i < routes.length; i++) routes[i] = "GET /route/" + i;
    Object[] connections = new Object[16];
    for (int i = 0; i < connections.length; i++) connections[i] = new Object();
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
    long with = used();
    String histogram = histogram(top);
    int held = registry.size();
    long refused = registry.refusedCount();
    registry = null;
    long without = used();
    System.out.printf(
        "requests=%d %s held=%d refused=%d retained=%.1f MB bytes/request=%.1f%n%s",
        n,
        end ? "ended" : "in-flight",
        held,
        refused,
        (with - without) / 1e6,
        (with - without) / (double) n,
        histogram);
  }

  private static long used() {
    for (int i = 0; i < 4; i++) System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** The first {@code top} classes of the live heap's histogram (DiagnosticCommand, as jcmd). */
  private static String histogram(int top) throws Exception {
    String text =
        (String)
            ManagementFactory.getPlatformMBeanServer()
                .invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"),
                    "gcClassHistogram",
                    new Object[] {new String[0]},
                    new String[] {String[].class.getName()});
    String[] lines = text.split("\n");
    return String.join("\n", Arrays.asList(lines).subList(0, Math.min(lines.length, top + 3)))
        + "\n"
        + lines[lines.length - 1]
        + "\n";
  }
}
