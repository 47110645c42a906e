package io.hoptrace.proxy.outbound;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.config.Settings;
import io.hoptrace.proxy.guard.GuardHandlers;
import io.hoptrace.proxy.guard.ListenerLimits;
import io.hoptrace.proxy.guard.RefusalReason;
import io.hoptrace.proxy.guard.Refusals;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.span.Kind;
import io.hoptrace.span.Span;
import io.undertow.Undertow;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The guard's own count of a listener's open connections ({@link GuardHandlers#openConnections()},
 * which the overload stage's 503 reads), over real sockets: the forward-proxy port's guard stages
 * in front of its real chain (plain requests answered by a stand-in, CONNECT by the real {@link
 * TunnelHandler} to a real TCP echo callee). Every way a connection ends brings the count back to
 * 0, and never below: the client closing a keep-alive connection or a tunnel, a reset, the idle
 * timeout, a tunnel's own idle timeout, a refused head.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
@SuppressWarnings("StringConcatToTextBlock") // raw CRLF requests read better as lines
class OpenConnectionCountTest {
  static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  static final int MAX_CONNECTIONS = 3;

  final ProxyMetrics metrics = new ProxyMetrics();
  final List<Span> spans = new CopyOnWriteArrayList<>();
  final List<Socket> clients = new ArrayList<>();
  TcpEcho callee;
  Undertow undertow;
  GuardHandlers guard;
  InetSocketAddress proxy;

  /** The stage, with {@code limits.max-connections} 3 and the given settings. */
  void start(long tunnelIdleMillis, String... keyValues) throws Exception {
    callee = new TcpEcho();
    Map<String, String> overrides = new HashMap<>();
    overrides.put("service", "front");
    overrides.put("limits.max-connections", String.valueOf(MAX_CONNECTIONS));
    for (int i = 0; i < keyValues.length; i += 2) overrides.put(keyValues[i], keyValues[i + 1]);
    Settings settings = Settings.load(null, Map.of(), overrides);
    OutboundHandlers handlers =
        new OutboundHandlers(
            metrics,
            new Refusals("front", Kind.CLIENT, spans::add, metrics),
            address -> address.isLoopbackAddress(),
            Set.of(callee.port()),
            new OwnPorts(),
            OutboundAccessAndTunnelTest::rootHop,
            exchange -> exchange.getResponseSender().send("ok"),
            new TunnelHandler("front", spans::add, 2000, tunnelIdleMillis, metrics));
    guard =
        GuardHandlers.create(settings, Kind.CLIENT, spans::add, metrics, handlers.forwardProxy());
    undertow = Undertow.builder().setIoThreads(2).setWorkerThreads(2).build();
    undertow.start();
    proxy =
        (InetSocketAddress)
            guard
                .listen(
                    undertow,
                    new InetSocketAddress(LOOPBACK, 0),
                    ListenerLimits.serverOptions(settings.limits()),
                    ListenerLimits.socketOptions(settings.limits()),
                    guard)
                .getAddress();
  }

  @AfterEach
  void stop() throws IOException {
    for (Socket s : clients) s.close();
    if (guard != null) guard.stopAccepting();
    if (undertow != null) undertow.stop();
    if (callee != null) callee.close();
  }

  @Test
  void keepAliveConnections_countOncePerConnection_andBackToZeroWhenClosed() throws Exception {
    start(5000);
    assertThat(guard.openConnections()).isZero();
    List<Socket> open = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Socket s = connect();
      for (int r = 0; r < 3; r++) assertThat(get(s)).isEqualTo(200); // kept alive
      open.add(s);
    }
    awaitOpen(3);
    open.get(0).close();
    awaitOpen(2);
    open.get(1).close();
    open.get(2).close();
    awaitOpen(0);
  }

  @Test
  void overTheLimit_503_andServedAgainOnceAConnectionCloses() throws Exception {
    start(5000);
    List<Socket> open = new ArrayList<>();
    for (int i = 0; i < MAX_CONNECTIONS; i++) {
      Socket s = connect();
      assertThat(get(s)).isEqualTo(200);
      open.add(s);
    }
    Socket over = connect(); // the fourth
    String refused = exchange(over, get());
    assertThat(status(refused)).as(refused).isEqualTo(503);
    assertThat(refused).contains("error=connection_limit_reached");
    assertThat(spans).anySatisfy(span -> assertThat(span.tag("error")).endsWith(": 4 open"));
    assertThat(metrics.counter(RefusalReason.CONNECTION_LIMIT.metricName()).getCount())
        .isEqualTo(1);
    over.close();
    open.get(0).close();
    awaitOpen(MAX_CONNECTIONS - 1);
    assertThat(get(connect())).isEqualTo(200);
  }

  @Test
  void connectTunnel_holdsAPlaceWhileOpen_andGivesItBackWhenTheClientCloses() throws Exception {
    start(5000);
    Socket tunnel = tunnel();
    assertThat(echo(tunnel, "ping")).isEqualTo("ping");
    Socket a = connect();
    Socket b = connect();
    assertThat(get(a)).isEqualTo(200);
    assertThat(get(b)).isEqualTo(200);
    awaitOpen(3);
    Socket over = connect();
    assertThat(status(exchange(over, get()))).isEqualTo(503); // the tunnel holds a place
    over.close();
    awaitOpen(3);

    tunnel.close(); // FIN: the tunnel half-closes the callee, which closes: the tunnel ends
    awaitOpen(2);
    Socket c = connect();
    assertThat(get(c)).isEqualTo(200);
    a.close();
    b.close();
    c.close();
    awaitOpen(0);
  }

  @Test
  void clientResets_keepAliveAndTunnel_backToZero() throws Exception {
    start(5000);
    Socket plain = connect();
    assertThat(get(plain)).isEqualTo(200);
    Socket tunnel = tunnel();
    assertThat(echo(tunnel, "ping")).isEqualTo("ping");
    awaitOpen(2);
    reset(plain);
    awaitOpen(1);
    reset(tunnel);
    awaitOpen(0);
  }

  @Test
  void connectTunnel_endedByItsIdleTimeout_givesItsPlaceBack() throws Exception {
    start(300);
    Socket tunnel = tunnel();
    assertThat(echo(tunnel, "ping")).isEqualTo("ping");
    awaitOpen(1);
    tunnel.setSoTimeout(5000);
    assertThat(tunnel.getInputStream().read()).as("closed by the proxy").isEqualTo(-1);
    awaitOpen(0);
  }

  @Test
  void closedByTheProxy_idleTimeoutOrRefusedHead_backToZero() throws Exception {
    start(5000, "limits.idle-timeout", "300ms");
    Socket idle = connect();
    assertThat(get(idle)).isEqualTo(200);
    Socket refused = connect();
    String answer = exchange(refused, "GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: a\r\n\r\n");
    assertThat(status(answer)).as(answer).isEqualTo(414);
    idle.setSoTimeout(5000);
    assertThat(idle.getInputStream().read()).as("closed while idle").isEqualTo(-1);
    awaitOpen(0);
  }

  /** Waits up to 5 s for the count to be {@code expected}, then checks that it stays there. */
  void awaitOpen(long expected) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (guard.openConnections() != expected && System.nanoTime() < deadline) Thread.sleep(10);
    Thread.sleep(100); // a second decrement (a listener run twice) would show now
    assertThat(guard.openConnections()).as("open connections").isEqualTo(expected);
  }

  Socket connect() throws IOException {
    Socket s = new Socket();
    clients.add(s);
    s.connect(proxy, 2000);
    s.setSoTimeout(5000);
    return s;
  }

  String get() {
    int port = callee.port();
    return "GET http://127.0.0.1:" + port + "/ HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n";
  }

  /** One keep-alive request on {@code s}; its status. */
  int get(Socket s) throws IOException {
    OutputStream out = s.getOutputStream();
    out.write(get().getBytes(StandardCharsets.US_ASCII));
    out.flush();
    String head = head(s.getInputStream());
    int length = 0;
    for (String line : head.split("\r\n", -1)) {
      if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
        length = Integer.parseInt(line.substring(15).strip());
      }
    }
    assertThat(s.getInputStream().readNBytes(length)).hasSize(length);
    return status(head);
  }

  /** Sends {@code request} and reads until the proxy closes. */
  static String exchange(Socket s, String request) throws IOException {
    s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    try {
      s.getInputStream().transferTo(all);
    } catch (SocketException e) {
      // reset after the answer: what came is still there
    }
    return all.toString(StandardCharsets.ISO_8859_1);
  }

  /** A CONNECT tunnel to the echo callee, past its 200. */
  Socket tunnel() throws IOException {
    Socket s = connect();
    String authority = "127.0.0.1:" + callee.port();
    s.getOutputStream()
        .write(
            ("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
    String head = head(s.getInputStream());
    assertThat(status(head)).as(head).isEqualTo(200);
    return s;
  }

  static String echo(Socket s, String text) throws IOException {
    byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
    s.getOutputStream().write(bytes);
    s.getOutputStream().flush();
    return new String(s.getInputStream().readNBytes(bytes.length), StandardCharsets.US_ASCII);
  }

  /** Closes with a TCP reset (linger 0) instead of a FIN. */
  static void reset(Socket s) throws IOException {
    s.setSoLinger(true, 0);
    s.close();
  }

  static String head(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (head.length() < 4 || !head.substring(head.length() - 4).equals("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) break;
      head.append((char) c);
    }
    return head.toString();
  }

  static int status(String response) {
    if (!response.startsWith("HTTP/1.") || response.length() < 12) return -1;
    return Integer.parseInt(response.substring(9, 12));
  }

  /** A TCP callee that echoes what it reads and closes after the end of its input. */
  static final class TcpEcho implements AutoCloseable {
    private final ServerSocket server = new ServerSocket(0, 16, LOOPBACK);
    private final Thread acceptor;

    TcpEcho() throws IOException {
      acceptor =
          new Thread(
              () -> {
                while (!server.isClosed()) {
                  try {
                    Socket s = server.accept();
                    Thread t = new Thread(() -> echo(s), "echo");
                    t.setDaemon(true);
                    t.start();
                  } catch (IOException e) {
                    return;
                  }
                }
              },
              "echo-accept");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    private static void echo(Socket s) {
      try (s) {
        byte[] buf = new byte[4096];
        InputStream in = s.getInputStream();
        for (int n; (n = in.read(buf)) > 0; ) s.getOutputStream().write(buf, 0, n);
      } catch (IOException e) {
        // the tunnel was cut
      }
    }

    int port() {
      return server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }
}
