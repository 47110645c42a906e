package io.hoptrace.testbed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.hoptrace.traces.SpanRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * The scorer on hand-built ground truth and span lines: what "online" credits when a wrong link
 * upstream has put several requests into one trace.
 */
class ScorerTest {
  static final String TA = "0000000000000000000000000000000a";
  static final String TB = "0000000000000000000000000000000b";

  final List<Truth.Inbound> inbound = new ArrayList<>();
  final List<Truth.Call> calls = new ArrayList<>();
  final Map<String, SpanRecord> spans = new HashMap<>();

  void server(String service, String gt, String trace, String id, @Nullable String parent) {
    inbound.add(new Truth.Inbound(service, gt, trace, id, true));
    span(trace, id, parent, "SERVER", service, "");
  }

  void span(
      String trace, String id, @Nullable String parent, String kind, String service, String score) {
    String line =
        "{\"traceId\":\""
            + trace
            + "\",\"id\":\""
            + id
            + "\""
            + (parent == null ? "" : ",\"parentId\":\"" + parent + "\"")
            + ",\"kind\":\""
            + kind
            + "\",\"name\":\"get /\",\"timestamp\":1700000000000000,\"duration\":1000"
            + ",\"localEndpoint\":{\"serviceName\":\""
            + service
            + "\"},\"tags\":{\"hoptrace.link\":\"inferred\",\"hoptrace.score\":\""
            + score
            + "\"}}";
    spans.put(id, SpanRecord.parse(line));
  }

  void call(String caller, String callerGt, String gt, String callee, int inFlight) {
    calls.add(new Truth.Call(caller, callerGt, gt, callee, inFlight, true, "/", 1, 0, 5));
  }

  /**
   * front serves A and B (traces TA, TB) and guessed both of their calls to b for A: b's requests
   * A.b and B.b both run in trace TA. b's own calls to c then reach c with TA whichever b request
   * hoptrace picked, so counting by trace id both are right. Per request: a CLIENT span that refine
   * left alone names the request linked at the start (A.b's call, guessed B.b: wrong); one that
   * refine moved no longer does, and its right trace earns 1/2 (TA is held by two of b's requests).
   */
  @Test
  void online_perRequest_splitsTheCreditOfATraceSharedByAnUpstreamMistake() {
    server("front", "A", TA, "00000000000000a1", null);
    server("front", "B", TB, "00000000000000b1", null);
    String start = "learned:p=0.600,calls=0";
    String moved = "learned:p=0.500,refined=1";
    span(TA, "00000000000000a2", "00000000000000a1", "CLIENT", "front", start);
    span(TA, "00000000000000b2", "00000000000000a1", "CLIENT", "front", start); // B's, guessed A
    server("b", "A.b", TA, "00000000000000a3", "00000000000000a2");
    server("b", "B.b", TA, "00000000000000b3", "00000000000000b2");
    span(TA, "00000000000000a4", "00000000000000b3", "CLIENT", "b", start); // A.b's, guessed B.b
    span(TA, "00000000000000b4", "00000000000000b3", "CLIENT", "b", moved);
    server("c", "A.b.c", TA, "00000000000000a5", "00000000000000a4");
    server("c", "B.b.c", TA, "00000000000000b5", "00000000000000b4");
    call("front", "A", "A.b", "b", 2);
    call("front", "B", "B.b", "b", 2);
    call("b", "A.b", "A.b.c", "c", 2);
    call("b", "B.b", "B.b.c", "c", 2);

    Scorer.Result r = Scorer.score("learned", inbound, calls, spans, null, "exp");

    assertThat(r.n[1]).isEqualTo(4);
    // by trace id: front→b 1 of 2 (A's), b→c 2 of 2
    assertThat(r.online[1]).isEqualTo(3);
    // per request: front 1 + 0; b: the unmoved span names B.b (0), the moved one 1/2
    assertThat(r.onlinePerRequest[1]).isCloseTo(1.5, within(1e-9));
    // the CLIENT spans name one request each: A's front call and B.b's c call are right
    assertThat(r.span[1]).isEqualTo(2);
    assertThat(Scorer.table(List.of(r)))
        .contains("| learned | online, per request | 4 | – | 37.5% |");
  }
}
