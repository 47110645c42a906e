package io.hoptrace.proxy.outbound;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.config.Settings;
import io.hoptrace.proxy.Hoptrace;
import io.hoptrace.proxy.testing.RawHttp;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A whole hoptrace with the outbound hop on: what it announces, and the loop guard's view. */
class OutboundStartupTest {
  @TempDir Path dir;

  /** {@code outbound.engine}: the relay (the default); a subclass runs the test on undertow. */
  String outboundEngine = "relay";

  @Test
  void start_announcesOutboundAndRoutes_andRefusesItsOwnPortsAsTargets() throws Exception {
    ByteArrayOutputStream announced = new ByteArrayOutputStream();
    Settings settings =
        Settings.load(
            null,
            Map.of(),
            Map.of(
                "inbound.host", "127.0.0.1",
                "inbound.port", "0",
                "admin.port", "0",
                "outbound.port", "0",
                "outbound.engine", outboundEngine,
                "routes.orders.listen", "0",
                "routes.orders.upstream", "127.0.0.1:1",
                "span-log.path", dir.resolve("spans.jsonl").toString()));
    try (Hoptrace hoptrace =
        Hoptrace.start(settings, new PrintStream(announced, true, StandardCharsets.UTF_8))) {
      int proxy = hoptrace.outbound().forwardProxyAddress().getPort();
      int route = hoptrace.outbound().routeAddresses().get("orders").getPort();
      assertThat(announced.toString(StandardCharsets.UTF_8))
          .contains("hoptrace: outbound listening on 127.0.0.1:" + proxy + "\n")
          .contains("hoptrace: route orders listening on 127.0.0.1:" + route + "\n");

      InetAddress loopback = InetAddress.getLoopbackAddress();
      for (int own :
          new int[] {
            hoptrace.inboundAddress().getPort(), hoptrace.adminAddress().getPort(), proxy, route
          }) {
        String response =
            RawHttp.exchange(
                loopback,
                proxy,
                "GET http://127.0.0.1:"
                    + own
                    + "/ HTTP/1.1\r\nHost: 127.0.0.1:"
                    + own
                    + "\r\nConnection: close\r\n\r\n",
                3000);
        assertThat(RawHttp.status(response)).as("target port %d", own).isEqualTo(403);
      }
      assertThat(hoptrace.metrics().counter(Refusal.LOOP.metricName()).getCount()).isEqualTo(4);
    }
  }
}
