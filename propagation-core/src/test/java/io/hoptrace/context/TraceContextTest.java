package io.hoptrace.context;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TraceContextTest {
  @Test
  void traceIdString_isLowercaseHex32_highThenLow() {
    TraceContext c =
        TraceContext.newBuilder()
            .traceId(0x0af7651916cd43ddL, 0x8448eb211c80319cL)
            .spanId(1)
            .build();

    assertThat(c.traceIdString()).isEqualTo("0af7651916cd43dd8448eb211c80319c");
    assertThat(c.spanIdString()).isEqualTo("0000000000000001");
    assertThat(c.parentIdString()).isNull();
  }

  @Test
  void newChild_keepsTraceAndNamesParent() {
    TraceContext parent = TraceContext.newRoot("req-1");
    TraceContext child = parent.newChild();

    assertThat(child.traceIdString()).isEqualTo(parent.traceIdString());
    assertThat(child.parentId()).isEqualTo(parent.spanId());
    assertThat(child.spanId()).isNotEqualTo(parent.spanId()).isNotZero();
    assertThat(child.requestId()).isEqualTo("req-1");
  }

  /** A context with every field set, none to its default. */
  private static TraceContext everyFieldSet() {
    return TraceContext.newBuilder()
        .traceId(7, 8)
        .spanId(9)
        .parentId(10)
        .flags(0)
        .tracestate("a=b")
        .requestId("old")
        .build();
  }

  @Test
  void withRequestId_isTheBuilderCopy_withTheId() {
    TraceContext c = everyFieldSet();

    for (String id : new String[] {"new", null}) {
      TraceContext with = c.withRequestId(id);
      assertThat(with)
          .usingRecursiveComparison()
          .ignoringFields("traceIdString", "spanIdString", "hashCode") // lazy caches
          .isEqualTo(c.toBuilder().requestId(id).build());
      assertThat(with.requestId()).isEqualTo(id);
    }
  }

  /**
   * newChild and newChild(id) copy the fields themselves, not through the builder: compared field
   * by field (recursively, so a field added to the class and not copied fails here) with the
   * builder form they replace.
   */
  @Test
  void newChild_withOrWithoutId_isTheBuilderForm_everyField() {
    TraceContext c = everyFieldSet();

    TraceContext plain = c.newChild();
    assertThat(plain)
        .usingRecursiveComparison()
        .ignoringFields("traceIdString", "spanIdString", "hashCode") // lazy caches
        .isEqualTo(c.toBuilder().parentId(9).spanId(plain.spanId()).build());
    for (String id : new String[] {"new", null}) {
      TraceContext child = c.newChild(id);
      assertThat(child)
          .usingRecursiveComparison()
          .ignoringFields("traceIdString", "spanIdString", "hashCode")
          .isEqualTo(c.newChild().toBuilder().spanId(child.spanId()).requestId(id).build());
      assertThat(child.spanId()).isNotZero().isNotEqualTo(c.spanId());
    }
  }

  @Test
  void newRoot_isTheBuilderForm_everyField() {
    for (String id : new String[] {"req-1", null}) {
      TraceContext root = TraceContext.newRoot(id);
      assertThat(root)
          .usingRecursiveComparison()
          .ignoringFields("traceIdString", "spanIdString", "hashCode")
          .isEqualTo(
              TraceContext.newBuilder()
                  .traceId(root.traceIdHigh(), root.traceIdLow())
                  .spanId(root.spanId())
                  .flags(TraceContext.FLAG_SAMPLED | TraceContext.FLAG_RANDOM)
                  .requestId(id)
                  .build());
      assertThat(root.traceIdLow()).isNotZero();
      assertThat(root.spanId()).isNotZero();
    }
  }

  @Test
  void newRoot_isSampledAndRandom() {
    TraceContext root = TraceContext.newRoot(null);

    assertThat(root.sampled()).isTrue();
    assertThat(root.random()).isTrue();
    assertThat(root.hasParent()).isFalse();
  }

  @Test
  void build_zeroTraceId_throws() {
    assertThatThrownBy(() -> TraceContext.newBuilder().traceId(0, 0).spanId(1).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("traceId");
  }

  @Test
  void build_zeroSpanId_throws() {
    assertThatThrownBy(() -> TraceContext.newBuilder().traceId(0, 1).spanId(0).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("spanId");
  }

  @Test
  void hexCodec_rejectsUppercase() {
    assertThat(HexCodec.isLowerHex("00aF", 0, 4)).isFalse();
    assertThat(HexCodec.isLowerHex("00af", 0, 4)).isTrue();
    assertThat(HexCodec.parseLowerHex("00af", 0, 4)).isEqualTo(0xafL);
  }
}
