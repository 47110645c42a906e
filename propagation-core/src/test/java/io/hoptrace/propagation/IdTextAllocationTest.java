package io.hoptrace.propagation;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.context.HexCodec;
import io.hoptrace.context.TraceContext;
import io.hoptrace.propagation.requestid.RequestIdCodec;
import io.hoptrace.propagation.w3c.TraceparentCodec;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The text of a request id or a traceparent is written into the thread's scratch array and copied
 * once into its String: the String (24 B) and its array are all a call makes. A fresh scratch array
 * per call added 56 B (request id) or 72 B (traceparent) to each.
 */
class IdTextAllocationTest {
  static final int N = 100_000;

  static double bytesPerCall(Runnable r) {
    FailurePathAllocationTest.assumeMeasurable();
    for (int i = 0; i < N; i++) r.run(); // load and compile first
    return (double) FailurePathAllocationTest.bytesFor(r) / N;
  }

  @Test
  void newRequestId_makesOnlyItsString() {
    // String 24 + its array 16 + 36 = 56: 80; with a scratch array per call 136.
    assertThat(bytesPerCall(RequestIdCodec::newRequestId)).isLessThan(96);
  }

  @Test
  void traceparentText_makesOnlyItsString() {
    TraceContext context = TraceContext.newRoot("r");
    // String 24 + its array 16 + 55 = 72: 96; with a scratch array per call 168.
    assertThat(bytesPerCall(() -> TraceparentCodec.toString(context))).isLessThan(120);
  }

  @Test
  void textsMadeInARow_eachKeepItsOwn() {
    List<String> ids = new ArrayList<>();
    List<String> parents = new ArrayList<>();
    List<TraceContext> contexts = new ArrayList<>();
    for (int i = 0; i < 1_000; i++) {
      ids.add(RequestIdCodec.newRequestId());
      TraceContext c = TraceContext.newRoot("r");
      contexts.add(c);
      parents.add(TraceparentCodec.toString(c));
      HexCodec.toHex(i, i); // the scratch written again between them
    }
    assertThat(new HashSet<>(ids)).hasSize(1_000);
    assertThat(ids).allMatch(RequestIdCodec::isUuid);
    char[] chars = new char[64];
    for (int i = 0; i < 1_000; i++) { // the char[] form writes no scratch
      int length = TraceparentCodec.write(contexts.get(i), chars);
      assertThat(parents.get(i)).isEqualTo(new String(chars, 0, length));
    }
  }
}
