package io.hoptrace.proxy.outbound;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which targets may stay on the I/O thread: only those the loop guard resolves without DNS. */
class WorkerDispatchHandlerTest {
  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.1", "10.0.0.255", "0.0.0.0", "::1", "fe80::1%eth0"})
  void addressLiterals_needNoLookup(String host) {
    assertThat(WorkerDispatchHandler.isAddressLiteral(host)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "localhost",
        "example.com",
        "256.0.0.1",
        "1.2.3",
        "1.2.3.4.5",
        "1..3.4",
        "1.2.3.",
        ".1.2.3",
        "1.2.3.4a",
        "0x7f.0.0.1",
        "1234.1.1.1"
      })
  void namesAndOddForms_goToAWorker(String host) {
    assertThat(WorkerDispatchHandler.isAddressLiteral(host)).isFalse();
  }
}
