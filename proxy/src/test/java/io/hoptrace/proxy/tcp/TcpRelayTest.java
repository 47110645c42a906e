package io.hoptrace.proxy.tcp;

import static io.hoptrace.proxy.tcp.RelayHarness.INBOUND;
import static io.hoptrace.proxy.tcp.RelayHarness.SOLE;
import static io.hoptrace.proxy.tcp.RelayHarness.assertNoLeak;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hoptrace.proxy.testing.RefusedPort;
import io.hoptrace.span.Kind;
import io.hoptrace.span.Span;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The relay over real sockets with protocol {@code tcp}: bytes unchanged, one span each. */
@Timeout(30)
class TcpRelayTest {
  final CollectingSink sink = new CollectingSink();
  final ExecutorService threads = Executors.newCachedThreadPool();
  ServerSocket upstream;
  Future<?> upstreamTask;
  TcpRelay relay;

  @AfterEach
  void tearDown() throws Exception {
    if (relay != null) relay.close();
    if (upstream != null) upstream.close();
    threads.shutdownNow();
    assertThat(threads.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
  }

  TcpRelay start(int upstreamPort) throws IOException {
    TcpRoute route =
        TcpRoute.of("echo", "127.0.0.1", 0, "127.0.0.1:" + upstreamPort, TcpProtocol.TCP);
    relay = TcpRelay.start("svc", List.of(route), SOLE, sink);
    return relay;
  }

  /** Upstream that echoes every byte as it arrives and closes after the end of stream. */
  void startEchoServer() throws IOException {
    upstream = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    upstreamTask =
        threads.submit(
            () -> {
              try (Socket s = upstream.accept()) {
                s.getInputStream().transferTo(s.getOutputStream());
              }
              return null;
            });
  }

  @Test
  void relay_tenMebibytesBothWays_bytesUnchanged() throws Exception {
    startEchoServer();
    start(upstream.getLocalPort());
    byte[] sent = new byte[10 * 1024 * 1024];
    new Random(42).nextBytes(sent);
    byte[] received;
    try (Socket app = new Socket(InetAddress.getLoopbackAddress(), relay.port("echo"))) {
      Future<?> writer =
          threads.submit(
              () -> {
                OutputStream out = app.getOutputStream();
                for (int i = 0; i < sent.length; i += 100_000) {
                  out.write(sent, i, Math.min(100_000, sent.length - i));
                }
                app.shutdownOutput();
                return null;
              });
      received = app.getInputStream().readAllBytes();
      writer.get(20, TimeUnit.SECONDS);
    }
    assertThat(Arrays.equals(received, sent)).as("echoed bytes equal").isTrue();
    upstreamTask.get(5, TimeUnit.SECONDS);

    Span span = sink.await(1, Duration.ofSeconds(5)).get(0);
    assertThat(span.kind()).isEqualTo(Kind.CLIENT);
    assertThat(span.name()).isEqualTo("tcp echo");
    assertThat(span.tag("net.bytes_sent")).isEqualTo(Integer.toString(sent.length));
    assertThat(span.tag("net.bytes_received")).isEqualTo(Integer.toString(sent.length));
    assertThat(span.tag("error")).isNull();
    assertThat(span.tag("hoptrace.link")).isEqualTo("sole");
    assertThat(span.tag("hoptrace.candidates")).isEqualTo("1");
    assertThat(span.parentId()).isEqualTo(INBOUND.spanId());
    assertThat(span.traceIdLow()).isEqualTo(INBOUND.traceIdLow());
    assertThat(span.remotePort()).isEqualTo(upstream.getLocalPort());
    assertThat(span.serviceName()).isEqualTo("svc");
    assertNoLeak(relay);
  }

  @Test
  void relay_upstreamNotReading_appIsHeldBack_thenEverythingArrives() throws Exception {
    long total = 48L * 1024 * 1024; // more than every socket buffer on the path holds
    upstream = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    java.util.concurrent.CountDownLatch startReading = new java.util.concurrent.CountDownLatch(1);
    Future<Long> received =
        threads.submit(
            () -> {
              try (Socket s = upstream.accept()) {
                startReading.await(10, TimeUnit.SECONDS);
                return s.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
              }
            });
    start(upstream.getLocalPort());
    try (Socket app = new Socket(InetAddress.getLoopbackAddress(), relay.port("echo"))) {
      Future<?> writer =
          threads.submit(
              () -> {
                byte[] block = new byte[64 * 1024];
                OutputStream out = app.getOutputStream();
                for (long sent = 0; sent < total; sent += block.length) out.write(block);
                app.shutdownOutput();
                return null;
              });
      Thread.sleep(500);
      assertThat(writer.isDone())
          .as("the app is held back while the upstream reads nothing")
          .isFalse();
      assertThat(relay.buffersInUse())
          .as("the relay buffers no more than its two buffers")
          .isEqualTo(2);
      startReading.countDown();
      writer.get(20, TimeUnit.SECONDS);
      assertThat(received.get(20, TimeUnit.SECONDS)).isEqualTo(total);
    }
    Span span = sink.await(1, Duration.ofSeconds(5)).get(0);
    assertThat(span.tag("net.bytes_sent")).isEqualTo(Long.toString(total));
    assertNoLeak(relay);
  }

  @Test
  void linker_getsBothEndsOfTheAppsSocketAndATickerReading_inferredScoreTagged() throws Exception {
    startEchoServer();
    java.util.List<Object[]> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
    TcpLinker inferred =
        (route, app, proxy, startNanos) -> {
          asked.add(new Object[] {route, app, proxy, startNanos});
          return TcpLink.of(INBOUND, "inferred", 3, "fewest_calls:calls=0");
        };
    TcpRoute route =
        TcpRoute.of(
            "echo", "127.0.0.1", 0, "127.0.0.1:" + upstream.getLocalPort(), TcpProtocol.TCP);
    relay = TcpRelay.start("svc", List.of(route), inferred, sink);
    long before = System.nanoTime();
    int appPort;
    try (Socket app = new Socket(InetAddress.getLoopbackAddress(), relay.port("echo"))) {
      appPort = app.getLocalPort();
      app.shutdownOutput();
      assertThat(app.getInputStream().read()).isEqualTo(-1);
    }
    Span span = sink.await(1, Duration.ofSeconds(5)).get(0);
    long after = System.nanoTime();
    assertThat(asked).hasSize(1);
    Object[] call = asked.get(0);
    assertThat(((TcpRoute) call[0]).name()).isEqualTo("echo");
    assertThat(((java.net.InetSocketAddress) call[1]).getPort()).isEqualTo(appPort);
    assertThat(((java.net.InetSocketAddress) call[2]).getPort()).isEqualTo(relay.port("echo"));
    assertThat((long) call[3]).isBetween(before - 1_000_000L, after);
    assertThat(span.tag("hoptrace.link")).isEqualTo("inferred");
    assertThat(span.tag("hoptrace.candidates")).isEqualTo("3");
    assertThat(span.tag("hoptrace.score")).isEqualTo("fewest_calls:calls=0");
    assertThat(span.tagKey(span.tagCount() - 1))
        .as("attribution tags last")
        .isEqualTo("hoptrace.score");
  }

  @Test
  void relay_halfClose_serverAnswersAfterAppStoppedSending() throws Exception {
    upstream = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    upstreamTask =
        threads.submit(
            () -> {
              try (Socket s = upstream.accept()) {
                byte[] request = s.getInputStream().readAllBytes(); // to the end of stream
                s.getOutputStream()
                    .write(("got " + new String(request, US_ASCII)).getBytes(US_ASCII));
              }
              return null;
            });
    start(upstream.getLocalPort());
    try (Socket app = new Socket(InetAddress.getLoopbackAddress(), relay.port("echo"))) {
      app.getOutputStream().write("hello".getBytes(US_ASCII));
      app.shutdownOutput();
      assertThat(new String(app.getInputStream().readAllBytes(), US_ASCII)).isEqualTo("got hello");
    }
    upstreamTask.get(5, TimeUnit.SECONDS);
    Span span = sink.await(1, Duration.ofSeconds(5)).get(0);
    assertThat(span.tag("error")).isNull();
    assertThat(span.tag("net.bytes_received")).isEqualTo("9");
    assertNoLeak(relay);
  }

  @Test
  void relay_upstreamRefuses_appSeesCloseAndSpanHasError() throws Exception {
    try (RefusedPort refused = new RefusedPort()) {
      start(refused.port());
      try (Socket app = new Socket(InetAddress.getLoopbackAddress(), relay.port("echo"))) {
        app.setSoTimeout(5000);
        InputStream in = app.getInputStream();
        try {
          assertThat(in.read()).isEqualTo(-1);
        } catch (IOException reset) {
          // A reset is as good as an end of stream: the app learns the call failed.
        }
      }
      Span span = sink.await(1, Duration.ofSeconds(5)).get(0);
      assertThat(span.tag("error")).startsWith("connect 127.0.0.1:" + refused.port());
      assertNoLeak(relay);
    }
  }

  @Test
  void relay_upstreamNeverAccepts_connectTimesOut() throws Exception {
    // A listener that never accepts, its backlog filled: further SYNs are dropped, so a connect
    // hangs as it would to a blackholed address.
    upstream = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    java.util.List<Socket> filling = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < 4; i++) {
        Socket s = new Socket();
        try {
          s.connect(upstream.getLocalSocketAddress(), 200);
        } catch (IOException full) {
          s.close();
          break;
        }
        filling.add(s);
      }
      TcpRoute route =
          TcpRoute.of(
              "echo", "127.0.0.1", 0, "127.0.0.1:" + upstream.getLocalPort(), TcpProtocol.TCP);
      relay = TcpRelay.start("svc", List.of(route), SOLE, sink, Duration.ofMillis(300));
      try (Socket app = new Socket(InetAddress.getLoopbackAddress(), relay.port("echo"))) {
        app.setSoTimeout(5000);
        try {
          assertThat(app.getInputStream().read()).isEqualTo(-1);
        } catch (IOException reset) {
          // closed either way
        }
      }
      Span span = sink.await(1, Duration.ofSeconds(5)).get(0);
      assertThat(span.tag("error"))
          .isEqualTo("connect 127.0.0.1:" + upstream.getLocalPort() + ": timed out after 300 ms");
      assertNoLeak(relay);
    } finally {
      for (Socket s : filling) s.close();
    }
  }

  @Test
  void relay_appResets_bothSidesClosed() throws Exception {
    startEchoServer();
    start(upstream.getLocalPort());
    Socket app = new Socket(InetAddress.getLoopbackAddress(), relay.port("echo"));
    app.getOutputStream().write("ping".getBytes(US_ASCII));
    assertThat(app.getInputStream().readNBytes(4)).isEqualTo("ping".getBytes(US_ASCII));
    app.setSoLinger(true, 0); // close with RST
    app.close();
    Span span = sink.await(1, Duration.ofSeconds(5)).get(0);
    assertThat(span.tag("net.bytes_sent")).isEqualTo("4");
    assertNoLeak(relay);
  }

  @Test
  void close_closesOpenConnections() throws Exception {
    startEchoServer();
    start(upstream.getLocalPort());
    try (Socket app = new Socket(InetAddress.getLoopbackAddress(), relay.port("echo"))) {
      app.setSoTimeout(5000);
      app.getOutputStream().write("x".getBytes(US_ASCII));
      assertThat(app.getInputStream().read()).isEqualTo('x');
      relay.close();
      assertThat(app.getInputStream().read()).isEqualTo(-1);
    }
    assertThat(sink.await(1, Duration.ofSeconds(5)).get(0).tag("error"))
        .isEqualTo("hoptrace shutting down");
    assertNoLeak(relay);
  }

  @Test
  void start_portTaken_failsNamingTheRoute() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      TcpRoute route =
          TcpRoute.of(
              "cache", "127.0.0.1", taken.getLocalPort(), "127.0.0.1:6379", TcpProtocol.REDIS);
      assertThatThrownBy(() -> TcpRelay.start("svc", List.of(route), SOLE, sink))
          .isInstanceOf(IOException.class)
          .hasMessageStartingWith("tcp-routes.cache.listen: cannot bind 127.0.0.1:");
    }
  }
}
