package io.hoptrace.proxy.guard;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.span.Kind;
import io.hoptrace.span.Span;
import io.undertow.Undertow;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Heap shedding against a heap reading the test controls: sheds, then recovers. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class OverloadHandlerTest {
  @Test
  void heapNearItsLimit_503_thenServesAgainWhenItFalls() throws Exception {
    AtomicLong percent = new AtomicLong(99);
    List<Span> spans = new CopyOnWriteArrayList<>();
    ProxyMetrics metrics = new ProxyMetrics();
    Refusals refusals = new Refusals("svc", Kind.SERVER, spans::add, metrics);
    OverloadHandler handler =
        new OverloadHandler(
            100,
            0.95,
            () -> percent.get() / 100.0,
            refusals,
            exchange -> exchange.getResponseSender().send("ok"));
    Undertow server = Undertow.builder().addHttpListener(0, "127.0.0.1", handler).build();
    server.start();
    try {
      InetSocketAddress address = (InetSocketAddress) server.getListenerInfo().get(0).getAddress();
      String request = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
      Raw shed = Raw.send(address, request, 3000);
      assertThat(shed.status()).isEqualTo(503);
      assertThat(shed.header("Proxy-Status")).contains("error=proxy_internal_error");
      assertThat(spans).hasSize(1);
      assertThat(spans.get(0).tag("error")).startsWith("refused: overloaded: heap 99%");

      percent.set(50);
      assertThat(Raw.send(address, request, 3000).status()).isEqualTo(200);
      assertThat(metrics.counter(RefusalReason.OVERLOADED.metricName()).getCount()).isEqualTo(1);
    } finally {
      server.stop();
    }
  }

  @Test
  void heapPressure_isAFractionOfTheMaximum() {
    double ratio = new HeapPressure().getAsDouble();
    assertThat(ratio).isBetween(0.0, 1.0);
  }
}
