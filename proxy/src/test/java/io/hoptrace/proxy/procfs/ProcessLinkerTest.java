package io.hoptrace.proxy.procfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProcessLinkerTest {
  /** Request name → owner pid; 0 = unknown. */
  private static Map<String, Long> owners(Object... nameAndPid) {
    Map<String, Long> m = new LinkedHashMap<>();
    for (int i = 0; i < nameAndPid.length; i += 2) {
      m.put((String) nameAndPid[i], ((Number) nameAndPid[i + 1]).longValue());
    }
    return m;
  }

  @Test
  void narrow_syncWorkersAllKnown_isProcessLink() {
    ProcessLinker.Result<String> r =
        ProcessLinker.narrow(102, owners("a", 101, "b", 102, "c", 103));

    assertThat(r.kind()).isEqualTo(ProcessLinker.Kind.PROCESS);
    assertThat(r.single()).isEqualTo("b");
    assertThat(r.candidates()).containsExactly("b");
  }

  @Test
  void narrow_threadedWorker_narrowsToItsOwn() {
    ProcessLinker.Result<String> r =
        ProcessLinker.narrow(102, owners("a", 101, "b", 102, "c", 102, "d", 103));

    assertThat(r.kind()).isEqualTo(ProcessLinker.Kind.NARROWED);
    assertThat(r.candidates()).containsExactly("b", "c");
    assertThatThrownBy(r::single).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void narrow_oneOwnButSomeUnknown_keepsTheUnknownAndIsNotExact() {
    ProcessLinker.Result<String> r = ProcessLinker.narrow(102, owners("a", 101, "b", 102, "c", 0));

    assertThat(r.kind()).isEqualTo(ProcessLinker.Kind.NARROWED);
    assertThat(r.candidates()).containsExactly("b", "c");
  }

  @Test
  void narrow_unknownOutboundOwner_isUnchanged() {
    ProcessLinker.Result<String> r = ProcessLinker.narrow(0, owners("a", 101, "b", 102));

    assertThat(r.kind()).isEqualTo(ProcessLinker.Kind.UNCHANGED);
    assertThat(r.candidates()).containsExactly("a", "b");
  }

  @Test
  void narrow_ownerHoldsNoInFlightRequest_isUnchanged() {
    ProcessLinker.Result<String> r = ProcessLinker.narrow(999, owners("a", 101, "b", 102));

    assertThat(r.kind()).isEqualTo(ProcessLinker.Kind.UNCHANGED);
    assertThat(r.candidates()).containsExactly("a", "b");
  }

  @Test
  void narrow_ownAndUnknownCoverEverything_isUnchanged() {
    ProcessLinker.Result<String> r = ProcessLinker.narrow(102, owners("b", 102, "c", 102, "d", 0));

    assertThat(r.kind()).isEqualTo(ProcessLinker.Kind.UNCHANGED);
    assertThat(r.candidates()).hasSize(3);
  }

  @Test
  void narrow_singleInFlightOwnedByCaller_isProcess() {
    ProcessLinker.Result<String> r = ProcessLinker.narrow(7, owners("only", 7));

    assertThat(r.kind()).isEqualTo(ProcessLinker.Kind.PROCESS);
  }

  @Test
  void narrow_nothingInFlight_isUnchangedAndEmpty() {
    ProcessLinker.Result<String> r = ProcessLinker.narrow(7, owners());

    assertThat(r.kind()).isEqualTo(ProcessLinker.Kind.UNCHANGED);
    assertThat(r.candidates()).isEmpty();
  }

  @Test
  void narrow_mapWithNullOwner_countsAsUnknown() {
    Map<String, Long> m = new HashMap<>();
    m.put("a", 7L);
    m.put("b", null);
    m.put("c", 8L);

    ProcessLinker.Result<String> r = ProcessLinker.narrow(7, m);

    assertThat(r.kind()).isEqualTo(ProcessLinker.Kind.NARROWED);
    assertThat(r.candidates()).containsExactlyInAnyOrder("a", "b");
  }

  /** The correlator's own types plug in through a constant function. */
  record Inbound(String id, long ownerPid) {}

  private static final java.util.function.ToLongFunction<Inbound> OWNER = Inbound::ownerPid;

  @Test
  void narrow_withOwnerFunction_worksOnAnyType() {
    List<Inbound> inFlight = List.of(new Inbound("x", 5), new Inbound("y", 6));

    ProcessLinker.Result<Inbound> r = ProcessLinker.narrow(6, inFlight, OWNER);

    assertThat(r.single().id()).isEqualTo("y");
  }
}
