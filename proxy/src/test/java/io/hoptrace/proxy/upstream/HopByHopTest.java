package io.hoptrace.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HopByHopTest {
  @Test
  void connectionTokens_areLowercasedTrimmedAndDeduplicated() {
    assertThat(HopByHop.connectionTokens(" Close, X-Foo ,,x-foo,Keep-Alive"))
        .containsExactlyInAnyOrder("close", "x-foo", "keep-alive");
    assertThat(HopByHop.connectionTokens(null)).isEmpty();
    assertThat(HopByHop.connectionTokens("")).isEmpty();
  }

  @Test
  void fixedFields_areHopByHop_inAnyCase() {
    for (String name :
        new String[] {
          "Connection",
          "KEEP-ALIVE",
          "Proxy-Connection",
          "TE",
          "Trailer",
          "Transfer-Encoding",
          "Upgrade",
          "Proxy-Authorization",
          "Proxy-Authenticate"
        }) {
      assertThat(HopByHop.isHopByHop(name, Set.of())).as(name).isTrue();
    }
  }

  @Test
  void fieldsNamedInConnection_areHopByHop_othersAreNot() {
    Set<String> tokens = HopByHop.connectionTokens("X-Secret");
    assertThat(HopByHop.isHopByHop("x-secret", tokens)).isTrue();
    assertThat(HopByHop.isHopByHop("X-Other", tokens)).isFalse();
    assertThat(HopByHop.isHopByHop("traceparent", tokens)).isFalse();
  }

  @Test
  void everyFixedField_isFound_inEveryCase_andNothingElse() {
    for (String field : HopByHop.FIELDS) {
      String upper = field.toUpperCase(java.util.Locale.ROOT);
      assertThat(HopByHop.isHopByHop(field, Set.of())).as(field).isTrue();
      assertThat(HopByHop.isHopByHop(upper, Set.of())).as(upper).isTrue();
      // same length, one letter off: not hop-by-hop
      String near = "x" + field.substring(1);
      assertThat(HopByHop.isHopByHop(near, Set.of())).as(near).isFalse();
    }
    assertThat(HopByHop.isHopByHop("Host", Set.of())).isFalse();
    assertThat(HopByHop.isHopByHop("", Set.of())).isFalse();
  }

  @Test
  void theUsualConnectionValues_giveTheirOneToken() {
    assertThat(HopByHop.connectionTokens("keep-alive")).containsExactly("keep-alive");
    assertThat(HopByHop.connectionTokens("Keep-Alive")).containsExactly("keep-alive");
    assertThat(HopByHop.connectionTokens("close")).containsExactly("close");
    assertThat(HopByHop.connectionTokens("CLOSE")).containsExactly("close");
    assertThat(HopByHop.isHopByHop("Close", HopByHop.connectionTokens("close"))).isTrue();
  }

  @Test
  void connectionTokensOf_headerLines_asTheirCommaJoinedValue() {
    HeaderMap one = new HeaderMap();
    one.add(Headers.CONNECTION, "Keep-Alive");
    HeaderMap two = new HeaderMap();
    two.add(Headers.CONNECTION, "close");
    two.add(HttpString.tryFromString("connection"), "X-Foo");

    assertThat(HopByHop.connectionTokensOf(one.get(Headers.CONNECTION)))
        .containsExactly("keep-alive");
    assertThat(HopByHop.connectionTokensOf(two.get(Headers.CONNECTION)))
        .containsExactlyInAnyOrder("close", "x-foo");
    assertThat(HopByHop.connectionTokensOf(new HeaderMap().get(Headers.CONNECTION))).isEmpty();
  }
}
