package io.hoptrace.proxy.inbound;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.util.Objects.requireNonNull;

import io.hoptrace.config.HostPort;
import io.hoptrace.config.Settings;
import io.hoptrace.context.TraceContext;
import io.hoptrace.correlation.InboundRegistry;
import io.hoptrace.propagation.Injector;
import io.hoptrace.proxy.guard.GuardHandlers;
import io.hoptrace.proxy.outbound.Tunnel;
import io.hoptrace.proxy.upstream.Carriers;
import io.hoptrace.proxy.upstream.ForwardHooks;
import io.hoptrace.proxy.upstream.HopByHop;
import io.hoptrace.proxy.upstream.UpstreamError;
import io.hoptrace.proxy.upstream.UpstreamFailure;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import io.undertow.util.SameThreadExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.xnio.ChannelListener;
import org.xnio.IoFuture;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.StreamConnection;
import org.xnio.XnioExecutor;
import org.xnio.XnioIoThread;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.channels.StreamSourceChannel;

/**
 * Stage 4, when {@code inbound.websocket} is on: a WebSocket handshake (RFC 6455 §4.1: GET,
 * HTTP/1.1, {@code Upgrade: websocket}, {@code Connection: upgrade}, one {@code Sec-WebSocket-Key},
 * a {@code Sec-WebSocket-Version}, no body) goes to the app on a connection of its own, with
 * Upgrade and Connection intact, the other hop-by-hop headers stripped and this hop's trace context
 * injected. On the app's 101 the caller gets the 101 (the app's headers) and the two connections
 * are relayed byte for byte ({@link Tunnel}) until either closes; the SERVER span is written then,
 * with the bytes each way. Any other answer is relayed as a plain response and the app's connection
 * closed. Every other request (h2c upgrades included) goes on to {@code next}, which strips
 * Upgrade.
 *
 * <p>Not through Jetty's client: it has no hand-over of a connection after a 101 that a byte relay
 * could use, so this speaks HTTP/1.1 to the app itself, for the handshake only.
 */
final class WebSocketHandler implements HttpHandler {
  private static final int MAX_HEAD = 16 * 1024; // the app's response head; the Tunnel's buffer
  private static final int MAX_BODY = 1024 * 1024; // a non-101 answer's body
  private static final HttpString SEC_WEBSOCKET_KEY = new HttpString("Sec-WebSocket-Key");
  private static final HttpString SEC_WEBSOCKET_VERSION = new HttpString("Sec-WebSocket-Version");

  private final HostPort app;
  private final ForwardHooks hooks;
  private final Injector injector;
  private final InboundRegistry registry;
  private final long connectTimeoutMillis;
  private final long responseTimeoutMillis;
  private final long idleTimeoutMillis;
  private final HttpHandler next;

  /**
   * @param hooks the plain path's hooks, so that a relayed handshake's answer gets what a forwarded
   *     response gets ({@code Via}, {@code traceresponse}, the request id) and its connection is
   *     bound for the process evidence
   */
  WebSocketHandler(
      Settings settings,
      Injector injector,
      InboundRegistry registry,
      ForwardHooks hooks,
      HttpHandler next) {
    this.app = settings.app();
    this.hooks = requireNonNull(hooks, "hooks");
    this.injector = requireNonNull(injector, "injector");
    this.registry = requireNonNull(registry, "registry");
    this.connectTimeoutMillis = settings.upstream().connectTimeout().toMillis();
    this.responseTimeoutMillis = settings.upstream().responseTimeout().toMillis();
    this.idleTimeoutMillis = settings.upstream().idleTimeout().toMillis();
    this.next = requireNonNull(next, "next");
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    if (!isWebSocketHandshake(exchange)) {
      next.handleRequest(exchange);
      return;
    }
    Handshake handshake =
        new Handshake(exchange, requireNonNull(exchange.getAttachment(InboundExchange.KEY)));
    if (isAddressLiteral(app.host())) {
      exchange.dispatch(
          SameThreadExecutor.INSTANCE,
          () -> handshake.open(new InetSocketAddress(app.host(), app.port())));
    } else {
      // Resolving a name may block: on a worker, then back to the caller's I/O thread.
      exchange.dispatch(
          () -> {
            InetSocketAddress address = new InetSocketAddress(app.host(), app.port());
            exchange.getIoThread().execute(() -> handshake.open(address));
          });
    }
  }

  /** An IPv4 or IPv6 literal, which resolves without a lookup. */
  static boolean isAddressLiteral(String host) {
    if (host.indexOf(':') >= 0) return true;
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      if (c != '.' && (c < '0' || c > '9')) return false;
    }
    return !host.isEmpty();
  }

  /** RFC 6455 §4.1's client handshake; anything else is not relayed as a WebSocket. */
  static boolean isWebSocketHandshake(HttpServerExchange exchange) {
    if (!exchange.getRequestMethod().equals(Methods.GET) || !exchange.isHttp11()) return false;
    HeaderMap headers = exchange.getRequestHeaders();
    if (!HopByHop.connectionTokens(joined(headers, Headers.UPGRADE)).contains("websocket")) {
      return false;
    }
    if (!HopByHop.connectionTokens(joined(headers, Headers.CONNECTION)).contains("upgrade")) {
      return false;
    }
    HeaderValues key = headers.get(SEC_WEBSOCKET_KEY);
    if (key == null || key.size() != 1 || key.getFirst().isBlank()) return false;
    if (headers.getFirst(SEC_WEBSOCKET_VERSION) == null) return false;
    if (headers.contains(Headers.TRANSFER_ENCODING)) return false;
    String length = headers.getFirst(Headers.CONTENT_LENGTH);
    return length == null || length.equals("0");
  }

  private static @Nullable String joined(HeaderMap headers, HttpString name) {
    HeaderValues values = headers.get(name);
    if (values == null || values.isEmpty()) return null;
    return values.size() == 1 ? values.getFirst() : String.join(",", values);
  }

  /** One handshake, on the caller's I/O thread (the app's connection is opened from it). */
  private final class Handshake {
    final HttpServerExchange exchange;
    final InboundExchange state;
    final ByteBuffer head = ByteBuffer.allocate(MAX_HEAD);
    @Nullable StreamConnection connection;
    XnioExecutor.@Nullable Key timeout;
    boolean done;

    Handshake(HttpServerExchange exchange, InboundExchange state) {
      this.exchange = exchange;
      this.state = state;
    }

    void open(InetSocketAddress address) {
      // The caller gone before the app answered: stop the app's side too. Added after the hop's
      // own listeners, so it runs before them and the span sees the failure.
      exchange.addExchangeCompleteListener(
          (ex, nextListener) -> {
            try {
              if (!done) {
                done = true;
                cancelTimeout();
                closeApp();
                ex.putAttachment(
                    UpstreamFailure.KEY,
                    new UpstreamFailure(UpstreamError.CLIENT_ABORT, "connection closed"));
              }
            } finally {
              nextListener.proceed();
            }
          });
      XnioIoThread ioThread = exchange.getIoThread();
      IoFuture<StreamConnection> future =
          ioThread.openStreamConnection(address, null, OptionMap.EMPTY);
      XnioExecutor.Key connectTimeout =
          ioThread.executeAfter(future::cancel, connectTimeoutMillis, TimeUnit.MILLISECONDS);
      future.addNotifier(
          new IoFuture.HandlingNotifier<StreamConnection, @Nullable Void>() {
            @Override
            public void handleDone(StreamConnection c, @Nullable Void unused) {
              connectTimeout.remove();
              if (done) {
                IoUtils.safeClose(c);
              } else {
                connected(c);
              }
            }

            @Override
            public void handleFailed(IOException e, @Nullable Void unused) {
              connectTimeout.remove();
              fail(UpstreamError.CONNECT, e.toString());
            }

            @Override
            public void handleCancelled(@Nullable Void unused) {
              fail(UpstreamError.CONNECT, "timed out after " + connectTimeoutMillis + "ms");
            }
          },
          null);
    }

    void connected(StreamConnection c) {
      connection = c;
      c.setCloseListener(
          closed ->
              fail(UpstreamError.RESET, "closed before the response head")); // no-op once done
      timeout =
          exchange
              .getIoThread()
              .executeAfter(
                  () ->
                      fail(UpstreamError.TIMEOUT, "no response in " + responseTimeoutMillis + "ms"),
                  responseTimeoutMillis,
                  TimeUnit.MILLISECONDS);
      ByteBuffer request = ByteBuffer.wrap(requestHead().getBytes(ISO_8859_1));
      hooks.proxyToServerConnection(exchange, c.getLocalAddress(), c.getPeerAddress());
      if (state.registered != null) registry.delivered(state.registered, registry.ticker().read());
      StreamSinkChannel sink = c.getSinkChannel();
      sink.getWriteSetter().set(ch -> write(ch, request));
      write(sink, request);
    }

    /** The handshake as the app gets it: hop-by-hop headers stripped but the upgrade's own. */
    String requestHead() {
      HeaderMap clientHeaders = exchange.getRequestHeaders();
      Set<String> tokens = HopByHop.connectionTokens(joined(clientHeaders, Headers.CONNECTION));
      HeaderMap toApp = new HeaderMap();
      for (HeaderValues values : clientHeaders) {
        if (HopByHop.isHopByHop(values.getHeaderName().toString(), tokens)) continue;
        toApp.putAll(values.getHeaderName(), values);
      }
      TraceContext server = state.server;
      // Replaces every trace header the caller sent, as on a forwarded request.
      if (server != null)
        state.traceparent = injector.inject(server, toApp, Carriers.UNDERTOW_SETTER);
      String query = exchange.getQueryString();
      StringBuilder b =
          new StringBuilder(512)
              .append("GET ")
              .append(exchange.getRequestURI())
              .append(query.isEmpty() ? "" : "?" + query)
              .append(" HTTP/1.1\r\n");
      for (HeaderValues values : toApp) {
        for (String value : values) {
          b.append(values.getHeaderName()).append(": ").append(value).append("\r\n");
        }
      }
      return b.append("Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n").toString();
    }

    void write(StreamSinkChannel sink, ByteBuffer request) {
      try {
        while (request.hasRemaining()) {
          if (sink.write(request) == 0) {
            sink.resumeWrites();
            return;
          }
        }
        if (!sink.flush()) {
          sink.resumeWrites();
          return;
        }
        sink.suspendWrites();
        StreamSourceChannel source = requireNonNull(connection).getSourceChannel();
        source.getReadSetter().set((ChannelListener<StreamSourceChannel>) this::read);
        source.resumeReads();
      } catch (IOException e) {
        fail(UpstreamError.RESET, e.toString());
      }
    }

    void read(StreamSourceChannel source) {
      try {
        while (!done) {
          int n = source.read(head);
          if (n == 0) return;
          if (n < 0) {
            fail(UpstreamError.RESET, "closed before the response head");
            return;
          }
          int end = headEnd();
          if (end >= 0) {
            source.suspendReads();
            answered(end);
            return;
          }
          if (!head.hasRemaining()) {
            fail(
                UpstreamError.RESPONSE_HEAD_TOO_LARGE,
                "over " + MAX_HEAD + " bytes (a WebSocket handshake's answer)");
            return;
          }
        }
      } catch (IOException e) {
        fail(UpstreamError.RESET, e.toString());
      }
    }

    /** Where the head's blank line ends, or -1. */
    int headEnd() {
      byte[] a = head.array();
      for (int i = 3; i < head.position(); i++) {
        if (a[i] == '\n' && a[i - 1] == '\r' && a[i - 2] == '\n' && a[i - 3] == '\r') return i + 1;
      }
      return -1;
    }

    void answered(int end) {
      String[] lines = new String(head.array(), 0, end - 4, ISO_8859_1).split("\r\n", -1);
      int status = statusCode(lines[0]);
      HeaderMap fromApp = new HeaderMap();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        if (status < 0 || colon <= 0 || !isToken(lines[i], colon) || hasControl(lines[i])) {
          fail(UpstreamError.RESET, "malformed response head from the app");
          return;
        }
        fromApp.add(
            new HttpString(lines[i].substring(0, colon)), lines[i].substring(colon + 1).strip());
      }
      ByteBuffer rest = ByteBuffer.wrap(head.array(), end, head.position() - end);
      if (status == 101
          && HopByHop.connectionTokens(joined(fromApp, Headers.UPGRADE)).contains("websocket")) {
        upgrade(fromApp, rest);
      } else if (status == 101 || fromApp.contains(Headers.TRANSFER_ENCODING)) {
        fail(UpstreamError.RESET, "unsupported answer to a WebSocket handshake: " + lines[0]);
      } else {
        plainAnswer(status, fromApp, rest);
      }
    }

    void upgrade(HeaderMap fromApp, ByteBuffer rest) {
      done = true;
      cancelTimeout();
      StreamConnection toApp = requireNonNull(connection);
      Upgraded upgraded = new Upgraded();
      state.upgraded = upgraded;
      copyEndToEnd(fromApp, Set.of("upgrade")); // Undertow sets Connection: Upgrade itself
      // Via, traceresponse, the request id; and the app has answered: the request is no longer in
      // flight at the app (for the correlator), though the relay goes on.
      hooks.proxyToClientHeaders(exchange, exchange.getResponseHeaders());
      ByteBuffer first = ByteBuffer.allocate(rest.remaining()).put(rest).flip();
      boolean[] relaying = new boolean[1]; // on this I/O thread only
      exchange.upgradeChannel(
          (fromCaller, ex) -> {
            relaying[0] = true;
            GuardHandlers.protocolSwitched(fromCaller); // frames, not heads, from here on
            new Tunnel(fromCaller, toApp, idleTimeoutMillis, upgraded::closed)
                .calleeBytesFirst(first)
                .start();
          });
      // Undertow runs the upgrade listener only once the 101 is out; if the caller is gone first
      // it never runs: then close the app's side and end the span here.
      var unused =
          exchange
              .getIoThread()
              .executeAfter(
                  () -> {
                    if (relaying[0]) return;
                    IoUtils.safeClose(toApp);
                    upgraded.closed(0, 0, "client abort: gone before the 101 was sent");
                  },
                  responseTimeoutMillis,
                  TimeUnit.MILLISECONDS);
      exchange.endExchange();
    }

    /** A refusal or any other non-101 answer with a Content-Length (or no) body. */
    void plainAnswer(int status, HeaderMap fromApp, ByteBuffer rest) {
      String lengthText = fromApp.getFirst(Headers.CONTENT_LENGTH);
      long length;
      try {
        length = lengthText == null ? 0 : Long.parseLong(lengthText);
      } catch (NumberFormatException e) {
        length = -1;
      }
      if (length < 0 || length > MAX_BODY) {
        fail(UpstreamError.RESET, "unsupported answer to a WebSocket handshake: " + status);
        return;
      }
      ByteBuffer body = ByteBuffer.allocate((int) length);
      int take = Math.min(rest.remaining(), body.remaining());
      body.put(rest.limit(rest.position() + take));
      if (!body.hasRemaining()) {
        send(status, fromApp, body);
        return;
      }
      StreamSourceChannel source = requireNonNull(connection).getSourceChannel();
      source.getReadSetter().set(ch -> readBody(ch, status, fromApp, body));
      source.resumeReads();
    }

    void readBody(StreamSourceChannel source, int status, HeaderMap fromApp, ByteBuffer body) {
      try {
        int n;
        while ((n = source.read(body)) > 0) {
          if (!body.hasRemaining()) {
            source.suspendReads();
            send(status, fromApp, body);
            return;
          }
        }
        if (n < 0) fail(UpstreamError.RESET, "closed before the response body was complete");
      } catch (IOException e) {
        fail(UpstreamError.RESET, e.toString());
      }
    }

    void send(int status, HeaderMap fromApp, ByteBuffer body) {
      done = true;
      cancelTimeout();
      closeApp();
      exchange.setStatusCode(status);
      copyEndToEnd(fromApp, Set.of());
      exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, body.position());
      hooks.proxyToClientHeaders(exchange, exchange.getResponseHeaders());
      exchange.getResponseSender().send(body.flip());
    }

    void copyEndToEnd(HeaderMap fromApp, Set<String> keep) {
      Set<String> tokens = HopByHop.connectionTokens(joined(fromApp, Headers.CONNECTION));
      HeaderMap toCaller = exchange.getResponseHeaders();
      for (HeaderValues values : fromApp) {
        String name = values.getHeaderName().toString();
        if (values.getHeaderName().equals(Headers.CONTENT_LENGTH)) continue;
        if (!keep.contains(name.toLowerCase(Locale.ROOT)) && HopByHop.isHopByHop(name, tokens)) {
          continue;
        }
        toCaller.putAll(values.getHeaderName(), values);
      }
    }

    void fail(UpstreamError kind, String message) {
      if (done) return;
      done = true;
      cancelTimeout();
      closeApp();
      exchange.putAttachment(UpstreamFailure.KEY, new UpstreamFailure(kind, message));
      exchange.setStatusCode(kind.status());
      exchange.setPersistent(false);
      HeaderMap headers = exchange.getResponseHeaders();
      headers.clear();
      headers.put(Headers.CONTENT_TYPE, "text/plain");
      byte[] body =
          (kind == UpstreamError.TIMEOUT
                  ? "hoptrace: gateway timeout\n"
                  : "hoptrace: bad gateway\n")
              .getBytes(ISO_8859_1);
      headers.put(Headers.CONTENT_LENGTH, body.length);
      hooks.proxyToClientHeaders(exchange, headers);
      exchange.getResponseSender().send(ByteBuffer.wrap(body));
    }

    void cancelTimeout() {
      XnioExecutor.Key key = timeout;
      if (key != null) key.remove();
    }

    void closeApp() {
      StreamConnection c = connection;
      // Its close listener (set in connected) sees done and does nothing. Not unset: XNIO merges
      // close listeners, and a null one fails when the connection closes.
      if (c != null) IoUtils.safeClose(c);
    }
  }

  /** {@code HTTP/1.x NNN ...} → NNN, or -1. */
  static int statusCode(String line) {
    if (!line.startsWith("HTTP/1.") || line.length() < 12 || line.charAt(8) != ' ') return -1;
    int code = 0;
    for (int i = 9; i < 12; i++) {
      char c = line.charAt(i);
      if (c < '0' || c > '9') return -1;
      code = code * 10 + (c - '0');
    }
    return (line.length() == 12 || line.charAt(12) == ' ') && code >= 100 ? code : -1;
  }

  private static boolean isToken(String line, int end) {
    for (int i = 0; i < end; i++) {
      char c = line.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!ok) return false;
    }
    return true;
  }

  private static boolean hasControl(String line) {
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if ((c < 0x20 && c != '\t') || c == 0x7f) return true;
    }
    return false;
  }
}
