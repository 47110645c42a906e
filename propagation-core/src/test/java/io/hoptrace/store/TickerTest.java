package io.hoptrace.store;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TickerTest {
  @Test
  void system_readAt_isTheCallersStamp() {
    long stamp = System.nanoTime() - 5_000;
    assertThat(Ticker.system().readAt(stamp)).isEqualTo(stamp);
  }

  @Test
  void otherTickers_readAt_readTheirOwnTime() {
    ManualTicker manual = new ManualTicker(42);
    assertThat(manual.readAt(System.nanoTime())).isEqualTo(42);
    manual.advance(8);
    assertThat(manual.readAt(7)).isEqualTo(50);
    Ticker lambda = () -> 99;
    assertThat(lambda.readAt(1)).isEqualTo(99);
  }
}
