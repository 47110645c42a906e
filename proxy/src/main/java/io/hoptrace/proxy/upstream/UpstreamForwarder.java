package io.hoptrace.proxy.upstream;

import io.hoptrace.config.HostPort;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpAttachments;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.Promise;
import org.jspecify.annotations.Nullable;
import org.xnio.IoUtils;
import org.xnio.XnioExecutor;
import org.xnio.XnioIoThread;
import org.xnio.channels.StreamSinkChannel;

/**
 * Forwards one Undertow exchange (the clientToProxyRequest) to an upstream and streams the answer
 * back. Direction-neutral: the inbound hop forwards to the app, the outbound hop to callees; what
 * differs is given as {@link ForwardHooks}.
 *
 * <p>A stale pooled connection is retried as on {@link SameLoopForwarder}: a bodiless request with
 * an idempotent method (GET, HEAD, OPTIONS, TRACE, PUT, DELETE) whose connection had carried a
 * request before and failed before any byte of the response came (reset, closed: the app closed it
 * as idle just as the request went out) is sent again, once, on a new connection, within the first
 * attempt's response timeout; counted ({@link #retries()}). Jetty's HttpClient does not do this
 * itself (it fails the request). The retry's connection is opened for it alone and closed after it:
 * Jetty's pool cannot be asked for a new connection, only for any idle one, which may be as old as
 * the one that failed. It is not counted against {@code upstream.max-connections} (the failed one
 * has just left the pool). A new connection's failure, a timeout, a connect failure, a request with
 * a body or another method is answered 502/504 as before.
 *
 * <p>The Jetty client starts on the first request that needs it, on a worker thread: that request
 * (and any arriving meanwhile) goes on once it has, or is answered 502 ({@code connect: the
 * upstream client did not start: ...}) if the start failed, or if it has not ended within {@code
 * upstream.connect-timeout} ({@code connect: the upstream client did not start in 2000ms
 * (upstream.connect-timeout)}); the IO thread serves its other connections meanwhile.
 *
 * <p>Threading: everything that touches the Undertow exchange runs on its IO thread; Jetty's
 * callbacks hop there with {@code ioThread.execute}. Ending the exchange from a foreign thread made
 * Undertow's IO thread spin, so it is never done.
 */
public final class UpstreamForwarder implements Forwarder {

  /** The reason Jetty 12's HttpParser gives a response head over the client's limit. */
  static final String HEAD_TOO_LARGE = "Response Header Bytes Too Large";

  private final UpstreamClient client;
  private final long responseTimeoutMillis;
  private final LongAdder retries = new LongAdder();

  public UpstreamForwarder(UpstreamClient client, Duration responseTimeout) {
    this.client = client;
    this.responseTimeoutMillis = responseTimeout.toMillis();
  }

  /**
   * Requests sent again on a new connection after their pooled one failed (see the class comment).
   */
  public long retries() {
    return retries.sum();
  }

  @Override
  public void forward(HttpServerExchange exchange, HostPort target, ForwardHooks hooks) {
    if (client.started()) {
      exchange.dispatch(
          io.undertow.util.SameThreadExecutor.INSTANCE, () -> start(exchange, target, hooks));
    } else {
      exchange.dispatch(
          io.undertow.util.SameThreadExecutor.INSTANCE,
          () -> startAfterClient(exchange, target, hooks));
    }
  }

  /**
   * The Jetty client has not started yet (it starts on the first request that needs it: see {@link
   * UpstreamClient}): it starts on a worker thread, not on this IO thread, whose other connections
   * would otherwise all wait the ~300 ms a first start takes; this exchange goes on, on its IO
   * thread, once it has. Requests arriving meanwhile wait for the same start, each for {@code
   * upstream.connect-timeout} at most. IO thread.
   */
  private void startAfterClient(HttpServerExchange exchange, HostPort target, ForwardHooks hooks) {
    StartWait wait = new StartWait(exchange, target, hooks);
    if (!client.awaitStart(exchange.getIoThread().getWorker(), wait)) {
      start(exchange, target, hooks); // started meanwhile
      return;
    }
    // Told of the start's end with ioThread.execute: runs after this, with the timer set.
    wait.timer =
        exchange.getIoThread().executeAfter(wait, client.startWaitMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * One exchange waiting for the Jetty client's start: it goes on when the start ends, or is
   * answered 502 when {@code upstream.connect-timeout} runs out first (a start that never ends,
   * e.g. its worker thread stuck, must not hold requests forever; the start goes on, and later
   * requests use the client once it has started). The timer runs on the exchange's IO thread, and
   * the start's end is handed there too: whichever comes first decides.
   */
  private final class StartWait implements UpstreamClient.StartWaiter, Runnable {
    final HttpServerExchange exchange;
    final HostPort target;
    final ForwardHooks hooks;
    final XnioIoThread ioThread;

    // IO thread only.
    XnioExecutor.@Nullable Key timer;
    boolean over;

    StartWait(HttpServerExchange exchange, HostPort target, ForwardHooks hooks) {
      this.exchange = exchange;
      this.target = target;
      this.hooks = hooks;
      this.ioThread = exchange.getIoThread();
    }

    /** The start has ended. The thread that ran it. */
    @Override
    public void startEnded(@Nullable Throwable failure) {
      ioThread.execute(() -> clientStarted(failure));
    }

    /** The start ended in time. IO thread. */
    private void clientStarted(@Nullable Throwable failure) {
      if (over) return;
      over = true;
      XnioExecutor.Key key = timer;
      if (key != null) key.remove();
      if (exchange.isComplete()) return; // the client went away meanwhile
      if (failure == null) {
        start(exchange, target, hooks);
        return;
      }
      // Nothing went upstream (the headers hook was not called: the app never saw the request).
      // Counted in UpstreamClient.startFailures() and with the connect errors; the span says why.
      new UpstreamFailure(
              UpstreamError.CONNECT,
              "the upstream client did not start: " + UpstreamFailure.rootMessage(failure))
          .answer(exchange, hooks);
    }

    /** upstream.connect-timeout ran out first. IO thread. */
    @Override
    public void run() {
      // False: the start has just ended and clientStarted is on its way: it goes on.
      if (over || !client.stopWaiting(this)) return;
      over = true;
      if (exchange.isComplete()) return;
      // Counted in UpstreamClient.startWaitTimeouts() and with the connect errors, as a failed
      // start is; nothing went upstream.
      new UpstreamFailure(
              UpstreamError.CONNECT,
              "the upstream client did not start in "
                  + client.startWaitMillis()
                  + "ms (upstream.connect-timeout)")
          .answer(exchange, hooks);
    }
  }

  private void start(HttpServerExchange exchange, HostPort target, ForwardHooks hooks) {
    String uri = exchange.getRequestURI(); // raw, as the client sent it
    if (exchange.isHostIncludedInRequestURI()) { // absolute-form: keep the path, the target decides
      int slash = uri.indexOf('/', uri.indexOf("://") + 3);
      uri = slash < 0 ? "/" : uri.substring(slash);
    }
    String query = exchange.getQueryString();
    String pathAndQuery = query.isEmpty() ? uri : uri + "?" + query;

    HeaderMap clientHeaders = exchange.getRequestHeaders();
    Set<String> tokens = HopByHop.connectionTokens(joined(clientHeaders, Headers.CONNECTION));
    // Undertow honours only a bare "Connection: close"; "close, X-Foo" must close as well.
    if (tokens.contains("close")) exchange.setPersistent(false);
    HeaderMap proxyToServerHeaders = new HeaderMap();
    HopByHop.copyEndToEnd(clientHeaders, tokens, proxyToServerHeaders);
    // Once per exchange: a retry sends these very headers (the same injected trace context).
    hooks.proxyToServerHeaders(exchange, proxyToServerHeaders);

    ClientToProxyContent content = hasBody(exchange) ? new ClientToProxyContent(exchange) : null;
    ServerToProxyResponse listener =
        new ServerToProxyResponse(
            exchange, target, hooks, content, pathAndQuery, proxyToServerHeaders);
    Request proxyToServerRequest = listener.newProxyToServerRequest();
    if (content != null) {
      proxyToServerRequest.body(content);
      if (content.getLength() < 0) {
        ClientToProxyContent chunked = content;
        proxyToServerRequest.trailersSupplier(() -> jettyTrailers(chunked.trailers(), tokens));
      }
    }
    listener.current = proxyToServerRequest;
    // If the exchange ends first (the client went away), stop the upstream side too. Added after
    // the hop's own listeners, so it runs before them and they see the failure.
    exchange.addExchangeCompleteListener(
        (ex, next) -> {
          try {
            listener.clientGone();
          } finally {
            next.proceed();
          }
        });
    listener.timeout =
        exchange
            .getIoThread()
            .executeAfter(listener::timedOut, responseTimeoutMillis, TimeUnit.MILLISECONDS);
    proxyToServerRequest.send(listener);
  }

  private static @Nullable String joined(HeaderMap headers, HttpString name) {
    HeaderValues values = headers.get(name);
    return values == null || values.isEmpty() ? null : String.join(",", values);
  }

  /**
   * The client's trailer fields to send after the chunked body (less hop-by-hop ones), or null.
   * Called by Jetty once the body has ended.
   */
  private static @Nullable HttpFields jettyTrailers(
      @Nullable HeaderMap trailers, Set<String> connectionTokens) {
    HeaderMap kept = HopByHop.endToEndTrailers(trailers, connectionTokens);
    if (kept == null) return null;
    HttpFields.Mutable fields = HttpFields.build(kept.size());
    for (HeaderValues values : kept) {
      String name = values.getHeaderName().toString();
      for (String value : values) fields.add(name, value);
    }
    return fields;
  }

  private static boolean hasBody(HttpServerExchange exchange) {
    return exchange.getRequestContentLength() > 0
        || exchange.getRequestHeaders().contains(Headers.TRANSFER_ENCODING);
  }

  /**
   * The serverToProxyResponse, copied to the proxyToClientResponse: headers, then the body chunk by
   * chunk, demanding the next chunk from Jetty only once Undertow has written the last one.
   */
  private final class ServerToProxyResponse implements Response.Listener, Request.SuccessListener {
    final HttpServerExchange exchange;
    final XnioIoThread ioThread;
    final HostPort target;
    final ForwardHooks hooks;
    final @Nullable ClientToProxyContent requestContent;
    final String pathAndQuery;
    final HeaderMap proxyToServerHeaders;
    // Bodiless with an idempotent method: may be sent twice (see retry()).
    final boolean repeatable;
    volatile boolean connected;
    volatile XnioExecutor.@Nullable Key timeout;

    /** The request now being sent: the first, or its retry. */
    volatile @Nullable Request current;

    /** The current request's connection had carried a request before (it came from the pool). */
    volatile boolean reused;

    /** What the current request's connection had read before the request: see failed(). */
    volatile long bytesInBefore;

    /** The response timeout ran out (set on the IO thread; read by the retry's connect too). */
    volatile boolean timedOut;

    /** The current request has been sent in full (Jetty's onRequestSuccess). */
    volatile boolean requestSent;

    /** The retry's own connection, once connected: used for it alone, closed after it. */
    volatile org.eclipse.jetty.client.@Nullable Connection retryConnection;

    // Touched only on the IO thread.
    boolean retried;
    Content.@Nullable Source source;
    Content.@Nullable Chunk pending;
    @Nullable StreamSinkChannel sink;
    @Nullable Response response;
    Set<String> responseTokens = Set.of();
    boolean headersCopied;
    // Jetty's exchange is over (its connection back in the pool) / the body's last chunk is
    // written.
    boolean upstreamDone;
    boolean bodyWritten;
    volatile boolean ended;

    ServerToProxyResponse(
        HttpServerExchange exchange,
        HostPort target,
        ForwardHooks hooks,
        @Nullable ClientToProxyContent requestContent,
        String pathAndQuery,
        HeaderMap proxyToServerHeaders) {
      this.exchange = exchange;
      this.ioThread = exchange.getIoThread();
      this.target = target;
      this.hooks = hooks;
      this.requestContent = requestContent;
      this.pathAndQuery = pathAndQuery;
      this.proxyToServerHeaders = proxyToServerHeaders;
      this.repeatable =
          requestContent == null && SameLoopForwarder.idempotent(exchange.getRequestMethod());
    }

    /**
     * A new proxyToServerRequest for this exchange, without a body: the first one (the caller adds
     * the body) or a retry. A Jetty request is sent once only, hence a new one for each attempt.
     */
    Request newProxyToServerRequest() {
      return client
          .jetty()
          .newRequest(target.host(), target.port())
          .scheme("http")
          .method(exchange.getRequestMethod().toString())
          .path(pathAndQuery)
          .version(HttpVersion.HTTP_1_1)
          .timeout(0, TimeUnit.MILLISECONDS) // the response timeout covers time to headers
          .headers(this::copyProxyToServerHeaders)
          .onRequestBegin(this::requestBegun)
          .onRequestSuccess(this)
          .onRequestCommit(r -> hooks.proxyToServerCommitted(exchange));
    }

    private void copyProxyToServerHeaders(HttpFields.Mutable headers) {
      for (HeaderValues values : proxyToServerHeaders) {
        String name = values.getHeaderName().toString();
        for (String value : values) headers.add(name, value);
      }
    }

    /** The proxyToServerRequest has been sent in full. A Jetty thread. */
    @Override
    public void onSuccess(Request sent) {
      requestSent = true;
    }

    /** The request has a connection and is about to be written on it. A Jetty thread. */
    private void requestBegun(Request r) {
      connected = true;
      org.eclipse.jetty.client.Connection connection = r.getConnection();
      // Jetty counts the requests sent on a connection, this one included: more than one, and the
      // connection came from the pool, where the app may have closed it as idle meanwhile.
      if (connection instanceof org.eclipse.jetty.io.Connection counted) {
        reused = counted.getMessagesOut() > 1;
        bytesInBefore = counted.getBytesIn();
      } else {
        reused = false;
      }
      hooks.proxyToServerConnection(
          exchange,
          connection == null ? null : connection.getLocalSocketAddress(),
          connection == null ? null : connection.getRemoteSocketAddress());
    }

    @Override
    public void onHeaders(Response serverToProxyResponse) {
      cancelTimeout();
      ioThread.execute(() -> copyHeaders(serverToProxyResponse));
    }

    @Override
    public void onContentSource(Response serverToProxyResponse, Content.Source contentSource) {
      ioThread.execute(
          () -> {
            source = contentSource;
            pump();
          });
    }

    @Override
    public void onComplete(Result result) {
      // The retry's connection served this exchange alone (it is not in Jetty's pool).
      org.eclipse.jetty.client.Connection own = retryConnection;
      if (own != null) own.close();
      Throwable failure = result.getFailure();
      // A failure may be retried within the same response timeout: decided on the IO thread.
      if (failure == null) cancelTimeout();
      boolean responseBytes = failure != null && responseBytesRead(result.getRequest());
      ioThread.execute(
          () -> {
            if (failure != null) {
              failed(failure, responseBytes);
            } else {
              upstreamDone = true;
              // No body (HEAD, 204, 304), Jetty delivered none, or its last chunk is written.
              if (source == null || bodyWritten) end();
            }
          });
    }

    /**
     * Whether any byte came in on the request's connection since the request began: the app had
     * started to answer (Jetty counts bytes as it reads them, before it parses them). True when
     * Jetty cannot tell.
     */
    private boolean responseBytesRead(Request failed) {
      return !(failed.getConnection() instanceof org.eclipse.jetty.io.Connection counted)
          || counted.getBytesIn() > bytesInBefore;
    }

    /**
     * The request failed: sent again on a new connection if that is safe, else answered. IO thread.
     */
    private void failed(Throwable failure, boolean responseBytes) {
      if (!ended
          && repeatable
          && reused
          && !retried
          && !timedOut
          && !responseBytes
          && !headersCopied
          && !exchange.isResponseStarted()
          && classify(failure) == UpstreamError.RESET) {
        retry();
        return;
      }
      cancelTimeout();
      fail(failure);
    }

    /**
     * Sends the request again, once, on a connection of its own, within the first attempt's
     * response timeout: the pooled connection it went on had been closed by the app (it failed
     * before any byte of the response), and other pooled ones may be as old. The same headers go
     * (the headers hook is not called again); the connection hook is called for the new connection.
     * IO thread.
     */
    private void retry() {
      retried = true;
      retries.increment();
      connected = false;
      requestSent = false;
      reused = false;
      Request again = newProxyToServerRequest();
      current = again;
      HttpClient jetty = client.jetty();
      jetty
          .resolveDestination(again)
          .newConnection(
              Promise.from(
                  connection -> sendAgain(again, connection),
                  x -> ioThread.execute(() -> failed(x, false)))); // not connected: CONNECT
    }

    /** The retry's connection is open: the request goes on it, unless the exchange is over. */
    private void sendAgain(Request again, org.eclipse.jetty.client.Connection connection) {
      retryConnection = connection;
      // Written before read here, read after written in clientGone() and timedOut(): one of the
      // two sees the other and closes the connection.
      if (ended || timedOut) {
        connection.close();
        return;
      }
      connection.send(again, this);
    }

    /** The response timeout ran out before the response headers. IO thread. */
    void timedOut() {
      timedOut = true;
      // Not yet on a connection: connecting, or queued behind max-connections busy.
      String why =
          connected
              ? "no response in " + responseTimeoutMillis + "ms"
              : "no connection in "
                  + responseTimeoutMillis
                  + "ms (connecting, or waiting for one of upstream.max-connections = "
                  + client.jetty().getMaxConnectionsPerDestination()
                  + ")";
      TimeoutException timeout = new TimeoutException(why);
      Request r = current;
      if (r != null) {
        var unused = r.abort(timeout);
      }
      if (retried) {
        // The retry may not have reached Jetty yet (its connection still opening), so Jetty may
        // never report the abort: answered here; whatever Jetty reports later finds it ended.
        fail(timeout);
        closeRetryConnection();
      }
    }

    /** The exchange ended before the upstream's answer did (the client went away). IO thread. */
    void clientGone() {
      if (ended) return;
      ended = true;
      if (exchange.getAttachment(UpstreamFailure.KEY) == null) {
        exchange.putAttachment(
            UpstreamFailure.KEY,
            new UpstreamFailure(UpstreamError.CLIENT_ABORT, "connection closed"));
      }
      releasePending();
      Request r = current;
      if (r != null) {
        var unused = r.abort(new java.io.EOFException("client gone"));
      }
      closeRetryConnection();
    }

    private void closeRetryConnection() {
      org.eclipse.jetty.client.Connection own = retryConnection;
      if (own != null) own.close();
    }

    private void cancelTimeout() {
      XnioExecutor.Key key = timeout;
      if (key != null) key.remove();
    }

    private void copyHeaders(Response serverToProxyResponse) {
      if (ended) return;
      exchange.setStatusCode(serverToProxyResponse.getStatus());
      HeaderMap proxyToClientHeaders = exchange.getResponseHeaders();
      HttpFields serverHeaders = serverToProxyResponse.getHeaders();
      Set<String> tokens =
          HopByHop.connectionTokens(
              serverHeaders.get(org.eclipse.jetty.http.HttpHeader.CONNECTION));
      HopByHop.copyEndToEnd(serverHeaders, tokens, proxyToClientHeaders);
      response = serverToProxyResponse;
      responseTokens = tokens;
      hooks.proxyToClientHeaders(exchange, proxyToClientHeaders);
      headersCopied = true;
    }

    /** Moves chunks from Jetty to Undertow until one side has to wait. IO thread only. */
    private void pump() {
      Content.Source src = source;
      if (ended || src == null) return;
      if (sink == null) sink = exchange.getResponseChannel();
      StreamSinkChannel out = sink;
      while (true) {
        Content.Chunk chunk = pending;
        if (chunk == null) {
          chunk = src.read();
          if (chunk == null) {
            src.demand(() -> ioThread.execute(this::pump));
            return;
          }
          if (Content.Chunk.isFailure(chunk)) {
            fail(chunk.getFailure());
            return;
          }
          pending = chunk;
        }
        ByteBuffer buffer = chunk.getByteBuffer();
        try {
          while (buffer.hasRemaining()) {
            if (out.write(buffer) == 0) {
              out.getWriteSetter()
                  .set(
                      ch -> {
                        ch.suspendWrites();
                        ch.getWriteSetter().set(null);
                        pump();
                      });
              out.resumeWrites();
              return;
            }
          }
        } catch (java.io.IOException e) {
          src.fail(e);
          abortClient(UpstreamError.CLIENT_ABORT, e);
          return;
        }
        boolean last = chunk.isLast();
        chunk.release();
        pending = null;
        if (last) {
          passTrailers();
          // Ends once Jetty has put the connection back too (it does so before onComplete): else
          // the caller's next request on this connection could find the pool empty and open one.
          // Unless the request is still being sent (the app answered before the whole body, or
          // refused an Expect: 100-continue): then Jetty's exchange is not over, the connection
          // not reusable, and the exchange ends now (waiting, the rest of the
          // body would still reach the app, or the request's abort would cut the relayed answer).
          bodyWritten = true;
          if (upstreamDone || !requestSent) end();
          return;
        }
      }
    }

    /**
     * The trailers of the upstream's chunked body go to the client, less hop-by-hop fields (Jetty
     * parsed them before it ended the body): Undertow writes the exchange's RESPONSE_TRAILERS in
     * the last chunk.
     */
    private void passTrailers() {
      Response r = response;
      HttpFields trailers = r == null ? null : r.getTrailers();
      if (trailers == null || trailers.size() == 0) return;
      HeaderMap kept = new HeaderMap();
      HopByHop.copyEndToEnd(trailers, responseTokens, kept);
      if (kept.size() > 0) exchange.putAttachment(HttpAttachments.RESPONSE_TRAILERS, kept);
    }

    private void end() {
      if (ended) return;
      ended = true;
      stopReading();
      exchange.endExchange();
    }

    /**
     * The exchange failed: answer 502/504 if nothing was sent yet, else cut the connection. A
     * request body refused mid-way (its framing broke) is answered as a refusal instead.
     */
    private void fail(Throwable failure) {
      if (ended) return;
      ClientToProxyContent content = requestContent;
      RequestBodyCheck refused = content == null ? null : content.refused();
      if (refused != null) {
        refuse(refused);
        return;
      }
      UpstreamError kind = classify(failure);
      String message =
          kind == UpstreamError.RESPONSE_HEAD_TOO_LARGE
              ? UpstreamFailure.headTooLarge(client.maxResponseHeadBytes())
              : UpstreamFailure.rootMessage(failure);
      if (exchange.isResponseStarted() || (headersCopied && sink != null)) {
        abortClient(new UpstreamFailure(kind, message));
        return;
      }
      ended = true;
      releasePending();
      stopReading();
      new UpstreamFailure(kind, message).answer(exchange, hooks);
    }

    /**
     * The request body broke its framing after forwarding began. The upstream request has failed
     * with it (Jetty aborts on the failed body, so the upstream never gets a complete request);
     * here, on the IO thread and after the upstream's own callbacks for this exchange, the client
     * gets the refusal ({@code 400}, closed) if the app's response has not started, else a cut.
     */
    private void refuse(RequestBodyCheck check) {
      if (exchange.isResponseStarted() || (headersCopied && sink != null)) {
        abortClient(
            new UpstreamFailure(
                UpstreamError.CLIENT_ABORT, "malformed chunked body: " + check.violation()));
        return;
      }
      ended = true;
      releasePending();
      stopReading();
      // The exchange's span is the refusal's: error "refused: bad_chunked_body: ...".
      exchange.putAttachment(
          UpstreamFailure.KEY, new UpstreamFailure(UpstreamError.REFUSED, check.refusal()));
      check.refuse(exchange); // clears what copyHeaders may have set; ends the exchange
    }

    private void abortClient(UpstreamError kind, Throwable failure) {
      abortClient(new UpstreamFailure(kind, UpstreamFailure.rootMessage(failure)));
    }

    private void abortClient(UpstreamFailure failure) {
      if (!exchange.isComplete()) exchange.putAttachment(UpstreamFailure.KEY, failure);
      ended = true;
      releasePending();
      stopReading();
      // The response has begun: the only honest signal left is a cut connection.
      IoUtils.safeClose(exchange.getConnection());
      exchange.endExchange();
    }

    /** The body is no longer read for the upstream: a framing violation from now on cuts. */
    private void stopReading() {
      ClientToProxyContent content = requestContent;
      if (content != null) content.disarm();
    }

    private void releasePending() {
      Content.Chunk chunk = pending;
      pending = null;
      if (chunk != null) chunk.release();
    }

    private UpstreamError classify(Throwable failure) {
      ClientToProxyContent content = requestContent;
      if (content != null && content.clientFailure() != null) return UpstreamError.CLIENT_ABORT;
      if (!connected) return UpstreamError.CONNECT;
      for (Throwable t = failure; t != null; t = t.getCause()) {
        if (t instanceof TimeoutException || t instanceof java.net.SocketTimeoutException) {
          return UpstreamError.TIMEOUT;
        }
        // Jetty's HttpParser past HttpClient.maxResponseHeadersSize (UpstreamClient.create).
        if (t instanceof HttpException h && HEAD_TOO_LARGE.equals(h.getReason())) {
          return UpstreamError.RESPONSE_HEAD_TOO_LARGE;
        }
      }
      return UpstreamError.RESET;
    }
  }
}
