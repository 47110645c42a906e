package io.hoptrace.traces;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TraceAssemblerTest {
  static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

  static SpanRecord span(String id, String parent, String kind, long ts, long dur) {
    String p = parent == null ? "" : ",\"parentId\":\"" + parent + "\"";
    SpanRecord s =
        SpanRecord.parse(
            "{\"traceId\":\""
                + TRACE
                + "\",\"id\":\""
                + id
                + "\""
                + p
                + ",\"kind\":\""
                + kind
                + "\",\"name\":\"get /x\",\"timestamp\":"
                + ts
                + ",\"duration\":"
                + dur
                + ",\"localEndpoint\":{\"serviceName\":\"svc-"
                + id.charAt(15)
                + "\"}}");
    assertThat(s).isNotNull();
    return s;
  }

  static List<String> ids(Trace t) {
    List<String> out = new ArrayList<>();
    for (Trace.Row r : t.rows()) {
      SpanRecord s = r.node().span();
      out.add(r.depth() + ":" + (s == null ? "missing " + r.node().missingParentId() : s.id()));
    }
    return out;
  }

  @Test
  void assemble_fixtures_buildsTheCheckoutTree() {
    SpanLogReader r =
        new SpanLogReader()
            .readAll(SpanLogFiles.expand(List.of(Fixtures.logs()), new ArrayList<>()));
    List<Trace> traces = TraceAssembler.assemble(r.spans());
    assertThat(traces)
        .extracting(Trace::traceId)
        .containsExactly(Fixtures.ORPHAN, Fixtures.HEALTH, Fixtures.CHECKOUT);
    Trace checkout = traces.get(2);
    assertThat(ids(checkout))
        .containsExactly(
            "0:a000000000000001",
            "1:a000000000000002",
            "2:a000000000000003",
            "3:a000000000000004",
            "4:a000000000000005",
            "3:a000000000000006");
    assertThat(checkout.services()).containsExactly("front", "orders", "inventory");
    assertThat(checkout.durationMicros()).isEqualTo(48_200);
    assertThat(checkout.errorCount()).isEqualTo(2);
    assertThat(checkout.inferredCount()).isEqualTo(1);
    assertThat(checkout.requestIds()).containsExactly(Fixtures.REQUEST_ID);
    assertThat(checkout.rootName()).isEqualTo("get /checkout");
    assertThat(r.malformedLines()).isEqualTo(2);
  }

  @Test
  void assemble_absentParent_isShownUnderMissingMarker() {
    Trace t =
        TraceAssembler.assembleOne(
            TRACE,
            List.of(
                span("0000000000000002", "00000000000000ff", "SERVER", 10, 5),
                span("0000000000000003", "0000000000000002", "CLIENT", 11, 2)));
    assertThat(ids(t))
        .containsExactly("0:missing 00000000000000ff", "1:0000000000000002", "2:0000000000000003");
    assertThat(t.missingParentCount()).isEqualTo(1);
    assertThat(t.root()).isNotNull();
  }

  @Test
  void assemble_cycle_terminatesAndKeepsEverySpan() {
    Trace t =
        TraceAssembler.assembleOne(
            TRACE,
            List.of(
                span("0000000000000001", "0000000000000002", "SERVER", 10, 5),
                span("0000000000000002", "0000000000000001", "CLIENT", 11, 2),
                span("0000000000000003", "0000000000000003", "CLIENT", 12, 2)));
    assertThat(t.rows()).extracting(r -> r.node().span()).filteredOn(s -> s != null).hasSize(3);
  }

  @Test
  void assemble_sharedSpanId_putsServerUnderClient() {
    Trace t =
        TraceAssembler.assembleOne(
            TRACE,
            List.of(
                span("0000000000000001", null, "SERVER", 10, 50),
                span("0000000000000002", "0000000000000001", "CLIENT", 11, 20),
                span("0000000000000002", "0000000000000001", "SERVER", 12, 18),
                span("0000000000000004", "0000000000000002", "CLIENT", 13, 2)));
    assertThat(t.rows())
        .extracting(r -> r.depth() + ":" + r.node().span().kind())
        .containsExactly("0:SERVER", "1:CLIENT", "2:SERVER", "3:CLIENT");
  }

  @Test
  void assemble_deepChain_doesNotOverflowTheStack() {
    List<SpanRecord> chain = new ArrayList<>();
    for (int i = 1; i <= 20_000; i++) {
      chain.add(
          span(
              String.format("%016x", i),
              i == 1 ? null : String.format("%016x", i - 1),
              "CLIENT",
              i,
              1));
    }
    Trace t = TraceAssembler.assembleOne(TRACE, chain);
    assertThat(t.rows()).hasSize(20_000);
  }
}
