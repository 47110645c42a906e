package io.hoptrace.proxy.relay;

import io.hoptrace.propagation.HeaderGetter;
import io.hoptrace.propagation.HeaderSetter;
import io.hoptrace.proxy.CallerAddress;
import io.hoptrace.proxy.guard.DrainHandler;
import io.hoptrace.proxy.guard.GuardHandlers;
import io.hoptrace.proxy.upstream.UpstreamError;
import io.hoptrace.proxy.upstream.UpstreamFailure;
import io.undertow.connector.PooledByteBuffer;
import io.undertow.server.protocol.http.HttpOpenListener;
import io.undertow.util.StatusCodes;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.xnio.IoFuture;
import org.xnio.IoUtils;
import org.xnio.StreamConnection;
import org.xnio.conduits.ConduitStreamSinkChannel;
import org.xnio.conduits.ConduitStreamSourceChannel;

/**
 * One connection carried by a {@link ByteRelay}: a state machine on the connection's I/O thread.
 * Reads a request head, takes it or hands the connection to the Undertow path, writes the
 * upstream's head (and passes a Content-Length body), reads the upstream's response head, writes
 * the caller's, passes the body with its framing, writes the span line; then the next request.
 *
 * <p>What is the hop's own is its subclass's: the upstream a request goes to ({@link #target}), its
 * trace context ({@link #trace}), the fields added to each head ({@link #upstreamFields}, {@link
 * #responseFields}) and the span line ({@link #span}).
 *
 * <p>Buffers: {@code in} (the caller's bytes, from Undertow's pool: handed over with the connection
 * when the Undertow path takes it), {@code out} (to the upstream), {@code resp} (from the upstream)
 * and {@code head} (the caller's response head). Only one request is in flight: the caller's next
 * bytes are not read until its response is written, as Undertow does.
 */
public abstract class RelayedConnection {
  private static final int READ_HEAD = 0;
  private static final int FORWARDING = 1;
  private static final int CLOSED = 2;
  private static final int HANDED_OVER = 3;
  private static final int AWAITING_TARGET = 4; // a head whose target is being found elsewhere

  private static final int NONE = 0; // no body: HEAD, 204, 304
  private static final int LENGTH = 1;
  private static final int CHUNKED = 2;
  private static final int TO_CLOSE = 3; // ends when the app closes

  private static final byte[] HTTP_1_1 = ascii("HTTP/1.1");
  private static final byte[] CRLF = ascii("\r\n");
  private static final byte[] HOST = ascii("host");
  private static final byte[] CONTENT_LENGTH = ascii("content-length");
  private static final byte[] TRANSFER_ENCODING = ascii("transfer-encoding");
  private static final byte[] CONNECTION = ascii("connection");
  private static final byte[] UPGRADE = ascii("upgrade");
  private static final byte[] EXPECT = ascii("expect");
  private static final byte[] KEEP_ALIVE = ascii("keep-alive");
  private static final byte[] CLOSE = ascii("close");
  private static final byte[] CHUNKED_TOKEN = ascii("chunked");
  private static final byte[] HTTP_SCHEME = ascii("http://");
  private static final int MAX_LINES = 256;

  // tchar (RFC 9110 §5.6.2)
  private static final boolean[] TCHAR = new boolean[256];

  static {
    for (char c = '0'; c <= '9'; c++) TCHAR[c] = true;
    for (char c = 'a'; c <= 'z'; c++) TCHAR[c] = true;
    for (char c = 'A'; c <= 'Z'; c++) TCHAR[c] = true;
    for (char c : "!#$%&'*+-.^_`|~".toCharArray()) TCHAR[c] = true;
  }

  /** Reads the request head's fields (joined with commas). */
  protected static final HeaderGetter<RelayedConnection> GETTER = RelayedConnection::requestHeader;

  /** Writes fields into the upstream's head being written ({@link #upstreamFields}). */
  protected static final HeaderSetter<RelayedConnection> SETTER =
      new HeaderSetter<>() {
        @Override
        public void set(RelayedConnection carrier, String name, String value) {
          field(carrier.out, name, value);
        }

        @Override
        public void remove(RelayedConnection carrier, String name) {
          // every managed field was left out while the head was copied
        }
      };

  private final ByteRelay relay;
  protected final StreamConnection client;
  private final HttpOpenListener undertow;
  private final ByteRelay.Loop loop;
  private final ConduitStreamSourceChannel source;
  private final ConduitStreamSinkChannel sink;
  protected final CallerAddress caller;

  private @Nullable PooledByteBuffer inPooled;
  private ByteBuffer in;
  private @Nullable PooledByteBuffer outPooled;
  private final ByteBuffer none = ByteBuffer.allocate(0); // out and resp between requests
  private ByteBuffer out = none;
  private @Nullable PooledByteBuffer respPooled;
  private ByteBuffer resp = none;
  private ByteBuffer head = ByteBuffer.allocate(2048).limit(0);
  private final ByteBuffer[] toClient = new ByteBuffer[2];

  private int state = READ_HEAD;
  private boolean awaitTarget; // target() asked to wait (awaitTarget())
  private long lastActivityNanos;
  private long headStartNanos;

  // the upstream connection lent to the request in flight, or the one being opened, or the wait
  private ByteRelay.@Nullable Upstream upstream;
  private ByteRelay.@Nullable Pool pool;

  private @Nullable UpstreamConnection up;
  private @Nullable IoFuture<StreamConnection> connecting;
  private long connectStartNanos;
  private boolean waiting;
  private long waitStartNanos;

  // the request head being parsed (indexes into in)
  private final int[] lines = new int[MAX_LINES + 1];
  private int lineCount;
  private int headEnd;
  private int pathStart; // where the origin-form target starts in the request line

  // the request in flight
  private long startNanos;
  private String method = "";
  private String path = "";
  private String authority = ""; // an absolute-form target's; else ""
  private boolean tracing; // trace() goes on later: traced() resumes
  private long bodyLeft;
  private long bodyBytes;
  private boolean bodyless;
  private boolean closeAfter;
  private boolean reused;
  private boolean retried;
  private boolean sent;
  private int status;
  private @Nullable UpstreamFailure failure;

  // the response in flight
  private boolean responseHead;
  private boolean headWritten;
  private int framing;
  private long respLeft;
  private boolean responseComplete;
  private boolean upReusable;
  private long upProgressNanos;
  private int chunkState;
  private long chunkSize;

  protected RelayedConnection(
      ByteRelay relay, StreamConnection client, HttpOpenListener undertow, ByteRelay.Loop loop) {
    this.relay = relay;
    this.client = client;
    this.undertow = undertow;
    this.loop = loop;
    this.source = client.getSourceChannel();
    this.sink = client.getSinkChannel();
    this.caller = CallerAddress.of(client.getPeerAddress(InetSocketAddress.class));
    PooledByteBuffer pooled = ByteRelay.SMALL_BUFFERS.allocate();
    this.inPooled = pooled;
    this.in = pooled.getBuffer();
    in.clear();
  }

  // ---- work buffers: small ones while a connection's heads and bodies fit (most connections,
  // for their whole life); a listener's buffer from the first request that needs one on, kept

  private int largeBuffer() {
    return undertow.getBufferPool().getBufferSize();
  }

  /**
   * {@code in} is full and holds no whole head: true once it is a listener's buffer (it was a small
   * one); false when it was one already, and the connection went to the Undertow path, which judges
   * a head that large.
   */
  private boolean roomForHead() {
    if (in.capacity() >= largeBuffer()) {
      handOver();
      return false;
    }
    growIn();
    return true;
  }

  /** {@code in} as a listener's buffer, with the bytes it holds. */
  private void growIn() {
    PooledByteBuffer larger = undertow.getBufferPool().allocate();
    ByteBuffer b = larger.getBuffer().clear();
    in.flip();
    b.put(in);
    PooledByteBuffer old = inPooled;
    inPooled = larger;
    in = b;
    if (old != null) old.close();
  }

  void start() {
    lastActivityNanos = System.nanoTime();
    source.setReadListener(channel -> clientReadable());
    sink.setWriteListener(channel -> clientWritable());
    loop.add(this);
    if (!accepted()) {
      handOver();
      return;
    }
    clientReadable(); // bytes may have come with the connection
    if (state == READ_HEAD) source.resumeReads();
  }

  // ---- the caller's side

  private void clientReadable() {
    try {
      if (state == READ_HEAD) {
        readHead();
      } else if (state == FORWARDING && !tracing && bodyLeft > 0 && !out.hasRemaining()) {

        readBody();
      } else {
        // Bytes while a request is in flight (pipelined, or the body's end): read once it is
        // done. Reads stay on otherwise: turning them off and on for every request cost two
        // epoll_ctl calls.
        source.suspendReads();
      }
    } catch (IOException | RuntimeException e) {
      clientGone(e);
    }
  }

  private void readHead() throws IOException {
    int n = in.hasRemaining() ? source.read(in) : 0;
    if (n < 0) {
      close(); // the caller closed (or the head guard refused its head and ended the reads)
      return;
    }
    if (n > 0) {
      long now = System.nanoTime();
      if (in.position() == n) headStartNanos = now; // a head's first bytes
      lastActivityNanos = now;
    }
    if (in.position() == 0) return;
    int end = headEnd(in, 0, in.position());
    if (end < 0) {
      if (!in.hasRemaining() && roomForHead()) readHead();
      return;
    }
    begin(end);
  }

  private void readBody() throws IOException {
    if (bodyLeft > in.capacity() && in.capacity() < largeBuffer()) growIn();
    int n = source.read(in);
    if (n < 0) {
      fail(UpstreamError.CLIENT_ABORT, "connection closed");
      return;
    }
    if (n == 0) return;
    lastActivityNanos = System.nanoTime();
    sendUp();
  }

  private void clientWritable() {
    try {
      writeClient();
    } catch (RuntimeException e) {
      clientGone(e);
    }
  }

  private void clientGone(Exception e) {
    if (state == FORWARDING) {
      fail(UpstreamError.CLIENT_ABORT, UpstreamFailure.rootMessage(e));
    } else {
      close();
    }
  }

  // ---- a request

  /** A complete head in {@code in} [0, end): relays it or hands the connection over. */
  private void begin(int end) {
    headEnd = end;
    // The app's head is this one less some fields, plus at most ~2 KB of fields.
    int large = largeBuffer();
    if (end > large - 2048 || !plain(end)) {
      handOver();
      return;
    }
    ByteRelay.Upstream upstream = target();
    if (upstream == null) {
      if (awaitTarget) {
        awaitTarget = false;
        state = AWAITING_TARGET; // reads stay off (clientReadable) until targetKnown()
        return;
      }
      handOver(); // a target the hop leaves to the Undertow path (which may refuse it)
      return;
    }
    if (relay.guard.sheds()) {
      handOver(); // refused there, with its span line and counter
      return;
    }
    DrainHandler drain = relay.drain;
    if (drain != null && !drain.tryEnter()) {
      handOver(); // draining: refused there
      return;
    }
    this.upstream = upstream;
    state = FORWARDING;
    startNanos = System.nanoTime();
    relay.metrics.requestStarted(relay.hop);
    failure = null;
    status = 0;
    sent = false;
    retried = false;
    responseHead = false;
    headWritten = false;
    responseComplete = false;
    bodyBytes = 0;
    reused = false;
    boolean small = end + 2048 <= ByteRelay.SMALL_BUFFER && bodyLeft <= ByteRelay.SMALL_BUFFER;
    if (out.capacity() < (small ? ByteRelay.SMALL_BUFFER : large)) {
      PooledByteBuffer old = outPooled;
      outPooled = small ? ByteRelay.SMALL_BUFFERS.allocate() : undertow.getBufferPool().allocate();
      out = outPooled.getBuffer();
      if (old != null) old.close();
    }
    if (respPooled == null) {
      respPooled = ByteRelay.SMALL_BUFFERS.allocate();
      resp = respPooled.getBuffer().clear();
    }
    out.clear();
    if (!trace()) {
      tracing = true; // traced() goes on
      return;
    }
    forward();
  }

  /**
   * Goes on with a request whose {@link #trace} returned false, once its context is known: called
   * on the connection's I/O thread. Nothing happens if the request has ended meanwhile.
   */
  protected final void traced() {
    if (!tracing || state != FORWARDING) return;
    tracing = false;
    forward();
  }

  /** The upstream's head (and the body bytes that came with the request's), then a connection. */
  private void forward() {
    // Its pool only now: a sweep drops a pool with no connection open or awaited, as while the
    // context was being made elsewhere.
    ByteRelay.Upstream to = upstream;
    if (to == null) throw new IllegalStateException("no upstream");
    pool = to.pool(loop);
    int end = headEnd;

    writeUpstreamHead();
    // Body bytes that came with the head go out with it, as far as they fit.
    int after = in.position() - end;
    int move = (int) Math.min(Math.min(bodyLeft, after), out.remaining());
    for (int i = 0; i < move; i++) out.put(in.get(end + i));
    bodyLeft -= move;
    bodyBytes += move;
    out.flip();
    consume(end + move);
    ByteRelay.Pool p = pool;
    if (p != null) p.acquire(this, false);
  }

  /**
   * From {@link #target}, with null: the target is being found elsewhere (a name resolved on a
   * worker thread); the head waits, unread bytes behind it, until {@link #targetKnown}.
   */
  protected final void awaitTarget() {
    awaitTarget = true;
  }

  /**
   * Goes on with a head whose {@link #target} asked to wait, asking it again: called on the
   * connection's I/O thread. Nothing happens if the connection has closed meanwhile.
   */
  protected final void targetKnown() {
    if (state != AWAITING_TARGET) return;
    state = READ_HEAD;
    begin(headEnd);
  }

  /**
   * Whether the relay carries this connection at all (asked once, as it is accepted): false hands
   * it to the Undertow path before its first request.
   */
  protected boolean accepted() {
    return true;
  }

  /**
   * The upstream this request (its head parsed: {@link #method}, {@link #path}, {@link #authority},
   * {@link #requestHeader}) goes to; null hands the connection to the Undertow path, unless {@link
   * #awaitTarget} was called: then the head waits for {@link #targetKnown}.
   */
  protected abstract ByteRelay.@Nullable Upstream target();

  /**
   * The request's trace context, made before its head is written: true when done; false when it
   * goes on elsewhere, and {@link #traced} is called on this connection's thread when it is done.
   */
  protected abstract boolean trace();

  /** The fields the hop adds to the upstream's head (after the caller's, before the blank line). */
  protected abstract void upstreamFields(ByteBuffer out);

  /**
   * Each field line of the request head, as it is copied or left out ({@code dropped}): the name at
   * {@code at} ({@code nameLength} bytes), its colon at {@code colon}, the next line at {@code
   * next}. For a hop that uses a field's value ({@link #value}).
   */
  protected void requestField(ByteBuffer b, int at, int nameLength, int colon, int next) {}

  /** The request has gone to the upstream on a connection between these two addresses. */
  protected void sent(@Nullable SocketAddress upSide, @Nullable SocketAddress proxySide) {}

  /** A response head has come from the upstream, or hoptrace answers for it (502/504). */
  protected void responseBegun() {}

  /**
   * The fields the hop adds to every response head it writes (the upstream's, or its 502/504),
   * before {@code Connection: close} and the blank line.
   */
  protected abstract void responseFields(ByteBuffer h);

  /** How many bytes {@link #responseFields} may write, beyond a few hundred. */
  protected int responseFieldsExtra() {
    return 0;
  }

  /**
   * The request has ended ({@code status}: the caller's; {@code failure}: null unless forwarding
   * failed): the span line. The request metrics are counted already.
   */
  protected abstract void span(long endNanos, int status, @Nullable UpstreamFailure failure);

  /** The connection has closed (not handed over). */
  protected void closed() {}

  /** The request's method. */
  protected final String method() {
    return method;
  }

  /** The request's path (origin-form, without the query). */
  protected final String path() {
    return path;
  }

  /** The request's query (after {@code ?}), or "". */
  protected final String query() {
    return query;
  }

  /** An absolute-form request's authority ({@code host[:port]}), or "". */
  protected final String authority() {
    return authority;
  }

  /** When the request began ({@link System#nanoTime}). */
  protected final long startNanos() {
    return startNanos;
  }

  /**
   * Whether the head in {@code in} [0, end) is one the relay carries: {@code METHOD /path
   * HTTP/1.1}, header lines of a token name and a value without controls, one Host, no
   * Transfer-Encoding, Upgrade or Expect, at most one plain Content-Length, Connection only {@code
   * keep-alive} or {@code close}. Fills {@link #lines}, the method, path, body length and close
   * flag.
   */
  private boolean plain(int end) {
    ByteBuffer b = in;
    int sp1 = 0;
    while (sp1 < end && TCHAR[b.get(sp1) & 0xff]) sp1++;
    if (sp1 == 0 || sp1 >= end || b.get(sp1) != ' ') return false;
    if (sp1 == 7 && b.get(0) == 'C' && b.get(1) == 'O' && b.get(2) == 'N') return false; // CONNECT
    int at = sp1 + 1;
    int authorityStart = -1;
    if (relay.absoluteForm) {
      // http://authority/path: the authority without userinfo, then an origin-form path
      if (at + HTTP_SCHEME.length >= end || !is(b, at, HTTP_SCHEME.length, HTTP_SCHEME)) {
        return false;
      }
      at += HTTP_SCHEME.length;
      authorityStart = at;
      while (at < end && b.get(at) != '/') {
        byte c = b.get(at);
        if (c <= 0x20 || c >= 0x7f || c == '@' || c == '?' || c == '#') return false;
        at++;
      }
      if (at == authorityStart || at >= end) return false;
    }
    pathStart = at;
    if (b.get(at) != '/') return false;
    int query = -1;
    while (at < end) {
      byte c = b.get(at);
      if (c == ' ') break;
      if (c <= 0x20 || c >= 0x7f) return false;
      if (query < 0) {
        if (c == '?') {
          query = at;
        } else if (c == '%' || c == ';') {
          return false; // Undertow decodes the path (and drops parameters): its to do
        }
      } else if (c == '%' && controlEscape(b, at, end)) {
        return false;
      }
      at++;
    }
    int sp2 = at;
    if (sp2 + 10 > end) return false;
    for (int i = 0; i < 8; i++) if (b.get(sp2 + 1 + i) != HTTP_1_1[i]) return false;
    if (b.get(sp2 + 9) != '\r' || b.get(sp2 + 10) != '\n') return false;
    requestLine(sp1, authorityStart, query, sp2);
    // header lines
    lineCount = 0;
    int hosts = 0;
    int lengths = 0;
    long length = 0;
    closeAfter = false;
    at = sp2 + 11;
    while (at < end - 2) {
      if (lineCount == MAX_LINES || lineCount == relay.maxHeaders) return false;
      lines[lineCount++] = at;
      int colon = at;
      while (TCHAR[b.get(colon) & 0xff]) colon++;
      if (colon == at || b.get(colon) != ':') return false;
      int eol = colon + 1;
      while (true) {
        byte c = b.get(eol);
        if (c == '\r') break;
        if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
        eol++;
      }
      if (b.get(eol + 1) != '\n') return false;
      int nameLength = colon - at;
      if (!relay.underscoresAllowed) {
        for (int i = at; i < colon; i++) if (b.get(i) == '_') return false;
      }
      if (is(b, at, nameLength, HOST)) {
        hosts++;
      } else if (is(b, at, nameLength, CONTENT_LENGTH)) {
        lengths++;
        length = contentLength(b, colon + 1, eol);
        if (length < 0) return false;
      } else if (is(b, at, nameLength, TRANSFER_ENCODING)
          || is(b, at, nameLength, UPGRADE)
          || is(b, at, nameLength, EXPECT)) {
        return false;
      } else if (is(b, at, nameLength, CONNECTION)) {
        if (!connectionTokens(b, colon + 1, eol)) return false;
      }
      at = eol + 2;
    }
    if (hosts != 1 || lengths > 1) return false;
    lines[lineCount] = end - 2;
    bodyLeft = length;
    bodyless = length == 0;
    return true;
  }

  private byte[] lastLine = new byte[0]; // the request line the strings below are of
  private String query = "";

  /**
   * Method, authority, path and query, kept while the request line repeats (nearly always, per
   * route).
   */
  private void requestLine(int methodEnd, int authorityStart, int queryMark, int targetEnd) {
    ByteBuffer b = in;
    byte[] last = lastLine;
    boolean same = last.length == targetEnd;
    for (int i = 0; i < targetEnd && same; i++) same = b.get(i) == last[i];
    if (same) return;
    byte[] line = new byte[targetEnd];
    b.get(0, line);
    lastLine = line;
    method = string(b, 0, methodEnd);
    authority = authorityStart < 0 ? "" : string(b, authorityStart, pathStart);
    path = string(b, pathStart, queryMark < 0 ? targetEnd : queryMark);

    query = queryMark < 0 ? "" : string(b, queryMark + 1, targetEnd);
  }

  /**
   * Whether the Connection value in [from, to) is only keep-alive and close tokens; notes close.
   */
  private boolean connectionTokens(ByteBuffer b, int from, int to) {
    int at = from;
    while (at < to) {
      while (at < to && (b.get(at) == ' ' || b.get(at) == '\t' || b.get(at) == ',')) at++;
      int start = at;
      while (at < to && b.get(at) != ',' && b.get(at) != ' ' && b.get(at) != '\t') at++;
      if (at == start) break;
      if (is(b, start, at - start, CLOSE)) {
        closeAfter = true;
      } else if (!is(b, start, at - start, KEEP_ALIVE)) {
        return false;
      }
    }
    return true;
  }

  /** A percent-escape at {@code at} that decodes to a control character. */
  private static boolean controlEscape(ByteBuffer b, int at, int end) {
    if (at + 2 >= end) return false;
    int hi = Character.digit(b.get(at + 1), 16);
    int lo = Character.digit(b.get(at + 2), 16);
    if (hi < 0 || lo < 0) return false;
    int decoded = hi * 16 + lo;
    return decoded < 0x20 || decoded == 0x7f;
  }

  /**
   * The upstream's head into {@code out}: the request line (origin-form), the caller's fields less
   * the dropped ones, the hop's ({@link #upstreamFields}).
   */
  private void writeUpstreamHead() {
    ByteBuffer b = in;
    int firstLineEnd = lines[0];
    int methodEnd = method.length();
    for (int i = 0; i <= methodEnd; i++) out.put(b.get(i));
    for (int i = pathStart; i < firstLineEnd; i++) out.put(b.get(i));
    for (int l = 0; l < lineCount; l++) {
      int at = lines[l];
      int next = lines[l + 1];
      int colon = at;
      while (b.get(colon) != ':') colon++;
      int nameLength = colon - at;
      requestField(b, at, nameLength, colon, next);
      if (dropped(b, at, nameLength, relay.requestDropped)) continue;
      for (int i = at; i < next; i++) out.put(b.get(i));
    }
    upstreamFields(out);
    out.put(CRLF);
  }

  /** {@code value}, after {@code existing} and a comma when there is one. */
  protected static String join(@Nullable String existing, String value) {
    return existing == null || existing.isEmpty() ? value : existing + ", " + value;
  }

  /** The request head's value of {@code name}, several lines joined with commas; or null. */
  protected final @Nullable String requestHeader(String name) {
    String found = null;
    int n = name.length();
    ByteBuffer b = in;
    for (int l = 0; l < lineCount; l++) {
      int at = lines[l];
      if (at + n >= headEnd || b.get(at + n) != ':') continue;
      boolean same = true;
      for (int i = 0; i < n && same; i++) {
        same = (b.get(at + i) | 0x20) == (name.charAt(i) | 0x20);
      }
      if (!same) continue;
      String v = value(b, at + n, lines[l + 1]);
      found = found == null ? v : found + "," + v;
    }
    return found;
  }

  /** Drops [0, upTo) from {@code in}, keeping what follows (a body's rest, a next request). */
  private void consume(int upTo) {
    in.flip().position(upTo);
    in.compact();
  }

  // ---- the app's side

  /** The loop is opening a connection for this request. */
  void connecting(IoFuture<StreamConnection> future) {
    connecting = future;
    connectStartNanos = System.nanoTime();
  }

  /** Whether this request still waits for {@code future}'s connection (and stops waiting). */
  boolean connectingTo(IoFuture<? extends StreamConnection> future) {
    if (connecting != future || state != FORWARDING) return false;
    connecting = null;
    return true;
  }

  /** The loop has no free place: this request waits for one from now. */
  void waitingSince(long nanos) {
    waiting = true;
    waitStartNanos = nanos;
  }

  void connectFailed(Exception e) {
    fail(UpstreamError.CONNECT, UpstreamFailure.rootMessage(e));
  }

  /** The pool lends this request a connection to its upstream. */
  void lent(UpstreamConnection c) {
    waiting = false;
    ByteRelay.Pool p = pool;
    if (state != FORWARDING || p == null) {
      if (p != null) p.release(c, true);
      return;
    }
    up = c;
    c.owner = this;
    reused = c.requests > 0;
    c.connection.getSourceChannel().resumeReads();
    sendUp();
  }

  void upWritable() {
    sendUp();
  }

  /** Writes {@code out} to the app, then the body as the caller sends it. */
  private void sendUp() {
    UpstreamConnection a = up;
    if (a == null || state != FORWARDING) return;
    StreamConnection c = a.connection;
    try {
      if (!sent) {
        sent = true;
        a.requests++;
        sent(a.peer, a.local);
      }
      ConduitStreamSinkChannel upSink = c.getSinkChannel();
      while (true) {
        if (out.hasRemaining()) {
          upSink.write(out);
          if (out.hasRemaining()) {
            upSink.resumeWrites();
            return;
          }
        }
        upSink.suspendWrites();
        if (bodyLeft == 0) return;
        // the body: what the caller has sent, then wait for more
        out.clear();
        int move = (int) Math.min(Math.min(bodyLeft, in.position()), out.remaining());
        for (int i = 0; i < move; i++) out.put(in.get(i));
        out.flip();
        bodyLeft -= move;
        bodyBytes += move;
        consume(move);
        if (move == 0) {
          if (!responseComplete) source.resumeReads();
          return;
        }
      }
    } catch (IOException e) {
      upFailed(e);
    }
  }

  void upReadable() {
    UpstreamConnection a = up;
    if (a == null) return;
    StreamConnection c = a.connection;
    try {
      if (state != FORWARDING || responseComplete) {
        // past the response: the app closed its side, or sent what nobody asked for
        int n = c.getSourceChannel().read(ByteBuffer.allocate(1));
        if (n != 0) upReusable = false;
        c.getSourceChannel().suspendReads();
        return;
      }
      if (!resp.hasRemaining() && !growResponseBuffer()) return;
      int n = c.getSourceChannel().read(resp);
      if (n < 0) {
        upEnded();
        return;
      }
      if (n == 0) return;
      upProgressNanos = System.nanoTime();
      response();
    } catch (IOException e) {
      upFailed(e);
    }
  }

  /** The app closed its side: the end of a close-delimited response, or a failure. */
  private void upEnded() {
    if (responseHead && framing == TO_CLOSE) {
      responseComplete = true;
      upReusable = false;
      resp.flip();
      writeClient();
      return;
    }
    upFailed(new IOException("connection closed"));
  }

  private void upFailed(IOException e) {
    if (state != FORWARDING) {
      closeUpstream();
      return;
    }
    if (reused && !retried && bodyless && !responseHead && idempotent(method)) {
      // the app closed a kept connection as the request went out: once more on a new one
      retried = true;
      reused = false;
      relay.retries.increment();
      closeUpstream();
      out.rewind();
      sent = false;
      resp.clear();
      ByteRelay.Pool p = pool;
      if (p != null) p.acquire(this, true);
      return;
    }
    fail(UpstreamError.RESET, UpstreamFailure.rootMessage(e));
  }

  private static boolean idempotent(String method) {
    return switch (method) {
      case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE" -> true;
      default -> false;
    };
  }

  /** A response head that fills the buffer: a larger one, up to the limit; false past it. */
  private boolean growResponseBuffer() {
    if (resp.capacity() > relay.maxResponseHeadBytes + 4) {
      headTooLarge();
      return false;
    }
    ByteBuffer bigger =
        ByteBuffer.allocate(Math.min(resp.capacity() * 2, relay.maxResponseHeadBytes + 8));
    resp.flip();
    bigger.put(resp);
    resp = bigger; // the pooled one stays with respPooled, given back at close
    return true;
  }

  /** The app's bytes in {@code resp} [0, position): the head once whole, then the body. */
  private void response() {
    int from = 0;
    if (!responseHead) {
      int end;
      while (true) {
        end = headEnd(resp, 0, resp.position());
        if (end < 0) {
          if (resp.position() > relay.maxResponseHeadBytes) headTooLarge();
          return;
        }
        if (end - 2 > relay.maxResponseHeadBytes) {
          headTooLarge();
          return;
        }
        int code = statusOf(resp, end);
        if (code < 0) {
          fail(UpstreamError.RESET, "malformed response head");
          return;
        }
        if (code >= 100 && code < 200) {
          if (code == 101) {
            fail(UpstreamError.RESET, "101 Switching Protocols to a request without an upgrade");
            return;
          }
          // an interim response (103 Early Hints): not passed on, as the Undertow path does
          resp.flip().position(end);
          resp.compact();
          continue;
        }
        status = code;
        break;
      }
      responseBegun();
      if (!responseHeadFor(end)) {
        fail(UpstreamError.RESET, "malformed response framing");
        return;
      }
      responseHead = true;
      from = end;
    }
    int available = resp.position() - from;
    held = 0;
    consumed = available;
    int mine = bodyBytes(from, available);
    if (mine < 0) {
      fail(UpstreamError.RESET, "malformed chunked response body");
      return;
    }
    // bytes past the response: not HTTP as we take it
    if (consumed + held < available) upReusable = false;
    heldFrom = from + available - held;
    resp.flip();
    resp.position(from);
    resp.limit(from + mine);
    writeClient();
  }

  private void headTooLarge() {
    fail(
        UpstreamError.RESPONSE_HEAD_TOO_LARGE,
        UpstreamFailure.headTooLarge(relay.maxResponseHeadBytes));
  }

  /**
   * The caller's response head into {@code head} from the upstream's [0, end) (status parsed): its
   * framing noted, hop-by-hop and the hop's own fields left out, the hop's added ({@link
   * #responseFields}). False when its framing is not one we can pass on.
   */
  private boolean responseHeadFor(int end) {
    ByteBuffer b = resp;
    boolean http10 = b.get(7) == '0';
    int firstLineEnd = 0;
    while (b.get(firstLineEnd) != '\n') firstLineEnd++;
    firstLineEnd++;
    // Connection tokens, and the framing fields
    boolean close = http10;
    long length = -1;
    boolean chunked = false;
    boolean transferEncoding = false;
    tokenCount = 0;
    for (int at = firstLineEnd; at < end - 2; ) {
      int colon = at;
      while (colon < end && b.get(colon) != ':' && b.get(colon) != '\n') colon++;
      int eol = colon;
      while (eol < end && b.get(eol) != '\n') eol++;
      if (colon >= eol) return false;
      int n = colon - at;
      if (is(b, at, n, CONNECTION)) {
        int from = colon + 1;
        while (from < eol) {
          while (from < eol && (b.get(from) == ' ' || b.get(from) == ',' || b.get(from) == '\t')) {
            from++;
          }
          int start = from;
          while (from < eol && b.get(from) != ',' && b.get(from) > ' ') from++;
          if (from == start) break;
          if (is(b, start, from - start, CLOSE)) {
            close = true;
          } else if (is(b, start, from - start, KEEP_ALIVE)) {
            if (http10) close = false;
          } else if (tokenCount < tokenAt.length) {
            tokenAt[tokenCount] = start;
            tokenLength[tokenCount++] = from - start;
          } else {
            return false; // more listed fields than we keep track of
          }
        }
      } else if (is(b, at, n, CONTENT_LENGTH)) {
        long v = contentLength(b, colon + 1, eol);
        if (v < 0 || (length >= 0 && length != v)) return false;
        length = v;
      } else if (is(b, at, n, TRANSFER_ENCODING)) {
        transferEncoding = true;
        int to = trimEnd(b, colon + 1, eol);
        chunked = to - 7 > colon && is(b, to - 7, 7, CHUNKED_TOKEN);
      }
      at = eol + 1;
    }
    // Both: Transfer-Encoding wins (RFC 9112 §6.3); the Content-Length is not passed on, and the
    // connection is not kept (a message framed two ways is a smuggling attempt or a broken app).
    dropContentLength = transferEncoding && length >= 0;
    if (isHead(method) || status == 204 || status == 304) {
      framing = NONE;
      respLeft = 0;
    } else if (transferEncoding) {
      framing = chunked ? CHUNKED : TO_CLOSE;
      chunkState = SIZE;
      chunkSize = 0;
    } else if (length >= 0) {
      framing = LENGTH;
      respLeft = length;
    } else {
      framing = TO_CLOSE;
    }
    upReusable = !close && framing != TO_CLOSE && !dropContentLength;
    if (framing == TO_CLOSE) closeAfter = true;
    responseComplete = framing == NONE || (framing == LENGTH && respLeft == 0);

    ByteBuffer h = ensure(head, end + 512 + responseFieldsExtra());
    h.clear();
    h.put(HTTP_1_1);
    for (int i = 8; i < firstLineEnd; i++) h.put(b.get(i));
    for (int at = firstLineEnd; at < end - 2; ) {
      int colon = at;
      while (b.get(colon) != ':') colon++;
      int eol = colon;
      while (b.get(eol) != '\n') eol++;
      int n = colon - at;
      boolean drop =
          dropped(b, at, n, relay.responseDropped)
              || (tokenCount > 0 && listed(b, at, n))
              || (dropContentLength && is(b, at, n, CONTENT_LENGTH));
      if (!drop) for (int i = at; i <= eol; i++) h.put(b.get(i));
      at = eol + 1;
    }
    endFields(h);
    h.flip();
    head = h;
    return true;
  }

  // the response's Connection tokens other than close and keep-alive: the fields they name
  private final int[] tokenAt = new int[16];
  private final int[] tokenLength = new int[16];
  private int tokenCount;
  private boolean dropContentLength;

  /**
   * The fields hoptrace adds to every response head it writes, and the blank line: the hop's
   * ({@link #responseFields}), {@code Connection: close} when the connection ends after it.
   */
  private void endFields(ByteBuffer h) {
    responseFields(h);
    if (closeAfter) field(h, "Connection", "close");
    h.put(CRLF);
  }

  /** Whether the field named at [at, at+n) is listed by the response's Connection tokens. */
  private boolean listed(ByteBuffer b, int at, int n) {
    for (int t = 0; t < tokenCount; t++) {
      if (tokenLength[t] == n && sameIgnoringCase(b, tokenAt[t], at, n)) return true;
    }
    return false;
  }

  private static boolean sameIgnoringCase(ByteBuffer b, int x, int y, int n) {
    for (int i = 0; i < n; i++) if ((b.get(x + i) | 0x20) != (b.get(y + i) | 0x20)) return false;
    return true;
  }

  // a chunked response's trailer section: its bytes so far kept back until it is whole (and its
  // hop-by-hop fields left out), at [heldFrom, heldFrom + held) of the window
  private int held;
  private int heldFrom;
  private int consumed;

  // chunked framing states
  private static final int SIZE = 0;
  private static final int EXT = 1;
  private static final int SIZE_LF = 2;
  private static final int DATA = 3;
  private static final int DATA_CR = 4;
  private static final int DATA_LF = 5;
  private static final int TRAILER_START = 6;
  private static final int TRAILER = 7;
  private static final int FINAL_LF = 8;

  /**
   * How many of the {@code available} bytes at {@code from} belong to this response (the rest would
   * be past its end); marks it complete at its end. -1 on a malformed chunked body.
   */
  private int bodyBytes(int from, int available) {
    if (framing == NONE) {
      responseComplete = true;
      return 0;
    }
    if (framing == LENGTH) {
      int mine = (int) Math.min(respLeft, available);
      respLeft -= mine;
      if (respLeft == 0) responseComplete = true;
      return mine;
    }
    if (framing == TO_CLOSE) return available;
    ByteBuffer b = resp;
    int at = from;
    int end = from + available;
    int trailerStart = chunkState == TRAILER_START ? from : -1; // kept back from the last window
    while (at < end && !responseComplete) {
      if (chunkState == DATA) {
        int skip = (int) Math.min(chunkSize, end - at);
        at += skip;
        chunkSize -= skip;
        if (chunkSize == 0) chunkState = DATA_CR;
        continue;
      }
      byte c = b.get(at++);
      switch (chunkState) {
        case SIZE -> {
          int d = Character.digit(c, 16);
          if (d >= 0) {
            if (chunkSize > (Long.MAX_VALUE >> 5)) return -1;
            chunkSize = chunkSize * 16 + d;
          } else if (c == ';' || c == ' ' || c == '\t') {
            chunkState = EXT;
          } else if (c == '\r') {
            chunkState = SIZE_LF;
          } else {
            return -1;
          }
        }
        case EXT -> {
          if (c == '\r') chunkState = SIZE_LF;
        }
        case SIZE_LF -> {
          if (c != '\n') return -1;
          chunkState = chunkSize == 0 ? TRAILER_START : DATA;
          if (chunkSize == 0) trailerStart = at;
        }
        case DATA_CR -> {
          if (c != '\r') return -1;
          chunkState = DATA_LF;
        }
        case DATA_LF -> {
          if (c != '\n') return -1;
          chunkState = SIZE;
          chunkSize = 0;
        }
        case TRAILER_START -> chunkState = c == '\r' ? FINAL_LF : TRAILER;
        case TRAILER -> {
          if (c == '\n') chunkState = TRAILER_START;
        }
        case FINAL_LF -> {
          if (c != '\n') return -1;
          responseComplete = true;
        }
        default -> throw new IllegalStateException("chunk state " + chunkState);
      }
    }
    if (trailerStart < 0) return at - from;
    if (!responseComplete) {
      // the trailer section goes on in the next read: kept back, scanned again then
      held = end - trailerStart;
      if (held >= b.capacity() / 2) return -1; // a trailer section this large: refused
      chunkState = TRAILER_START;
      consumed = trailerStart - from;
      return trailerStart - from;
    }
    consumed = at - from;
    return filterTrailers(trailerStart, at) - from;
  }

  /**
   * Leaves the hop-by-hop fields (and those the response's Connection lists) out of the trailer
   * section at [start, end) of {@code resp} (its lines, then the blank line), in place; returns its
   * new end.
   */
  private int filterTrailers(int start, int end) {
    ByteBuffer b = resp;
    int to = start;
    int at = start;
    while (at < end - 2) {
      int eol = at;
      while (b.get(eol) != '\n') eol++;
      int colon = at;
      while (colon < eol && b.get(colon) != ':') colon++;
      int n = colon - at;
      boolean drop =
          colon == eol
              || dropped(b, at, n, relay.trailerDropped)
              || (tokenCount > 0 && listed(b, at, n));
      if (!drop) {
        for (int i = at; i <= eol; i++) b.put(to++, b.get(i));
      }
      at = eol + 1;
    }
    b.put(to++, (byte) '\r');
    b.put(to++, (byte) '\n');
    return to;
  }

  /** Writes {@code head} and then the body bytes in {@code resp} (read mode) to the caller. */
  private void writeClient() {
    if (state != FORWARDING) return;
    try {
      long written;
      if (head.hasRemaining()) {
        toClient[0] = head;
        toClient[1] = resp;
        written = sink.write(toClient, 0, 2);
        headWritten = true;
      } else {
        written = sink.write(resp);
      }
      if (written > 0) lastActivityNanos = System.nanoTime();
      UpstreamConnection a = up;
      if (head.hasRemaining() || resp.hasRemaining()) {
        if (a != null) a.connection.getSourceChannel().suspendReads(); // the caller is slower
        sink.resumeWrites();
        return;
      }
      sink.suspendWrites();
      ByteBuffer was = resp.clear();
      PooledByteBuffer wasPooled = null;
      if (!responseComplete && was.capacity() < largeBuffer()) {
        // a body past one small buffer: a listener's for the rest, and this connection's on
        wasPooled = respPooled;
        respPooled = undertow.getBufferPool().allocate();
        resp = respPooled.getBuffer().clear();
      }
      if (held > 0) { // a trailer section's start, kept until it is whole
        for (int i = 0; i < held; i++) resp.put(was.get(heldFrom + i));
        held = 0;
      }
      if (wasPooled != null) wasPooled.close();
      if (responseComplete) {
        ended();
      } else if (a != null) {
        a.connection.getSourceChannel().resumeReads();
      }
    } catch (IOException e) {
      fail(UpstreamError.CLIENT_ABORT, UpstreamFailure.rootMessage(e));
    }
  }

  /** The response is written: the span line, then the next request or the end. */
  private void ended() {
    record();
    boolean bodyUnsent = bodyLeft > 0 || out.hasRemaining();
    UpstreamConnection a = up;
    ByteRelay.Pool p = pool;
    if (a != null) {
      up = null;
      if (upReusable && !bodyUnsent) a.connection.getSourceChannel().resumeReads(); // idle: EOF?
      if (p != null) {
        p.release(a, upReusable && !bodyUnsent);
      } else {
        a.close();
      }
    }
    if (closeAfter || bodyUnsent) {
      close();
      return;
    }
    state = READ_HEAD;
    head.clear().limit(0);
    lastActivityNanos = System.nanoTime();
    if (in.position() > 0) {
      headStartNanos = lastActivityNanos;
      int end = headEnd(in, 0, in.position());
      if (end >= 0) {
        begin(end); // a pipelined request
        return;
      }
      if (!in.hasRemaining() && !roomForHead()) return;
    }
    source.resumeReads();
  }

  /**
   * Forwarding failed: answered 502/504 when no response head has been written (with the same
   * fields as the Undertow path: Proxy-Status, Via, traceresponse, the request id), else the
   * caller's connection is cut. The caller gone: nothing to answer.
   */
  private void fail(UpstreamError kind, String message) {
    if (state != FORWARDING) return;
    UpstreamFailure f = new UpstreamFailure(kind, message);
    failure = f;
    closeUpstream();
    if (kind == UpstreamError.CLIENT_ABORT || headWritten) {
      record();
      close();
      return;
    }
    responseBegun();
    status = kind.status();
    ByteBuffer body = f.body();
    if (bodyLeft > 0 || out.hasRemaining()) closeAfter = true; // the body's rest is not read
    ByteBuffer h = ensure(head, 1024 + body.remaining() + responseFieldsExtra());
    head = h;
    h.clear();
    h.put(HTTP_1_1);
    ascii(h, " " + status + " " + StatusCodes.getReason(status) + "\r\n");
    field(h, "Content-Type", "text/plain");
    field(h, "Content-Length", Integer.toString(body.remaining()));
    field(h, "Proxy-Status", GuardHandlers.proxyStatus(f));
    endFields(h);
    h.put(body);

    h.flip();
    resp.clear().limit(0);
    responseHead = true;
    responseComplete = true;
    upReusable = false;
    writeClient();
  }

  /** The request metrics and the span line, once per request. */
  private void record() {
    if (state != FORWARDING) return;
    state = READ_HEAD; // recorded: a close after this writes nothing more
    tracing = false;
    DrainHandler drain = relay.drain;
    if (drain != null) drain.exit();
    long endNanos = System.nanoTime();
    var metrics = relay.metrics;
    metrics.requestEnded(relay.hop);
    metrics.requestDone(relay.hop, endNanos - startNanos);
    UpstreamFailure f = failure;
    if (f != null) metrics.upstreamError(f.kind());
    span(endNanos, status == 0 ? 200 : status, f);
  }

  // ---- deadlines (the sweep)

  /** Called by the sweep on this connection's thread. */
  void check(long now) {
    if (state == READ_HEAD) {
      // As Undertow's parse and no-request timeouts: a head begun must be whole in time, and a
      // connection between requests may wait only so long.
      if (in.position() > 0
          ? now - headStartNanos > relay.headerTimeoutNanos
          : now - lastActivityNanos > relay.noRequestTimeoutNanos) {
        close();
      }
      return;
    }
    if (state != FORWARDING || tracing) return;
    if (waiting) {
      if (now - waitStartNanos > relay.responseTimeoutNanos) {
        ByteRelay.Pool p = pool;
        if (p != null) p.withdraw(this);
        waiting = false;
        fail(
            UpstreamError.TIMEOUT,
            "no upstream connection free in "
                + TimeUnit.NANOSECONDS.toMillis(relay.responseTimeoutNanos)
                + "ms (upstream.max-connections = "
                + relay.maxConnections
                + " open)");
      }
      return;
    }
    if (connecting != null) {
      if (now - connectStartNanos > relay.connectTimeoutNanos) {
        IoFuture<StreamConnection> f = connecting;
        connecting = null;
        if (f != null) f.cancel(); // its place comes back when the cancel completes it
        fail(UpstreamError.CONNECT, "connect timed out");
      }
      return;
    }
    if (bodyLeft > 0 && relay.bodyMinRate > 0) {
      long elapsed = now - startNanos;
      if (elapsed > relay.bodyRateGraceNanos && bodyBytes < relay.bodyMinRate * (elapsed / 1e9)) {
        relay.guard.countBodyTooSlow();
        fail(UpstreamError.CLIENT_ABORT, "request body too slow");
        return;
      }
    }
    if (!responseHead) {
      if (sent && now - startNanos > relay.responseTimeoutNanos) {
        fail(
            UpstreamError.TIMEOUT,
            "no response in " + TimeUnit.NANOSECONDS.toMillis(relay.responseTimeoutNanos) + "ms");
      }
    } else if (now - Math.max(upProgressNanos, lastActivityNanos) > relay.idleTimeoutNanos) {
      fail(
          UpstreamError.TIMEOUT,
          "idle for " + TimeUnit.NANOSECONDS.toMillis(relay.idleTimeoutNanos) + "ms");
    }
  }

  // ---- ends

  /** Gives the connection, and the bytes read and not used, to the Undertow path for good. */
  private void handOver() {
    state = HANDED_OVER;
    loop.remove(this);
    closeUpstream();
    releaseWorkBuffers();
    source.suspendReads();
    source.setReadListener(null);
    sink.setWriteListener(null);
    relay.handedOver.increment();
    PooledByteBuffer pooled = inPooled;
    inPooled = null;
    if (pooled == null) {
      IoUtils.safeClose(client);
      return;
    }
    pooled.getBuffer().flip();
    undertow.handleEvent(client, pooled);
  }

  /** Gives up the app connection (closed: it cannot carry another request), or the wait for one. */
  private void closeUpstream() {
    IoFuture<StreamConnection> f = connecting;
    if (f != null) {
      connecting = null;
      f.cancel(); // its place comes back when the cancel completes it (or the pool gets it)
    }
    if (waiting) {
      waiting = false;
      ByteRelay.Pool p = pool;
      if (p != null) p.withdraw(this);
    }
    UpstreamConnection a = up;
    if (a == null) return;
    up = null;
    a.close();
  }

  private void close() {
    if (state == FORWARDING) {
      if (failure == null) failure = new UpstreamFailure(UpstreamError.CLIENT_ABORT, "closed");
      record();
    }
    state = CLOSED;
    loop.remove(this);
    closeUpstream();
    IoUtils.safeClose(client);
    closed();
    releaseWorkBuffers();
    PooledByteBuffer pooled = inPooled;
    inPooled = null;
    if (pooled != null) pooled.close();
  }

  private void releaseWorkBuffers() {
    PooledByteBuffer o = outPooled;
    PooledByteBuffer r = respPooled;
    outPooled = null;
    respPooled = null;
    if (o != null) o.close();
    if (r != null) r.close();
    out = none;
    resp = none;
  }

  // ---- bytes

  /** Index just past the blank line ending a head in {@code b} [from, limit), or -1. */
  static int headEnd(ByteBuffer b, int from, int limit) {
    for (int i = from + 3; i < limit; i++) {
      if (b.get(i) == '\n'
          && b.get(i - 1) == '\r'
          && b.get(i - 2) == '\n'
          && b.get(i - 3) == '\r') {
        return i + 1;
      }
    }
    return -1;
  }

  /** The status code of {@code HTTP/1.x NNN ...} at the start of {@code b}, or -1. */
  private static int statusOf(ByteBuffer b, int end) {
    if (end < 14) return -1;
    for (int i = 0; i < 7; i++) if (b.get(i) != HTTP_1_1[i]) return -1;
    byte minor = b.get(7);
    if (minor != '0' && minor != '1') return -1;
    if (b.get(8) != ' ') return -1;
    int code = 0;
    for (int i = 9; i < 12; i++) {
      byte c = b.get(i);
      if (c < '0' || c > '9') return -1;
      code = code * 10 + (c - '0');
    }
    byte after = b.get(12);
    if (after != ' ' && after != '\r') return -1;
    return code;
  }

  private static boolean isHead(String method) {
    return method.equals("HEAD");
  }

  /** Whether the name at [at, at+n) is {@code lower}, ignoring case. */
  protected static boolean is(ByteBuffer b, int at, int n, byte[] lower) {
    if (n != lower.length) return false;
    for (int i = 0; i < n; i++) if ((b.get(at + i) | 0x20) != lower[i]) return false;
    return true;
  }

  private static boolean dropped(ByteBuffer b, int at, int n, byte[][] names) {
    for (byte[] name : names) if (is(b, at, n, name)) return true;
    return false;
  }

  /** The value of the line whose colon is at {@code colon} and which ends before {@code next}. */
  protected static String value(ByteBuffer b, int colon, int next) {
    int from = trimStart(b, colon + 1, next - 2);
    return string(b, from, trimEnd(b, from, next - 2));
  }

  /**
   * A Content-Length value in [from, to), blanks around it: 1 to 18 decimal digits (no sign, no
   * list, no overflow, as RequestGuardHandler.isContentLength); -1 otherwise.
   */
  private static long contentLength(ByteBuffer b, int from, int to) {
    int start = trimStart(b, from, to);
    int end = trimEnd(b, start, to);
    if (end == start || end - start > 18) return -1;
    long v = 0;
    for (int i = start; i < end; i++) {
      byte c = b.get(i);
      if (c < '0' || c > '9') return -1;
      v = v * 10 + (c - '0');
    }
    return v;
  }

  private static int trimStart(ByteBuffer b, int from, int to) {
    while (from < to && (b.get(from) == ' ' || b.get(from) == '\t')) from++;
    return from;
  }

  private static int trimEnd(ByteBuffer b, int from, int to) {
    while (to > from && (b.get(to - 1) == ' ' || b.get(to - 1) == '\t' || b.get(to - 1) == '\r')) {
      to--;
    }
    return to;
  }

  private static String string(ByteBuffer b, int from, int to) {
    byte[] bytes = new byte[to - from];
    b.get(from, bytes);
    return new String(bytes, StandardCharsets.ISO_8859_1);
  }

  /** {@code name: value} and a line end into {@code to}. */
  protected static void field(ByteBuffer to, String name, String value) {
    ascii(to, name);
    to.put((byte) ':').put((byte) ' ');
    ascii(to, value);
    to.put(CRLF);
  }

  private static void ascii(ByteBuffer to, String s) {
    for (int i = 0; i < s.length(); i++) to.put((byte) s.charAt(i));
  }

  /** {@code s}'s bytes (ASCII). */
  protected static byte[] ascii(String s) {

    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private static ByteBuffer ensure(ByteBuffer b, int capacity) {
    return b.capacity() >= capacity ? b : ByteBuffer.allocate(capacity);
  }
}
