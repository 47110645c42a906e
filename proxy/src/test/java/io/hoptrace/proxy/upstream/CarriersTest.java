package io.hoptrace.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.undertow.util.HeaderMap;
import io.undertow.util.HttpString;
import org.junit.jupiter.api.Test;

class CarriersTest {
  @Test
  void undertowGetter_findsAnyCase_joinsLines_andSaysNullWhenAbsent() {
    HeaderMap headers = new HeaderMap();
    headers.add(HttpString.tryFromString("TraceParent"), "a");
    headers.add(HttpString.tryFromString("X-Multi"), "1");
    headers.add(HttpString.tryFromString("x-multi"), "2");

    for (int round = 0; round < 2; round++) { // the second time from the kept names
      assertThat(Carriers.UNDERTOW_GETTER.get(headers, "traceparent")).isEqualTo("a");
      assertThat(Carriers.UNDERTOW_GETTER.get(headers, "TRACEPARENT")).isEqualTo("a");
      assertThat(Carriers.UNDERTOW_GETTER.get(headers, "x-multi")).isEqualTo("1,2");
      assertThat(Carriers.UNDERTOW_GETTER.get(headers, "tracestate")).isNull();
    }
  }

  @Test
  void undertowSetter_replacesEveryLine() {
    HeaderMap headers = new HeaderMap();
    headers.add(HttpString.tryFromString("X-Request-Id"), "old");
    headers.add(HttpString.tryFromString("x-request-id"), "older");

    Carriers.UNDERTOW_SETTER.set(headers, "X-Request-Id", "new");

    assertThat(headers.get("x-request-id")).containsExactly("new");
  }

  @Test
  void undertowSetter_remove_dropsEveryLineInAnyCase_andLeavesTheRest() {
    for (int round = 0; round < 2; round++) { // the second time from the kept names
      HeaderMap headers = new HeaderMap();
      headers.add(HttpString.tryFromString("B3"), "1");
      headers.add(HttpString.tryFromString("b3"), "2");
      headers.add(HttpString.tryFromString("X-Other"), "kept");

      Carriers.UNDERTOW_SETTER.remove(headers, "b3");
      Carriers.UNDERTOW_SETTER.remove(headers, "tracestate"); // absent: nothing happens

      assertThat(headers.get("b3")).isNull();
      assertThat(headers.get("x-other")).containsExactly("kept");
      assertThat(headers.size()).isEqualTo(1);
    }
  }

  @Test
  void keptNames_areOneHttpString_equalInAnyCase() {
    assertThat(Carriers.httpString("X-Kept")).isSameAs(Carriers.httpString("X-Kept"));
    assertThat(Carriers.httpString("X-Kept")).isEqualTo(HttpString.tryFromString("x-kept"));
  }
}
