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
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.Content;
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
 * <p>Threading: everything that touches the Undertow exchange runs on its IO thread; Jetty's
 * callbacks hop there with {@code ioThread.execute}. Ending the exchange from a foreign thread made
 * Undertow's IO thread spin, so it is never done.
 */
public final class UpstreamForwarder implements Forwarder {

  private final UpstreamClient client;
  private final long responseTimeoutMillis;

  public UpstreamForwarder(UpstreamClient client, Duration responseTimeout) {
    this.client = client;
    this.responseTimeoutMillis = responseTimeout.toMillis();
  }

  @Override
  public void forward(HttpServerExchange exchange, HostPort target, ForwardHooks hooks) {
    exchange.dispatch(
        io.undertow.util.SameThreadExecutor.INSTANCE, () -> start(exchange, target, hooks));
  }

  private void start(HttpServerExchange exchange, HostPort target, ForwardHooks hooks) {
    String uri = exchange.getRequestURI(); // raw, as the client sent it
    if (exchange.isHostIncludedInRequestURI()) { // absolute-form: keep the path, the target decides
      int slash = uri.indexOf('/', uri.indexOf("://") + 3);
      uri = slash < 0 ? "/" : uri.substring(slash);
    }
    String query = exchange.getQueryString();
    String pathAndQuery = query.isEmpty() ? uri : uri + "?" + query;
    Request proxyToServerRequest =
        client
            .jetty()
            .newRequest(target.host(), target.port())
            .scheme("http")
            .method(exchange.getRequestMethod().toString())
            .path(pathAndQuery)
            .version(HttpVersion.HTTP_1_1)
            .timeout(0, TimeUnit.MILLISECONDS); // the response timeout below covers time to headers

    HeaderMap clientHeaders = exchange.getRequestHeaders();
    Set<String> tokens = HopByHop.connectionTokens(joined(clientHeaders, Headers.CONNECTION));
    // Undertow honours only a bare "Connection: close"; "close, X-Foo" must close as well.
    if (tokens.contains("close")) exchange.setPersistent(false);
    HeaderMap proxyToServerHeaders = new HeaderMap();
    HopByHop.copyEndToEnd(clientHeaders, tokens, proxyToServerHeaders);
    hooks.proxyToServerHeaders(exchange, proxyToServerHeaders);
    proxyToServerRequest.headers(
        headers -> {
          for (HeaderValues values : proxyToServerHeaders) {
            String name = values.getHeaderName().toString();
            for (String value : values) headers.add(name, value);
          }
        });

    ClientToProxyContent content = null;
    if (hasBody(exchange)) {
      content = new ClientToProxyContent(exchange);
      proxyToServerRequest.body(content);
      if (content.getLength() < 0) {
        ClientToProxyContent chunked = content;
        proxyToServerRequest.trailersSupplier(() -> jettyTrailers(chunked.trailers(), tokens));
      }
    }
    ServerToProxyResponse listener = new ServerToProxyResponse(exchange, hooks, content);
    // If the exchange ends first (the client went away), stop the upstream side too. Added after
    // the hop's own listeners, so it runs before them and they see the failure.
    exchange.addExchangeCompleteListener(
        (ex, next) -> {
          try {
            if (!listener.ended) {
              listener.ended = true;
              if (ex.getAttachment(UpstreamFailure.KEY) == null) {
                ex.putAttachment(
                    UpstreamFailure.KEY,
                    new UpstreamFailure(UpstreamError.CLIENT_ABORT, "connection closed"));
              }
              listener.releasePending();
              var unused = proxyToServerRequest.abort(new java.io.EOFException("client gone"));
            }
          } finally {
            next.proceed();
          }
        });
    proxyToServerRequest.onRequestBegin(
        r -> {
          listener.connected = true;
          org.eclipse.jetty.client.Connection connection = r.getConnection();
          hooks.proxyToServerConnection(
              exchange,
              connection == null ? null : connection.getLocalSocketAddress(),
              connection == null ? null : connection.getRemoteSocketAddress());
        });
    proxyToServerRequest.onRequestCommit(r -> hooks.proxyToServerCommitted(exchange));
    listener.timeout =
        exchange
            .getIoThread()
            .executeAfter(
                () -> {
                  // Not yet on a connection: connecting, or queued behind max-connections busy.
                  String why =
                      listener.connected
                          ? "no response in " + responseTimeoutMillis + "ms"
                          : "no connection in "
                              + responseTimeoutMillis
                              + "ms (connecting, or waiting for one of upstream.max-connections = "
                              + client.jetty().getMaxConnectionsPerDestination()
                              + ")";
                  var unused = proxyToServerRequest.abort(new TimeoutException(why));
                },
                responseTimeoutMillis,
                TimeUnit.MILLISECONDS);
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
  private static final class ServerToProxyResponse implements Response.Listener {
    final HttpServerExchange exchange;
    final XnioIoThread ioThread;
    final ForwardHooks hooks;
    final @Nullable ClientToProxyContent requestContent;
    volatile boolean connected;
    volatile XnioExecutor.@Nullable Key timeout;

    // Touched only on the IO thread.
    Content.@Nullable Source source;
    Content.@Nullable Chunk pending;
    @Nullable StreamSinkChannel sink;
    @Nullable Response response;
    Set<String> responseTokens = Set.of();
    boolean headersCopied;
    volatile boolean ended;

    ServerToProxyResponse(
        HttpServerExchange exchange,
        ForwardHooks hooks,
        @Nullable ClientToProxyContent requestContent) {
      this.exchange = exchange;
      this.ioThread = exchange.getIoThread();
      this.hooks = hooks;
      this.requestContent = requestContent;
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
      cancelTimeout();
      Throwable failure = result.getFailure();
      ioThread.execute(
          () -> {
            if (failure != null) {
              fail(failure);
            } else if (source == null) {
              end(); // no body (HEAD, 204, 304) or Jetty delivered none
            }
          });
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
          end();
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
      if (exchange.isResponseStarted() || (headersCopied && sink != null)) {
        abortClient(kind, failure);
        return;
      }
      ended = true;
      releasePending();
      stopReading();
      new UpstreamFailure(kind, UpstreamFailure.rootMessage(failure)).answer(exchange, hooks);
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
      }
      return UpstreamError.RESET;
    }
  }
}
