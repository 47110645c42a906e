package io.hoptrace.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every inbound test again with {@code upstream.client = same-loop} (Undertow's client on the IO
 * thread), plus what only that transport has to show: keep-alive reuse over many requests, and
 * nothing of Undertow's client's own added to the request.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class InboundProxySameLoopTest extends InboundProxyTest {
  InboundProxySameLoopTest() {
    upstreamClient = "same-loop";
  }

  @Test
  void manySequentialRequests_shareOneUpstreamConnection() throws Exception {
    start();
    for (int i = 0; i < 20; i++) assertThat(get("/r" + i).statusCode()).isEqualTo(200);
    Set<Integer> ports = new HashSet<>();
    for (int i = 0; i < 20; i++) ports.add(app.take().remotePort());
    assertThat(ports).hasSize(1);
  }

  @Test
  void undertowsClient_addsNoForwardedProto_ofItsOwn_theCallersIsKept() throws Exception {
    start();
    HttpResponse<String> response = get("/", "X-Forwarded-Proto", "https");
    assertThat(response.statusCode()).isEqualTo(200);
    // hoptrace's forwarded-headers stage appends; Undertow's client would have replaced it.
    assertThat(app.take().header("X-Forwarded-Proto")).startsWith("https");
  }
}
