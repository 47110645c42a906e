package io.hoptrace.propagation;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.propagation.b3.B3SingleCodec;
import io.hoptrace.propagation.legacy.LegacyPairCodec;
import io.hoptrace.propagation.requestid.RequestIdCodec;
import io.hoptrace.propagation.w3c.TraceparentCodec;
import io.hoptrace.propagation.w3c.TracestateCodec;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * "Nothing allocated on the failure path", measured: 100k invalid inputs must allocate (almost) no
 * bytes on this thread. Runs interpreted and then compiled, so it holds without relying on escape
 * analysis. One allocation per call would be at least 16 B x 100k = 1.6 MB; the 64 KB slack only
 * covers one-off runtime noise (the JIT compiling the loop, deoptimization).
 */
class FailurePathAllocationTest {
  static final int N = 100_000;
  static final long SLACK = 64 * 1024;

  static long allocated() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
        .getThreadAllocatedBytes(Thread.currentThread().getId());
  }

  static long bytesFor(Runnable r) {
    r.run(); // load classes first
    long before = allocated();
    for (int i = 0; i < N; i++) r.run();
    return allocated() - before;
  }

  static void assumeMeasurable() {
    Assumptions.assumeTrue(
        ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean);
  }

  @Test
  void traceparent_invalid_allocatesNothing() {
    assumeMeasurable();
    String bad = "00-0af7651916cd43dd8448eb211c80319c-B7AD6B7169203331-01";

    assertThat(bytesFor(() -> TraceparentCodec.parse(bad))).isLessThan(SLACK);
  }

  @Test
  void traceparent_validateValid_allocatesNothing() {
    assumeMeasurable();
    String ok = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    assertThat(bytesFor(() -> TraceparentCodec.validate(ok, 0, ok.length()))).isLessThan(SLACK);
  }

  @Test
  void tracestate_duplicateKeys_allocatesNothing() {
    assumeMeasurable();
    String bad = "rojo=1,congo=2,rojo=3";

    assertThat(bytesFor(() -> TracestateCodec.parse(bad))).isLessThan(SLACK);
  }

  @Test
  void tracestate_validCanonical_allocatesNothing() {
    assumeMeasurable();
    String ok = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";

    assertThat(bytesFor(() -> TracestateCodec.parse(ok))).isLessThan(SLACK);
  }

  @Test
  void b3_invalid_allocatesNothing() {
    assumeMeasurable();
    String bad = "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-x";

    assertThat(bytesFor(() -> B3SingleCodec.parse(bad))).isLessThan(SLACK);
  }

  @Test
  void legacy_invalid_allocatesNothing() {
    assumeMeasurable();

    assertThat(bytesFor(() -> LegacyPairCodec.parse("zz", "e457b5a2e4d86bd1"))).isLessThan(SLACK);
  }

  @Test
  void requestId_invalid_allocatesNothing() {
    assumeMeasurable();

    assertThat(bytesFor(() -> RequestIdCodec.parse("bad\r\nid", 128))).isLessThan(SLACK);
  }
}
