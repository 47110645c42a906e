package io.hoptrace.span;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SpanBuilderResetTest {
  final SpanLineEncoder encoder = SpanLineEncoder.create();

  String line(Span.Builder b) {
    LineBuffer out = new LineBuffer();
    encoder.encode(b, out);
    return new String(out.toByteArray(), StandardCharsets.UTF_8);
  }

  static Span.Builder fill(Span.Builder b) {
    return b.traceId(0x0af7651916cd43ddL, 0x8448eb211c80319cL)
        .id(0xb7ad6b7169203331L)
        .kind(Kind.SERVER)
        .name("get /a")
        .timestampMicros(1_700_000_000_000_000L)
        .durationMicros(12)
        .serviceName("orders")
        .tag("http.method", "GET");
  }

  @Test
  void reset_builderFilledAgain_encodesAsAFreshOne() {
    Span.Builder reused =
        fill(Span.newBuilder())
            .parentId(0x00f067aa0ba902b7L)
            .remoteEndpoint("10.0.0.7", 54321)
            .tag("http.path", "/a")
            .tag("error", "502");
    line(reused);

    fill(reused.reset());

    assertThat(line(reused)).isEqualTo(line(fill(Span.newBuilder())));
    assertThat(reused.build().tagCount()).isEqualTo(1);
  }

  @Test
  void reset_moreTagsThanTheFirstArray_startsAgainFromNone() {
    Span.Builder b = fill(Span.newBuilder());
    for (int i = 0; i < 40; i++) b.tag("k" + i, "v" + i); // grows the tag array

    b.reset();

    assertThat(fill(b).build().tagCount()).isEqualTo(1);
  }

  @Test
  void reset_idsAreGone_buildRefusesAsForAFreshBuilder() {
    Span.Builder b = fill(Span.newBuilder());

    b.reset();

    assertThatThrownBy(b::build).isInstanceOf(IllegalArgumentException.class);
  }
}
