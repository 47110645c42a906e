package io.hoptrace.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.hoptrace.config.HostPort;
import io.hoptrace.config.Settings;
import io.undertow.Undertow;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Jetty client starts on the first request the same-loop transport hands it, off the IO thread
 * that serves that request: the thread's other connections are served meanwhile, a failed start
 * answers its requests 502 and is counted, concurrent first requests share one start, and a start
 * that does not end within {@code upstream.connect-timeout} answers its waiters 502 without holding
 * them longer.
 *
 * <p>Real sockets throughout: a JDK HttpServer as the app, an Undertow listener with the same-loop
 * transport in front of the Jetty one (as hoptrace wires them), raw client connections. The start
 * is held or failed by a Jetty bean of the client's own ({@link StartGate}, added as a connection
 * listener: Jetty starts its beans with the client), so the test sees the very start the forwarder
 * waits for, without timing.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JettyLazyStartTest {
  private static final int TIMEOUT_MS = 10_000;

  /** A target of {@link SameLoopForwarder#MAX_PATH} characters or more: same-loop hands it on. */
  private static final String JETTY_PATH = "/jetty?pad=" + "p".repeat(SameLoopForwarder.MAX_PATH);

  private final ExecutorService appThreads = Executors.newCachedThreadPool();
  private final Queue<String> appPaths = new ConcurrentLinkedQueue<>();
  private final Queue<String> errors = new ConcurrentLinkedQueue<>();
  private final StartGate gate = new StartGate();
  private @Nullable HttpServer app;
  private @Nullable Undertow undertow;
  private @Nullable SameLoopForwarder sameLoop;
  private @Nullable UpstreamClient jetty;
  private int port;

  /**
   * A bean of the Jetty client, started with it, on the thread that starts the client: holds the
   * start until released, and fails it when told to.
   */
  static final class StartGate extends AbstractLifeCycle implements Connection.Listener {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicInteger starts = new AtomicInteger();
    final Queue<String> threads = new ConcurrentLinkedQueue<>();
    volatile boolean failNext;

    @Override
    protected void doStart() throws Exception {
      starts.incrementAndGet();
      threads.add(Thread.currentThread().getName());
      entered.countDown();
      if (!release.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("never released");
      if (failNext) {
        failNext = false;
        throw new IllegalStateException("test start failure");
      }
    }
  }

  @AfterEach
  void stop() {
    gate.release.countDown();
    if (undertow != null) undertow.stop();
    if (sameLoop != null) sameLoop.close();
    if (jetty != null) jetty.close();
    if (app != null) app.stop(0);
    appThreads.shutdownNow();
  }

  /** Starts the app and the listener; returns the (not yet started) Jetty client. */
  private UpstreamClient start(int ioThreads) throws IOException {
    // Longer than any held start here lasts: only the wait-bound test lets it run out.
    return start(ioThreads, Duration.ofSeconds(30));
  }

  /**
   * Starts the app and the listener, {@code upstream.connect-timeout} (the bound of a wait for the
   * start) as given; returns the (not yet started) Jetty client.
   */
  private UpstreamClient start(int ioThreads, Duration connectTimeout) throws IOException {
    app = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    app.setExecutor(appThreads);
    app.createContext(
        "/",
        exchange -> {
          appPaths.add(exchange.getRequestURI().getRawPath());
          byte[] body = "ok".getBytes(StandardCharsets.US_ASCII);
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    app.start();
    HostPort target = new HostPort("127.0.0.1", app.getAddress().getPort());

    Settings.Upstream settings =
        new Settings.Upstream(
            connectTimeout,
            Duration.ofSeconds(20),
            Duration.ofSeconds(30),
            16,
            Settings.UpstreamClient.SAME_LOOP,
            64 * 1024);
    UpstreamClient client = new UpstreamClient(settings);
    client.addConnectionListener(gate);
    jetty = client;
    SameLoopForwarder forwarder =
        new SameLoopForwarder(settings, new UpstreamForwarder(client, settings.responseTimeout()));
    sameLoop = forwarder;
    ForwardHooks hooks =
        new ForwardHooks() {
          @Override
          public void proxyToServerHeaders(HttpServerExchange exchange, HeaderMap headers) {}

          @Override
          public void proxyToClientHeaders(HttpServerExchange exchange, HeaderMap headers) {
            UpstreamFailure failure = exchange.getAttachment(UpstreamFailure.KEY);
            if (failure != null) errors.add(failure.errorTag());
          }
        };
    Undertow server =
        Undertow.builder()
            .setIoThreads(ioThreads)
            .setWorkerThreads(2)
            .addHttpListener(0, "127.0.0.1")
            .setHandler(exchange -> forwarder.forward(exchange, target, hooks))
            .build();
    server.start();
    undertow = server;
    port = ((InetSocketAddress) server.getListenerInfo().get(0).getAddress()).getPort();
    return client;
  }

  /** Opens a connection and sends {@code GET path} on it (closed after the answer). */
  private Socket send(String path) throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), TIMEOUT_MS);
    socket.setSoTimeout(TIMEOUT_MS);
    socket
        .getOutputStream()
        .write(
            ("GET " + path + " HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
    return socket;
  }

  /** The whole answer on {@code socket} (to the server's close); fails after TIMEOUT_MS. */
  private static String answer(Socket socket) throws IOException {
    try (socket) {
      InputStream in = socket.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  /** Waits (bounded) until {@code n} requests wait for the client's start. */
  private static void awaitWaiting(UpstreamClient client, int n) throws InterruptedException {
    for (int i = 0; i < 1_000 && client.waitingForStart() < n; i++) Thread.sleep(10);
    assertThat(client.waitingForStart()).as("requests waiting for the start").isEqualTo(n);
  }

  @Test
  void whileTheFirstJettyRequestStartsTheClient_itsIoThreadServesOtherConnections()
      throws Exception {
    UpstreamClient client =
        start(1); // one IO thread: every connection is on the thread the start would have blocked
    Socket first = send(JETTY_PATH);
    assertThat(gate.entered.await(TIMEOUT_MS, TimeUnit.MILLISECONDS))
        .as("the client's start began")
        .isTrue();
    assertThat(client.started()).isFalse();

    // The start is held: another connection on the same IO thread is served all the same.
    String other = answer(send("/plain"));
    assertThat(other).startsWith("HTTP/1.1 200 ").endsWith("ok");
    assertThat(appPaths).containsExactly("/plain");
    assertThat(gate.threads).as("started off the IO threads").noneMatch(t -> t.contains("I/O"));

    gate.release.countDown();
    String jetty = answer(first);
    assertThat(jetty).startsWith("HTTP/1.1 200 ").endsWith("ok");
    assertThat(appPaths).containsExactly("/plain", "/jetty");
    assertThat(client.started()).isTrue();
    assertThat(client.startFailures()).isZero();
    // Started now: later requests go straight on.
    assertThat(answer(send(JETTY_PATH))).startsWith("HTTP/1.1 200 ");
    assertThat(gate.starts.get()).isEqualTo(1);
  }

  @Test
  void aFailedStart_answersItsRequests502WithTheReason_isCounted_andTheNextRequestStartsAgain()
      throws Exception {
    UpstreamClient client = start(1);
    gate.failNext = true;
    Socket first = send(JETTY_PATH);
    assertThat(gate.entered.await(TIMEOUT_MS, TimeUnit.MILLISECONDS)).isTrue();
    Socket second = send(JETTY_PATH); // waits for the same start
    awaitWaiting(client, 2);
    gate.release.countDown();

    for (Socket s : List.of(first, second)) {
      String answer = answer(s);
      assertThat(answer).startsWith("HTTP/1.1 502 ").endsWith("502 Bad Gateway\n");
    }
    assertThat(errors)
        .containsExactly(
            "connect: the upstream client did not start: test start failure",
            "connect: the upstream client did not start: test start failure");
    assertThat(appPaths).as("nothing reached the app").isEmpty();
    assertThat(client.startFailures()).isEqualTo(1);
    assertThat(client.started()).isFalse();
    assertThat(gate.starts.get()).as("one start for both").isEqualTo(1);

    // Not started for good: the next request that needs Jetty starts it again.
    assertThat(answer(send(JETTY_PATH))).startsWith("HTTP/1.1 200 ").endsWith("ok");
    assertThat(client.started()).isTrue();
    assertThat(client.startFailures()).isEqualTo(1);
    assertThat(gate.starts.get()).isEqualTo(2);
  }

  @Test
  void concurrentFirstRequests_onSeveralIoThreads_startTheClientOnce() throws Exception {
    UpstreamClient client = start(2);
    int n = 8; // more than the worker threads (2): waiting requests hold no thread
    List<Socket> sockets = new ArrayList<>();
    for (int i = 0; i < n; i++) sockets.add(send(JETTY_PATH));
    assertThat(gate.entered.await(TIMEOUT_MS, TimeUnit.MILLISECONDS)).isTrue();
    awaitWaiting(client, n);
    // The IO threads serve other connections while those wait.
    assertThat(answer(send("/plain"))).startsWith("HTTP/1.1 200 ");
    assertThat(answer(send("/plain"))).startsWith("HTTP/1.1 200 ");
    gate.release.countDown();

    for (Socket s : sockets) assertThat(answer(s)).startsWith("HTTP/1.1 200 ").endsWith("ok");
    assertThat(gate.starts.get()).as("one start").isEqualTo(1);
    assertThat(client.startFailures()).isZero();
    assertThat(appPaths).filteredOn("/jetty"::equals).hasSize(n);
  }

  @Test
  void aStartThatDoesNotEndInTime_answersItsWaiters502_andLaterRequestsUseTheClientOnceStarted()
      throws Exception {
    UpstreamClient client = start(1, Duration.ofMillis(300));
    Socket first = send(JETTY_PATH);
    assertThat(gate.entered.await(TIMEOUT_MS, TimeUnit.MILLISECONDS)).isTrue();
    Socket second = send(JETTY_PATH); // waits for the same start, which is held
    awaitWaiting(client, 2);

    // The start is still held: both are answered when their 300 ms run out, not when it ends.
    for (Socket s : List.of(first, second)) {
      assertThat(answer(s)).startsWith("HTTP/1.1 502 ").endsWith("502 Bad Gateway\n");
    }
    assertThat(errors)
        .containsExactly(
            "connect: the upstream client did not start in 300ms (upstream.connect-timeout)",
            "connect: the upstream client did not start in 300ms (upstream.connect-timeout)");
    assertThat(client.startWaitTimeouts()).isEqualTo(2);
    assertThat(client.waitingForStart()).as("no request is kept once answered").isZero();
    assertThat(client.startFailures()).as("the start has not failed").isZero();
    assertThat(client.started()).isFalse();
    assertThat(appPaths).as("nothing reached the app").isEmpty();
    // The IO thread was never blocked: a plain request is served while the start is still held.
    assertThat(answer(send("/plain"))).startsWith("HTTP/1.1 200 ");

    // The start ends after all: the next request uses that client, no second start.
    gate.release.countDown();
    for (int i = 0; i < 1_000 && !client.started(); i++) Thread.sleep(10);
    assertThat(client.started()).isTrue();
    assertThat(answer(send(JETTY_PATH))).startsWith("HTTP/1.1 200 ").endsWith("ok");
    assertThat(appPaths).containsExactly("/plain", "/jetty");
    assertThat(gate.starts.get()).isEqualTo(1);
    assertThat(client.startWaitTimeouts()).isEqualTo(2);
    assertThat(errors).hasSize(2);
  }
}
