package io.hoptrace.proxy.outbound;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SpanNamesTest {
  final SpanNames names = new SpanNames();

  @Test
  void name_isTheLowerCasedMethodAndThePath_keptForTheNextCall() {
    String first = names.of("GET", "/orders/7");
    assertThat(first).isEqualTo("get /orders/7");
    assertThat(names.of("GET", new String("/orders/7"))).isSameAs(first);
    assertThat(names.of("POST", "/orders/7")).isEqualTo("post /orders/7");
  }

  @Test
  void manyPaths_eachGetsItsOwnName_whateverTheyEvict() {
    for (int round = 0; round < 2; round++) {
      for (int i = 0; i < 500; i++) {
        assertThat(names.of("PUT", "/p/" + i)).isEqualTo("put /p/" + i);
      }
    }
  }
}
