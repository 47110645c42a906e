package io.hoptrace.proxy.procfs;

import static io.hoptrace.proxy.procfs.TestAddresses.at;
import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.context.TraceContext;
import io.hoptrace.correlation.CandidateFilter;
import io.hoptrace.correlation.InboundRegistry;
import io.hoptrace.correlation.InboundRequest;
import io.hoptrace.correlation.OutboundCall;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The process evidence over a fake /proc: a prefork app, master 100 and workers 101, 102. */
class ProcessEvidenceTest {
  static final int APP_PORT = 8080;
  static final String LO = "127.0.0.1";

  @TempDir Path dir;
  final InboundRegistry registry = InboundRegistry.newBuilder().build();
  int requests;
  FakeProc proc;

  ProcessEvidence evidence(long[] worker101, long[] worker102) {
    proc = new FakeProc(dir);
    proc.listen(APP_PORT, 500)
        .connection(LO, 40001, LO, 15001, 601) // the app's outbound call
        .connection(LO, APP_PORT, LO, 50001, 701)
        .connection(LO, APP_PORT, LO, 50002, 702)
        .connection(LO, APP_PORT, LO, 50003, 0) // in the accept queue: nobody holds it
        .connection(LO, APP_PORT, LO, 50004, 704)
        .process(1, 0, "init")
        .process(100, 1, "gunicorn: master", 500)
        .process(101, 100, "gunicorn: worker", concat(500, worker101))
        .process(102, 100, "gunicorn: worker", concat(500, worker102));
    return new ProcessEvidence(
        new SocketOwnership(
            SocketOwnership.Options.newBuilder()
                .procRoot(dir)
                .appPort(APP_PORT)
                .lookupBudget(Duration.ofSeconds(5))
                .build(),
            new ProcFs(dir)));
  }

  static long[] concat(long first, long[] rest) {
    long[] all = new long[rest.length + 1];
    all[0] = first;
    System.arraycopy(rest, 0, all, 1, rest.length);
    return all;
  }

  InboundRequest inbound(int hoptracePort) {
    requests++;
    InboundRequest r =
        registry.begin(TraceContext.newRoot("r" + requests), "GET /", "r" + requests, null, 1);
    if (hoptracePort > 0) r.bindConnection(SocketKey.of(at(LO, APP_PORT), at(LO, hoptracePort)));
    return r;
  }

  static OutboundCall call() {
    return OutboundCall.newBuilder()
        .connectionKey(SocketKey.of(at(LO, 40001), at(LO, 15001)))
        .build();
  }

  @Test
  void callerOwnsOne_othersOwnedElsewhereQueuedOrUnsent_isExact() {
    ProcessEvidence e = evidence(new long[] {601, 701}, new long[] {702});
    InboundRequest mine = inbound(50001);
    List<InboundRequest> candidates =
        List.of(inbound(50002), mine, inbound(50003), inbound(0 /* not sent yet */));

    CandidateFilter.Narrowing n = e.narrow(call(), candidates);

    assertThat(n).isNotNull();
    assertThat(n.exact()).isSameAs(mine);
    assertThat(e.processLinks()).isEqualTo(1);
  }

  @Test
  void callerOwnsSeveral_isTheSubsetOfItsOwn() {
    ProcessEvidence e = evidence(new long[] {601, 701, 704}, new long[] {702});
    InboundRequest a = inbound(50001);
    InboundRequest b = inbound(50004);

    CandidateFilter.Narrowing n = e.narrow(call(), List.of(a, inbound(50002), b));

    assertThat(n).isNotNull();
    assertThat(n.exact()).isNull();
    assertThat(n.candidates()).containsExactlyInAnyOrder(a, b);
    assertThat(e.narrowedLinks()).isEqualTo(1);
  }

  @Test
  void aConnectionTheCallerClosedSinceItWasCached_isNotItsAnyMore_soTheLinkIsExact() {
    ProcessEvidence e = evidence(new long[] {601, 701, 704}, new long[] {702});
    InboundRequest answered = inbound(50004);
    InboundRequest mine = inbound(50001);
    // First call: worker 101 holds both connections; their owners are cached.
    CandidateFilter.Narrowing first = e.narrow(call(), List.of(answered, inbound(50002), mine));
    assertThat(first).isNotNull();
    assertThat(first.candidates()).containsExactlyInAnyOrder(answered, mine);
    // The worker answered "answered" and closed its side (fd 6: 500, 601, 701, 704 from fd 3);
    // hoptrace has not yet read the close, so "answered" is still in flight, its owner cached.
    proc.appClosed(APP_PORT, 50004, 101, 6);

    CandidateFilter.Narrowing n = e.narrow(call(), List.of(answered, inbound(50002), mine));

    assertThat(n).isNotNull();
    assertThat(n.exact()).isSameAs(mine);
    assertThat(e.rechecked()).isEqualTo(2);
    assertThat(e.processLinks()).isEqualTo(1);
  }

  @Test
  void callerHoldsEveryRequest_nothingToNarrow_countedAsHeldAll() {
    ProcessEvidence e = evidence(new long[] {601, 701, 704}, new long[] {702});

    assertThat(e.narrow(call(), List.of(inbound(50001), inbound(50004)))).isNull();
    assertThat(e.heldAll()).isEqualTo(1);
    assertThat(e.narrowedLinks()).isZero();
  }

  @Test
  void unknownOwner_keepsTheCandidate_soTheLinkIsNotExact() {
    ProcessEvidence e = evidence(new long[] {601, 701}, new long[] {702});
    InboundRequest mine = inbound(50001);
    InboundRequest unknown = inbound(50099); // no row at all

    CandidateFilter.Narrowing n = e.narrow(call(), List.of(mine, inbound(50002), unknown));

    assertThat(n).isNotNull();
    assertThat(n.exact()).isNull();
    assertThat(n.candidates()).containsExactlyInAnyOrder(mine, unknown);
    assertThat(e.retried()).isEqualTo(1);
  }

  @Test
  void callerNotFound_isNoEvidence() {
    ProcessEvidence e = evidence(new long[] {701}, new long[] {702}); // nobody holds 601

    assertThat(e.narrow(call(), List.of(inbound(50001), inbound(50002)))).isNull();
  }

  @Test
  void noOutboundKey_isNoEvidence_withoutALookup() {
    ProcessEvidence e = evidence(new long[] {601, 701}, new long[] {702});

    assertThat(e.narrow(OutboundCall.newBuilder().build(), List.of(inbound(50001)))).isNull();
    assertThat(e.asked()).isZero();
  }
}
