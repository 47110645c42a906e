package io.hoptrace.span;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class IntTextsTest {
  @Test
  void isIntegerToString_everywhere() {
    for (int i : new int[] {Integer.MIN_VALUE, -1, 0, 1, 9, 10, 200, 404, 599, 999, 1000, 65535}) {
      assertThat(IntTexts.of(i)).as("%d", i).isEqualTo(Integer.toString(i));
    }
  }

  @Test
  void sharesTheSmallOnes() {
    assertThat(IntTexts.of(200)).isSameAs(IntTexts.of(200));
  }
}
