package io.hoptrace.propagation;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.context.TraceContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The SERVER span's context is made when first asked for ({@link Extraction#newServerContext()} or
 * {@link Extraction#newServerContext(Supplier)}), once: the outbound hop, which never asks, makes
 * none; the inbound hop's request without an id gets one context carrying a new id, not a context
 * and its copy.
 */
class ServerContextTest {
  static final String TRACE_ID = CompositeExtractorTest.TRACE_ID;
  static final String SPAN_ID = CompositeExtractorTest.SPAN_ID;
  static final String TRACEPARENT = CompositeExtractorTest.TRACEPARENT;
  static final String UUID = CompositeExtractorTest.UUID;
  static final String NEW_ID = "11111111-2222-4333-8444-555555555555";

  static Extraction extract(boolean trusted, String... headers) {
    return CompositeExtractorTest.extract(trusted, headers);
  }

  /** Counts its calls; each gives {@link #NEW_ID} with the call's number. */
  static final class Ids implements Supplier<String> {
    final AtomicInteger calls = new AtomicInteger();

    @Override
    public String get() {
      return NEW_ID + "#" + calls.incrementAndGet();
    }
  }

  @Test
  void notMadeUntilAsked_thenTheSameInstanceEveryCall() {
    Extraction e = extract(true, "X-Request-Id", "req-1");

    assertThat(e.toString()).contains("server=(not made)");
    TraceContext server = e.newServerContext();
    assertThat(e.toString()).contains("server=" + server);
    assertThat(e.newServerContext()).isSameAs(server);
    assertThat(e.newServerContext(new Ids())).isSameAs(server);
  }

  @Test
  void noIdCame_root_carriesTheNewId_askedOnce_andBothFormsReturnIt() {
    Extraction e = extract(true);
    Ids ids = new Ids();

    TraceContext server = e.newServerContext(ids);

    assertThat(server.requestId()).isEqualTo(NEW_ID + "#1");
    assertThat(server.hasParent()).isFalse();
    assertThat(server.random()).isTrue(); // not seeded from the id we made
    assertThat(server.sampled()).isTrue();
    assertThat(e.requestId()).isNull(); // still what came in
    assertThat(e.newServerContext(ids)).isSameAs(server);
    assertThat(e.newServerContext()).isSameAs(server);
    assertThat(ids.calls).hasValue(1);
  }

  @Test
  void newUuidId_doesNotSeedTheTraceId_evenFromATrustedCaller() {
    Extraction e = extract(true);

    TraceContext server = e.newServerContext(() -> UUID.toLowerCase(java.util.Locale.ROOT));

    assertThat(server.traceIdString()).isNotEqualTo("6ba7b8109dad41d180b400c04fd430c8");
    assertThat(server.random()).isTrue();
  }

  @Test
  void anIdCame_isCarried_andTheSupplierIsNeverAsked() {
    Ids ids = new Ids();

    TraceContext seeded = extract(true, "X-Request-Id", UUID).newServerContext(ids);
    TraceContext notSeeded = extract(false, "X-Request-Id", UUID).newServerContext(ids);
    TraceContext text = extract(true, "X-Request-Id", "req-42").newServerContext(ids);
    TraceContext child =
        extract(true, "traceparent", TRACEPARENT, "X-Request-Id", "req-7").newServerContext(ids);

    assertThat(ids.calls).hasValue(0);
    assertThat(seeded.requestId()).isEqualTo(UUID);
    assertThat(seeded.traceIdString()).isEqualTo("6ba7b8109dad41d180b400c04fd430c8");
    assertThat(seeded.random()).isFalse();
    assertThat(notSeeded.requestId()).isEqualTo(UUID);
    assertThat(notSeeded.traceIdString()).isNotEqualTo("6ba7b8109dad41d180b400c04fd430c8");
    assertThat(text.requestId()).isEqualTo("req-42");
    assertThat(child.requestId()).isEqualTo("req-7");
    assertThat(child.parentIdString()).isEqualTo(SPAN_ID);
  }

  @Test
  void extractedWithoutId_child_carriesTheNewId_withTheParentsTraceFlagsAndState() {
    Extraction e = extract(true, "traceparent", TRACEPARENT, "tracestate", "rojo=1");

    TraceContext server = e.newServerContext(new Ids());

    assertThat(server.requestId()).isEqualTo(NEW_ID + "#1");
    assertThat(server.traceIdString()).isEqualTo(TRACE_ID);
    assertThat(server.parentIdString()).isEqualTo(SPAN_ID);
    assertThat(server.spanId()).isNotEqualTo(e.parent().spanId()).isNotZero();
    assertThat(server.tracestate()).isEqualTo("rojo=1");
    assertThat(server.flags()).isEqualTo(e.parent().flags());
    assertThat(e.parent().requestId()).isNull();
  }

  @Test
  void askedWithoutAnIdFirst_thenWithOne_givesACopyWithANewIdEachCall() {
    Extraction e = extract(true);
    TraceContext plain = e.newServerContext();
    Ids ids = new Ids();

    TraceContext first = e.newServerContext(ids);
    TraceContext second = e.newServerContext(ids);

    assertThat(plain.requestId()).isNull();
    assertThat(first).isEqualTo(plain).isNotSameAs(plain); // same span, as withRequestId gives
    assertThat(first.requestId()).isEqualTo(NEW_ID + "#1");
    assertThat(second.requestId()).isEqualTo(NEW_ID + "#2");
    assertThat(e.newServerContext()).isSameAs(plain);
  }

  @Test
  void sameAsTheOldTwoSteps_forEveryShapeOfInput() {
    String[][] inputs = {
      {},
      {"X-Request-Id", UUID},
      {"X-Request-Id", "req-1"},
      {"X-Request-Id", "a\r\nb"},
      {"traceparent", TRACEPARENT},
      {"traceparent", TRACEPARENT, "X-Request-Id", "req-2"},
      {"traceparent", "bad", "X-Request-Id", UUID},
      {"traceparent", "bad"},
      {"b3", CompositeExtractorTest.B3},
    };
    for (boolean trusted : new boolean[] {true, false}) {
      for (String[] headers : inputs) {
        TraceContext once = extract(trusted, headers).newServerContext(() -> NEW_ID);
        TraceContext old = extract(trusted, headers).newServerContext();
        if (old.requestId() == null) old = old.withRequestId(NEW_ID);

        String what = (trusted ? "trusted " : "untrusted ") + List.of(headers);
        assertThat(once.requestId()).as(what).isEqualTo(old.requestId());
        assertThat(once.hasParent()).as(what).isEqualTo(old.hasParent());
        assertThat(once.parentId()).as(what).isEqualTo(old.parentId());
        assertThat(once.flags()).as(what).isEqualTo(old.flags());
        assertThat(once.tracestate()).as(what).isEqualTo(old.tracestate());
        if (old.hasParent() || !old.random()) { // not random: from the input, so comparable
          assertThat(once.traceIdString()).as(what).isEqualTo(old.traceIdString());
        }
      }
    }
  }

  @Test
  void racingFirstCalls_allGetTheOneContext() throws Exception {
    int threads = 4;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (int round = 0; round < 200; round++) {
        Extraction e = extract(true);
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Future<TraceContext>> got = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          boolean withId = t % 2 == 0;
          got.add(
              pool.submit(
                  () -> {
                    start.await();
                    return withId ? e.newServerContext(new Ids()) : e.newServerContext();
                  }));
        }
        List<TraceContext> contexts = new ArrayList<>();
        for (Future<TraceContext> f : got) contexts.add(f.get());
        TraceContext kept = e.newServerContext();
        for (TraceContext c : contexts) {
          // A with-id caller that lost to a plain one gets a copy of the kept context.
          assertThat(c).isEqualTo(kept);
          if (kept.requestId() != null || c.requestId() == null) assertThat(c).isSameAs(kept);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
