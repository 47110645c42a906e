package io.hoptrace.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
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

  /**
   * copyEndToEnd walks the map by its cookies and the values by index: the result must be what the
   * map's iterator and {@code addAll} gave (same fields, same order, same values in order), also
   * for maps whose table rows hold several fields, fields emptied in place, several values, and a
   * target that already has some of the names.
   */
  @Test
  void copyEndToEnd_copiesWhatTheIteratorAndAddAllCopied_inTheSameOrder() {
    Random random = new Random(7);
    for (int round = 0; round < 200; round++) {
      HeaderMap from = new HeaderMap();
      int fields = 1 + random.nextInt(round < 100 ? 12 : 80);
      List<HttpString> names = new ArrayList<>();
      for (int i = 0; i < fields; i++) {
        HttpString name =
            switch (random.nextInt(6)) {
              case 0 -> Headers.CONNECTION;
              case 1 -> Headers.CONTENT_TYPE;
              case 2 -> HttpString.tryFromString("X-Secret");
              default -> HttpString.tryFromString("X-F" + random.nextInt(1000));
            };
        names.add(name);
        int values = 1 + random.nextInt(3);
        for (int v = 0; v < values; v++) from.add(name, "v" + round + "-" + i + "-" + v);
      }
      if (random.nextBoolean()) from.get(names.get(random.nextInt(names.size()))).clear();
      Set<String> tokens = random.nextBoolean() ? Set.of() : Set.of("x-secret");
      HeaderMap expected = new HeaderMap();
      HeaderMap actual = new HeaderMap();
      if (random.nextBoolean()) {
        HttpString name = names.get(random.nextInt(names.size()));
        expected.add(name, "already");
        actual.add(name, "already");
      }
      for (HeaderValues values : from) { // the copy as it was
        if (HopByHop.isHopByHop(values.getHeaderName().toString(), tokens)) continue;
        expected.addAll(values.getHeaderName(), values);
      }
      HopByHop.copyEndToEnd(from, tokens, actual);
      assertThat(lines(actual)).as("round %d", round).isEqualTo(lines(expected));
    }
  }

  /** Every field line of {@code map} as the map iterates them, "name: value". */
  private static List<String> lines(HeaderMap map) {
    List<String> lines = new ArrayList<>();
    for (HeaderValues values : map) {
      for (String value : values) lines.add(values.getHeaderName() + ": " + value);
    }
    return lines;
  }

  /** The shared sets of the usual Connection values answer as any set of the same tokens. */
  @Test
  void usualConnectionValues_answerAsTheSameTokensInAnotherSet() {
    Set<String> keepAlive = HopByHop.connectionTokens("keep-alive");
    Set<String> close = HopByHop.connectionTokens("close");
    Set<String> keepAliveCopy = new java.util.HashSet<>(keepAlive);
    Set<String> closeCopy = new java.util.HashSet<>(close);
    for (String name :
        new String[] {
          "close", "CLOSE", "Close", "keep-alive", "Keep-Alive", "closer", "clos", "X-Foo", "Date"
        }) {
      assertThat(HopByHop.isHopByHop(name, keepAlive))
          .as("keep-alive: %s", name)
          .isEqualTo(HopByHop.isHopByHop(name, keepAliveCopy));
      assertThat(HopByHop.isHopByHop(name, close))
          .as("close: %s", name)
          .isEqualTo(HopByHop.isHopByHop(name, closeCopy));
    }
    assertThat(HopByHop.isHopByHop("Close", close)).isTrue();
    assertThat(HopByHop.isHopByHop("Close", keepAlive)).isFalse();
  }
}
