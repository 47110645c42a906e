import io.hoptrace.config.Settings;
import io.hoptrace.context.TraceContext;
import io.hoptrace.correlation.InboundRegistry;
import io.hoptrace.correlation.InboundRequest;
import io.hoptrace.propagation.CompositeExtractor;
import io.hoptrace.propagation.Extraction;
import io.hoptrace.propagation.HeaderGetter;
import io.hoptrace.propagation.HeaderSetter;
import io.hoptrace.propagation.Injector;
import io.hoptrace.propagation.requestid.RequestIdCodec;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.proxy.upstream.HopByHop;
import io.hoptrace.proxy.spanlog.SpanLogWriter;
import io.hoptrace.span.EpochMicros;
import io.hoptrace.span.IntTexts;
import io.hoptrace.span.Kind;
import io.hoptrace.span.Span;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The floor of a JVM tracing sidecar: what the least a Java reverse proxy can do per request costs
 * on this machine, next to nginx's. A measuring instrument for {@code bench/lib/floor.sh}, not a
 * product: one thread, one selector, java.nio only, heads relayed as bytes (no parse into a map,
 * no re-encode), new ids on every request ({@code traceparent} and {@code X-Request-Id} added to
 * the request head, as the bench's nginx sidecar does), one JSON span line per request into a 64 KB
 * buffer written when full or after a second (nginx's {@code buffer=64k flush=1s}).
 *
 * <p>What it leaves out, on purpose: request bodies (a request with one is answered 501), responses
 * without a Content-Length (the connection is closed), hop-by-hop headers (passed as they are),
 * incoming trace context, the correlator, limits, metrics. Each is work hoptrace does; the floor
 * says what is left for all of it between a bare byte relay and nginx.
 *
 * <p>{@code traced} adds, still on bytes, hoptrace's own per-request work through its own classes
 * (compiled against hoptrace.jar): the incoming context read by its extractor from the head's lines,
 * a new SERVER context and request id, the request registered in (delivered to, ended in) the
 * correlator's ring, the trace headers written by its injector in place of the caller's, hop-by-hop
 * and trace fields left out of the heads both ways, {@code X-Forwarded-For/-Proto/-Host} and {@code
 * Via} added to the request, {@code Via}, {@code traceresponse} and the request id to the response,
 * the request metrics, and the span line built and queued to hoptrace's span-log writer (its
 * thread, its batching) — what a byte-level inbound hop of hoptrace would do per request.
 *
 * <p>Usage: {@code java Floor LISTEN_PORT UPSTREAM_PORT SPAN_LOG [traced]} (127.0.0.1 both).
 */
public final class Floor {
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] TRACEPARENT = "traceparent: 00-".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] REQUEST_ID = "X-Request-Id: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] HOST = "host:".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] TRANSFER_ENCODING =
      "transfer-encoding:".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CONTENT_LENGTH =
      "content-length:".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] NOT_IMPLEMENTED =
      "HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII);
  private static final int BUFFER = 16384;
  private static final int SPAN_FLUSH = 64 * 1024;

  // Fields left out of both heads: hop-by-hop (RFC 9110 §7.6.1, hoptrace's fixed set), the
  // traceresponse hoptrace answers with, and the trace fields the injector writes.
  private static final byte[][] DROPPED;

  static {
    List<String> names = new java.util.ArrayList<>(HopByHop.fixedFields());
    names.add("traceresponse"); // replaced, as hoptrace does (Via is added to, not replaced)
    names.addAll(Injector.MANAGED_HEADERS);
    DROPPED = new byte[names.size()][];
    for (int i = 0; i < DROPPED.length; i++) {
      DROPPED[i] = names.get(i).toLowerCase(Locale.ROOT).getBytes(StandardCharsets.US_ASCII);
    }
  }

  private static final HeaderGetter<Conn> GETTER = Conn::header;
  private static final HeaderSetter<Conn> SETTER =
      new HeaderSetter<>() {
        @Override
        public void set(Conn carrier, String name, String value) {
          ascii(carrier.out, name);
          carrier.out.put((byte) ':').put((byte) ' ');
          ascii(carrier.out, value);
          carrier.out.put((byte) '\r').put((byte) '\n');
        }

        @Override
        public void remove(Conn carrier, String name) {} // left out while the head was copied
      };

  private final Selector selector;
  private final InetSocketAddress upstream;
  private final FileChannel spanLog;
  private final boolean traced;
  private final CompositeExtractor extractor = CompositeExtractor.newBuilder().build();
  private final Injector injector =
      Injector.newBuilder().b3(Injector.B3Style.NONE).requestIdHeader(RequestIdCodec.NAME).build();
  private final InboundRegistry registry = InboundRegistry.newBuilder().build();
  private final ProxyMetrics metrics = new ProxyMetrics();
  private final Span.Builder span = Span.newBuilder();
  private SpanLogWriter writer; // traced only
  private final ByteBuffer spans = ByteBuffer.allocateDirect(SPAN_FLUSH + 4096);
  private final SplittableRandom random = new SplittableRandom();
  private long lastFlush = System.nanoTime();

  private Floor(
      Selector selector, InetSocketAddress upstream, FileChannel spanLog, boolean traced) {
    this.selector = selector;
    this.upstream = upstream;
    this.spanLog = spanLog;
    this.traced = traced;
  }

  public static void main(String[] args) throws IOException {
    boolean traced = args.length == 4 && args[3].equals("traced");
    if (args.length != 3 && !traced) {
      System.err.println("usage: java Floor LISTEN_PORT UPSTREAM_PORT SPAN_LOG [traced]");
      System.exit(2);
    }
    Selector selector = Selector.open();
    ServerSocketChannel server = ServerSocketChannel.open();
    server.bind(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0])), 1024);
    server.configureBlocking(false);
    server.register(selector, SelectionKey.OP_ACCEPT);
    FileChannel log =
        FileChannel.open(
            Path.of(traced ? "/dev/null" : args[2]),
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.APPEND);
    Floor floor =
        new Floor(selector, new InetSocketAddress("127.0.0.1", Integer.parseInt(args[1])), log, traced);
    if (traced) {
      // hoptrace's span-log settings (reference.conf), to the given file, never rotated
      Settings settings =
          Settings.load(null, Map.of(), Map.of("span-log.path", args[2], "span-log.rotate-size", "0"));
      floor.writer = new SpanLogWriter(settings.spanLog());
    }
    floor.loop(server);
  }

  private void loop(ServerSocketChannel server) throws IOException {
    while (true) {
      selector.select(1000);
      Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
      while (keys.hasNext()) {
        SelectionKey key = keys.next();
        keys.remove();
        if (!key.isValid()) continue;
        if (key.channel() == server) {
          accept(server);
          continue;
        }
        Conn conn = (Conn) key.attachment();
        try {
          if (key == conn.upKey) {
            conn.upstreamReady(key);
          } else {
            conn.clientReady(key);
          }
        } catch (IOException | RuntimeException e) {
          conn.close();
        }
      }
      if (System.nanoTime() - lastFlush > 1_000_000_000L) flushSpans();
      if (traced) registry.advanceIfDue(); // hoptrace's ring timer, on this thread
    }
  }

  private void accept(ServerSocketChannel server) throws IOException {
    SocketChannel client;
    while ((client = server.accept()) != null) {
      client.configureBlocking(false);
      client.setOption(StandardSocketOptions.TCP_NODELAY, true);
      Conn conn = new Conn(client);
      if (client.getRemoteAddress() instanceof InetSocketAddress peer) {
        conn.peerIp = peer.getAddress().getHostAddress();
        conn.peerPort = peer.getPort();
      }
      conn.clientKey = client.register(selector, SelectionKey.OP_READ, conn);
    }
  }

  private void flushSpans() throws IOException {
    lastFlush = System.nanoTime();
    if (spans.position() == 0) return;
    spans.flip();
    while (spans.hasRemaining()) spanLog.write(spans);
    spans.clear();
  }

  private static void hex(ByteBuffer to, long v, int digits) {
    for (int shift = digits * 4 - 4; shift >= 0; shift -= 4) to.put(HEX[(int) (v >>> shift) & 15]);
  }

  private static void ascii(ByteBuffer to, String s) {
    for (int i = 0; i < s.length(); i++) to.put((byte) s.charAt(i));
  }

  /** Index of the blank line ending a head in {@code b}'s [from, limit), past it; or -1. */
  private static int headEnd(ByteBuffer b, int from, int limit) {
    for (int i = Math.max(from, 3); i < limit; i++) {
      if (b.get(i) == '\n' && b.get(i - 1) == '\r' && b.get(i - 2) == '\n' && b.get(i - 3) == '\r') {
        return i + 1;
      }
    }
    return -1;
  }

  /** The Content-Length in head [0, end) of {@code b}, -1 if none; -2 if it has a body we refuse. */
  private static long contentLength(ByteBuffer b, int end) {
    int line = 0;
    while (line < end) {
      int eol = line;
      while (eol < end && b.get(eol) != '\n') eol++;
      if (matches(b, line, CONTENT_LENGTH)) {
        long n = 0;
        for (int i = line + CONTENT_LENGTH.length; i < eol; i++) {
          byte c = b.get(i);
          if (c >= '0' && c <= '9') n = n * 10 + (c - '0');
        }
        return n;
      }
      if (matches(b, line, TRANSFER_ENCODING)) return -2;
      line = eol + 1;
    }
    return -1;
  }

  /** Whether the header line at {@code at} names one of {@link #DROPPED}. */
  private static boolean dropped(ByteBuffer b, int at) {
    for (byte[] name : DROPPED) {
      if (matches(b, at, name) && at + name.length < b.limit() && b.get(at + name.length) == ':') {
        return true;
      }
    }
    return false;
  }

  private static String string(ByteBuffer b, int from, int to) {
    byte[] bytes = new byte[to - from];
    b.get(from, bytes);
    return new String(bytes, StandardCharsets.ISO_8859_1);
  }

  private static boolean matches(ByteBuffer b, int at, byte[] lowerName) {
    if (at + lowerName.length > b.limit()) return false;
    for (int i = 0; i < lowerName.length; i++) {
      if ((b.get(at + i) | 0x20) != lowerName[i]) return false;
    }
    return true;
  }

  private final class Conn {
    final SocketChannel client;
    SelectionKey clientKey;
    SocketChannel up;
    SelectionKey upKey;
    final ByteBuffer in = ByteBuffer.allocateDirect(BUFFER); // the client's request bytes
    final ByteBuffer out = ByteBuffer.allocateDirect(BUFFER); // the head to send upstream
    ByteBuffer resp = ByteBuffer.allocateDirect(BUFFER); // the response, to the client
    boolean busy; // a request is upstream
    boolean connected;
    boolean headSeen; // of the response
    long toRelay; // response bytes left to pass on, once its head is seen
    int status;
    int methodEnd;
    int pathEnd;
    long startNanos;
    long startMicros;
    long traceHi;
    long traceLo;
    long spanId;
    // traced
    String peerIp;
    int peerPort;
    final int[] lines = new int[128]; // where each header line of the request head starts
    int lineCount;
    int headLimit; // the request head's blank line
    ByteBuffer scratch = ByteBuffer.allocateDirect(BUFFER);
    byte[] lastLine = new byte[0]; // the request line the strings below are of
    String method = "";
    String path = "";
    String routeKey = "";
    String spanName = "";
    TraceContext server;
    String traceparent;
    String contextTag;
    InboundRequest registered;

    Conn(SocketChannel client) {
      this.client = client;
    }

    /** The request head's value of {@code name} (several lines joined with commas), or null. */
    String header(String name) {
      String found = null;
      int n = name.length();
      for (int l = 0; l < lineCount; l++) {
        int at = lines[l];
        if (at + n >= headLimit || in.get(at + n) != ':') continue;
        boolean same = true;
        for (int i = 0; i < n && same; i++) {
          same = (in.get(at + i) | 0x20) == (name.charAt(i) | 0x20);
        }
        if (!same) continue;
        int from = at + n + 1;
        int to = l + 1 < lineCount ? lines[l + 1] - 2 : headLimit - 2;
        while (from < to && (in.get(from) == ' ' || in.get(from) == '\t')) from++;
        while (to > from && (in.get(to - 1) == ' ' || in.get(to - 1) == '\t')) to--;
        String value = string(in, from, to);
        found = found == null ? value : found + "," + value;
      }
      return found;
    }

    /** Method, path, their route key and span name, kept while the request line repeats. */
    void requestLine(int sp1, int sp2) {
      boolean same = lastLine.length == sp2;
      for (int i = 0; i < sp2 && same; i++) same = in.get(i) == lastLine[i];
      if (same) return;
      lastLine = new byte[sp2];
      in.get(0, lastLine);
      method = string(in, 0, sp1);
      int q = sp1 + 1;
      while (q < sp2 && in.get(q) != '?') q++;
      path = string(in, sp1 + 1, q);
      routeKey = method + " " + path; // as hoptrace's RouteKeys: key GET /p, span name get /p
      spanName = method.toLowerCase(Locale.ROOT) + " " + path;
    }

    /** The request head for the app, from the client's [0, end): see the class comment. */
    void tracedHead(int sp1, int sp2, int end) {
      int firstLine = 0;
      while (in.get(firstLine) != '\n') firstLine++;
      headLimit = end;
      lineCount = 0;
      for (int at = firstLine + 1; at < end - 2 && lineCount < lines.length; ) {
        lines[lineCount++] = at;
        while (in.get(at) != '\n') at++;
        at++;
      }
      requestLine(sp1, sp2);
      Extraction extraction = extractor.extract(this, GETTER, true);
      server = extraction.newServerContext(RequestIdCodec::newRequestId);
      contextTag = extraction.outcome().tagValue();
      registered =
          registry.begin(
              server,
              routeKey,
              server.requestId(),
              null,
              registry.ticker().readAt(startNanos),
              null);
      metrics.requestStarted(ProxyMetrics.Hop.INBOUND);
      for (int i = 0; i <= firstLine; i++) out.put(in.get(i));
      String host = null;
      for (int l = 0; l < lineCount; l++) {
        int at = lines[l];
        int to = l + 1 < lineCount ? lines[l + 1] : end - 2;
        if (dropped(in, at)) continue;
        if (host == null && matches(in, at, HOST)) host = string(in, at + 5, to - 2).strip();
        for (int i = at; i < to; i++) out.put(in.get(i));
      }
      SETTER.set(this, "X-Forwarded-For", peerIp);
      SETTER.set(this, "X-Forwarded-Proto", "http");
      if (host != null) SETTER.set(this, "X-Forwarded-Host", host);
      SETTER.set(this, "Via", "1.1 hoptrace");
      traceparent = injector.inject(server, this, SETTER);
      out.put((byte) '\r').put((byte) '\n');
      registry.delivered(registered, registry.ticker().read());
    }

    /**
     * Replaces the response head in {@code resp} [0, end) by the caller's: hop-by-hop and trace
     * fields left out, Via, traceresponse and the request id added; the body bytes after it kept.
     */
    int tracedResponseHead(int end) {
      registry.end(registered, registry.ticker().read());
      ByteBuffer to = scratch;
      to.clear();
      int at = 0;
      while (resp.get(at) != '\n') to.put(resp.get(at++));
      to.put(resp.get(at++));
      while (at < end - 2) {
        int eol = at;
        while (resp.get(eol) != '\n') eol++;
        if (!dropped(resp, at)) {
          for (int i = at; i <= eol; i++) to.put(resp.get(i));
        }
        at = eol + 1;
      }
      ascii(to, "Via: 1.1 hoptrace\r\ntraceresponse: ");
      ascii(to, traceparent);
      ascii(to, "\r\nX-Request-Id: ");
      ascii(to, server.requestId());
      to.put((byte) '\r').put((byte) '\n').put((byte) '\r').put((byte) '\n');
      int head = to.position();
      for (int i = end; i < resp.position(); i++) to.put(resp.get(i));
      scratch = resp;
      resp = to;
      return head;
    }

    void clientReady(SelectionKey key) throws IOException {
      if (key.isWritable()) {
        writeToClient();
        return;
      }
      if (client.read(in) < 0) {
        close();
        return;
      }
      if (!busy) nextRequest();
    }

    void nextRequest() throws IOException {
      int end = headEnd(in, 0, in.position());
      if (end < 0) {
        if (!in.hasRemaining()) close(); // a head over 16 KB
        return;
      }
      long length = contentLength(in, end);
      if (length > 0 || length == -2) {
        client.write(ByteBuffer.wrap(NOT_IMPLEMENTED));
        close();
        return;
      }
      startNanos = System.nanoTime();
      startMicros = System.currentTimeMillis() * 1000;
      traceHi = random.nextLong();
      traceLo = random.nextLong();
      spanId = random.nextLong();
      out.clear();
      int sp1 = 0;
      while (in.get(sp1) != ' ') sp1++;
      int sp2 = sp1 + 1;
      while (in.get(sp2) != ' ') sp2++;
      methodEnd = sp1;
      pathEnd = sp2;
      if (traced) {
        tracedHead(sp1, sp2, end);
        out.flip();
        in.flip().position(end);
        in.compact();
        startUpstream();
        return;
      }
      // the head as it came, less its blank line, then the two fields and the blank line
      for (int i = 0; i < end - 2; i++) out.put(in.get(i));
      out.put(TRACEPARENT);
      hex(out, traceHi, 16);
      hex(out, traceLo, 16);
      out.put((byte) '-');
      hex(out, spanId, 16);
      out.put((byte) '-').put((byte) '0').put((byte) '1').put((byte) '\r').put((byte) '\n');
      out.put(REQUEST_ID);
      hex(out, traceHi, 16);
      hex(out, traceLo, 16);
      out.put((byte) '\r').put((byte) '\n').put((byte) '\r').put((byte) '\n');
      out.flip();
      // keep what follows the head (a pipelined request), drop the head
      in.flip().position(end);
      in.compact();
      startUpstream();
    }

    void startUpstream() throws IOException {
      busy = true;
      headSeen = false;
      resp.clear();
      if (up == null) {
        up = SocketChannel.open();
        up.configureBlocking(false);
        up.setOption(StandardSocketOptions.TCP_NODELAY, true);
        connected = up.connect(upstream);
        upKey = up.register(selector, connected ? 0 : SelectionKey.OP_CONNECT, this);
      }
      if (connected) writeUpstream();
    }

    void writeUpstream() throws IOException {
      up.write(out);
      upKey.interestOps(out.hasRemaining() ? SelectionKey.OP_WRITE : SelectionKey.OP_READ);
    }

    void upstreamReady(SelectionKey key) throws IOException {
      if (key.isConnectable()) {
        up.finishConnect();
        connected = true;
        writeUpstream();
        return;
      }
      if (key.isWritable()) {
        writeUpstream();
        return;
      }
      int n = up.read(resp);
      if (n < 0) {
        if (busy) {
          close();
        } else { // the upstream closed an idle connection: open a new one next time
          closeUpstream();
        }
        return;
      }
      if (!busy) return;
      if (!headSeen) {
        int end = headEnd(resp, 0, resp.position());
        if (end < 0) {
          if (!resp.hasRemaining()) close();
          return;
        }
        long length = contentLength(resp, end);
        if (length < 0) { // chunked or close-delimited: not the floor's business
          close();
          return;
        }
        status = (resp.get(9) - '0') * 100 + (resp.get(10) - '0') * 10 + (resp.get(11) - '0');
        headSeen = true;
        toRelay = (traced ? tracedResponseHead(end) : end) + length;
      }
      writeToClient();
    }

    void writeToClient() throws IOException {
      resp.flip();
      int mine = (int) Math.min(resp.remaining(), toRelay); // never past this response
      int limit = resp.limit();
      resp.limit(resp.position() + mine);
      int written = client.write(resp);
      resp.limit(limit);
      resp.compact();
      toRelay -= written;
      if (toRelay == 0) {
        if (resp.position() > 0) {
          close(); // bytes past the response: not HTTP/1.1 as the floor takes it
        } else {
          ended();
        }
      } else if (written < mine) { // the client's socket is full: wait for it, stop reading upstream
        clientKey.interestOps(SelectionKey.OP_WRITE);
        upKey.interestOps(0);
      } else {
        clientKey.interestOps(SelectionKey.OP_READ);
        upKey.interestOps(SelectionKey.OP_READ);
      }
    }

    void ended() throws IOException {
      busy = false;
      clientKey.interestOps(SelectionKey.OP_READ);
      upKey.interestOps(SelectionKey.OP_READ);
      span();
      if (in.position() > 0) nextRequest();
    }

    void span() throws IOException {
      if (traced) {
        tracedSpan();
        return;
      }
      long micros = (System.nanoTime() - startNanos) / 1000;
      ByteBuffer s = spans;
      ascii(s, "{\"traceId\":\"");
      hex(s, traceHi, 16);
      hex(s, traceLo, 16);
      ascii(s, "\",\"id\":\"");
      hex(s, spanId, 16);
      ascii(s, "\",\"kind\":\"SERVER\",\"name\":\"");
      for (int i = 0; i < methodEnd; i++) s.put(out.get(i));
      ascii(s, "\",\"timestamp\":");
      ascii(s, Long.toString(startMicros));
      ascii(s, ",\"duration\":");
      ascii(s, Long.toString(micros));
      ascii(s, ",\"tags\":{\"http.method\":\"");
      for (int i = 0; i < methodEnd; i++) s.put(out.get(i));
      ascii(s, "\",\"http.path\":\"");
      for (int i = methodEnd + 1; i < pathEnd; i++) {
        byte c = out.get(i);
        if (c == '"' || c == '\\') s.put((byte) '\\');
        s.put(c);
      }
      ascii(s, "\",\"http.status_code\":\"");
      ascii(s, Integer.toString(status));
      ascii(s, "\"}}\n");
      if (s.position() >= SPAN_FLUSH) flushSpans();
    }

    /** As hoptrace's SpanRecordingHandler: the ring, the metrics, the line to the writer. */
    void tracedSpan() {
      long endNanos = System.nanoTime();
      long durationNanos = endNanos - startNanos;
      registry.end(registered, registry.ticker().readAt(endNanos)); // ended already: a no-op
      metrics.requestEnded(ProxyMetrics.Hop.INBOUND);
      metrics.requestDone(ProxyMetrics.Hop.INBOUND, durationNanos);
      metrics.inboundContext(contextTag);
      span.reset()
          .context(server)
          .kind(Kind.SERVER)
          .name(spanName)
          .timestampMicros(EpochMicros.at(startNanos))
          .durationMicros(Math.max(1, durationNanos / 1000))
          .serviceName("bench-a");
      if (peerIp != null) span.remoteEndpoint(peerIp, peerPort);
      span.tag("http.method", method)
          .tag("http.path", path)
          .tag("http.status_code", IntTexts.of(status))
          .tag("http.request_id", server.requestId())
          .tag("hoptrace.context", contextTag);
      writer.offer(span);
    }

    void closeUpstream() {
      try {
        if (up != null) up.close();
      } catch (IOException ignored) {
        // closing
      }
      up = null;
      upKey = null;
      connected = false;
    }

    void close() {
      closeUpstream();
      try {
        client.close();
      } catch (IOException ignored) {
        // closing
      }
    }
  }
}
