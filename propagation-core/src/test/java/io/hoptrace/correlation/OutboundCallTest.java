package io.hoptrace.correlation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hoptrace.context.TraceContext;
import org.junit.jupiter.api.Test;

/**
 * {@link OutboundCall#of} (the outbound hop's per-request form) and the builder make the same call:
 * each argument lands in its own field (distinct values, so two swapped parameters fail), and both
 * normalize the query alike.
 */
class OutboundCallTest {
  static final TraceContext FORWARDED = TraceContext.newRoot("req-app");
  static final Object SOCKET = new Object();

  @Test
  void of_putsEachArgumentInItsField_asTheBuilderDoes() {
    OutboundCall call =
        OutboundCall.of(FORWARDED, "req-app", "10.0.0.1:8080", "POST", "/p", "q=1", 42L, SOCKET);

    assertThat(call.forwardedContext()).isSameAs(FORWARDED);
    assertThat(call.forwardedRequestId()).isEqualTo("req-app");
    assertThat(call.authority()).isEqualTo("10.0.0.1:8080");
    assertThat(call.method()).isEqualTo("POST");
    assertThat(call.path()).isEqualTo("/p");
    assertThat(call.query()).isEqualTo("q=1");
    assertThat(call.startNanos()).isEqualTo(42L);
    assertThat(call.connectionKey()).isSameAs(SOCKET);
    assertThat(call)
        .usingRecursiveComparison()
        .isEqualTo(
            OutboundCall.newBuilder()
                .forwardedContext(FORWARDED)
                .forwardedRequestId("req-app")
                .authority("10.0.0.1:8080")
                .method("POST")
                .path("/p")
                .query("q=1")
                .startNanos(42L)
                .connectionKey(SOCKET)
                .build());
  }

  @Test
  void of_nullsWhereAllowed_andAnEmptyQueryIsNone() {
    OutboundCall call = OutboundCall.of(null, null, "h:1", "GET", "/", "", 0L, null);

    assertThat(call.forwardedContext()).isNull();
    assertThat(call.forwardedRequestId()).isNull();
    assertThat(call.query()).isNull();
    assertThat(call.connectionKey()).isNull();
    assertThat(OutboundCall.of(null, null, "h:1", "GET", "/", null, 0L, null).query()).isNull();
    assertThat(call)
        .usingRecursiveComparison()
        .isEqualTo(
            OutboundCall.newBuilder().authority("h:1").method("GET").path("/").query("").build());
  }

  @Test
  void of_refusesAMissingAuthorityMethodOrPath() {
    assertThatThrownBy(() -> OutboundCall.of(null, null, null, "GET", "/", null, 0L, null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("authority");
    assertThatThrownBy(() -> OutboundCall.of(null, null, "h:1", null, "/", null, 0L, null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("method");
    assertThatThrownBy(() -> OutboundCall.of(null, null, "h:1", "GET", null, null, 0L, null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("path");
  }
}
