package io.hoptrace.proxy.upstream;

import io.undertow.connector.PooledByteBuffer;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpAttachments;
import io.undertow.util.HeaderMap;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.io.Content;
import org.jspecify.annotations.Nullable;
import org.xnio.XnioIoThread;
import org.xnio.channels.StreamSourceChannel;

/**
 * The client's request body as Jetty request content, pulled with backpressure: Jetty reads a chunk
 * only when the upstream connection can take it, and Undertow reads from the client socket only
 * when Jetty asks. Nothing is buffered beyond one pooled buffer per chunk in flight.
 *
 * <p>Undertow's channel is only touched on the exchange's IO thread. When Jetty calls {@link
 * #read()} from its own thread, it gets a chunk read ahead on the IO thread, or null (and then
 * demands, which reads on the IO thread).
 */
final class ClientToProxyContent implements Request.Content {
  private final HttpServerExchange exchange;
  private final XnioIoThread ioThread;
  private final StreamSourceChannel channel;
  private final long length;
  // Armed while this reads the body; touched on the IO thread only.
  private final @Nullable RequestBodyCheck check;
  private final AtomicReference<Content.@Nullable Chunk> readAhead = new AtomicReference<>();
  private volatile @Nullable Throwable failure;
  private volatile @Nullable IOException clientFailure;
  private volatile boolean eof;
  // The body's trailer fields, as the client sent them; set before eof.
  private volatile @Nullable HeaderMap trailers;
  // Jetty's demand while it waits for the client socket to be readable; IO thread only.
  private @Nullable Runnable waiting;

  /** Must be called on the exchange's IO thread. */
  ClientToProxyContent(HttpServerExchange exchange) {
    this.exchange = exchange;
    this.ioThread = exchange.getIoThread();
    this.channel = exchange.getRequestChannel();
    this.length = exchange.getRequestContentLength();
    RequestBodyCheck bodyCheck = exchange.getAttachment(RequestBodyCheck.KEY);
    if (bodyCheck != null) bodyCheck.armed(true);
    this.check = bodyCheck;
  }

  /** The request's Content-Length, or -1 when chunked: then Jetty sends it chunked too. */
  @Override
  public long getLength() {
    return length;
  }

  /**
   * None: a body the client sent without a Content-Type goes without one (Jetty's default would add
   * {@code application/octet-stream}); one it sent is among the copied headers.
   */
  @Override
  public @Nullable String getContentType() {
    return null;
  }

  /**
   * The trailer fields of the client's chunked body once it has ended (Undertow's decoder attaches
   * them as it reads the last chunk), else null. Any thread.
   */
  @Nullable HeaderMap trailers() {
    return trailers;
  }

  /** The client failed to deliver the body (the caller may record a client abort). */
  @Nullable IOException clientFailure() {
    return clientFailure;
  }

  /**
   * The body's framing check once it has found a violation (the request is to be refused, not
   * forwarded), else null. IO thread only.
   */
  @Nullable RequestBodyCheck refused() {
    RequestBodyCheck c = check;
    return c != null && c.violation() != null ? c : null;
  }

  /**
   * The forwarder no longer reads the body (the exchange is ending): from now on a framing
   * violation cuts the connection. IO thread only.
   */
  void disarm() {
    RequestBodyCheck c = check;
    if (c != null) c.armed(false);
    if (eof || failure != null || exchange.isRequestComplete()) return;
    // The exchange ends before the body did (the app answered early, or the exchange failed).
    // Undertow now drains the rest of the body itself, to keep or cut the connection, so this can
    // no longer deliver it: fail the body, so that Jetty aborts the upstream request rather than
    // waiting on a read that never comes or ending the body where Undertow's drain left off.
    failure = new IOException("the exchange ended before the request body was forwarded");
    Runnable demanded = waiting;
    waiting = null;
    if (demanded != null) {
      channel.suspendReads();
      channel.getReadSetter().set(null);
      demanded.run();
    }
  }

  @Override
  public Content.@Nullable Chunk read() {
    Content.Chunk ahead = readAhead.getAndSet(null);
    if (ahead != null) return ahead;
    Throwable f = failure;
    if (f != null) return Content.Chunk.from(f, true);
    if (eof) return Content.Chunk.EOF;
    if (Thread.currentThread() != ioThread) return null;
    return readOnIoThread();
  }

  private Content.@Nullable Chunk readOnIoThread() {
    PooledByteBuffer pooled = exchange.getConnection().getByteBufferPool().allocate();
    ByteBuffer buffer = pooled.getBuffer();
    int n;
    try {
      n = channel.read(buffer);
    } catch (IOException e) {
      pooled.close();
      clientFailure = e;
      failure = e;
      return Content.Chunk.from(e, true);
    }
    if (n == 0) {
      pooled.close();
      RequestBodyCheck c = check;
      if (c != null && c.violation() != null) {
        // The body broke its framing and stops here: Jetty aborts the upstream request, and the
        // forwarder answers the refusal when that failure reaches it (on this thread).
        c.armed(false);
        IOException e = new IOException("malformed chunked body: " + c.violation());
        failure = e;
        return Content.Chunk.from(e, true);
      }
      return null;
    }
    if (n < 0) {
      pooled.close();
      if (!exchange.isRequestComplete()) {
        // Not the body's end: the exchange's request channel reports -1 once it was detached (the
        // connection was cut, e.g. by a framing violation found after the exchange ended). Ending
        // the body here would give the app a complete request, cut where hoptrace stopped.
        IOException e = new IOException("request body cut short");
        failure = e;
        return Content.Chunk.from(e, true);
      }
      trailers = exchange.getAttachment(HttpAttachments.REQUEST_TRAILERS);
      eof = true;
      return Content.Chunk.EOF;
    }
    buffer.flip();
    return Content.Chunk.from(buffer, false, pooled::close);
  }

  @Override
  public void demand(Runnable demandCallback) {
    ioThread.execute(
        () -> {
          if (readAhead.get() != null || failure != null || eof) {
            demandCallback.run();
            return;
          }
          Content.Chunk chunk = readOnIoThread();
          if (chunk != null) {
            readAhead.set(chunk);
            demandCallback.run();
            return;
          }
          waiting = demandCallback;
          channel
              .getReadSetter()
              .set(
                  ch -> {
                    ch.suspendReads();
                    ch.getReadSetter().set(null);
                    Runnable demanded = waiting;
                    waiting = null;
                    if (demanded != null) demanded.run();
                  });
          channel.resumeReads();
        });
  }

  @Override
  public void fail(Throwable cause) {
    // Jetty gave up on the request (the upstream failed or answered early): stop reading.
    if (failure == null) failure = cause;
    Content.Chunk ahead = readAhead.getAndSet(null);
    if (ahead != null) ahead.release();
  }

  @Override
  public boolean rewind() {
    return false; // a streamed body cannot be replayed, so Jetty never retries it
  }
}
