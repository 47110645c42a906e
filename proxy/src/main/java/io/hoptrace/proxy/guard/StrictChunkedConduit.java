package io.hoptrace.proxy.guard;

import io.hoptrace.proxy.upstream.UpstreamError;
import io.hoptrace.proxy.upstream.UpstreamFailure;
import io.undertow.conduits.ChunkedStreamSourceConduit;
import io.undertow.conduits.ReadDataStreamSourceConduit;
import io.undertow.connector.PooledByteBuffer;
import io.undertow.server.AbstractServerConnection;
import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.conduits.AbstractConduit;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.ConduitReadableByteChannel;
import org.xnio.conduits.Conduits;
import org.xnio.conduits.StreamSourceConduit;

/**
 * Checks chunked framing on the raw bytes, strictly (RFC 9112 §7.1), underneath Undertow's own
 * chunk decoder, which is lenient: it accepts bare LF line ends, skips bytes between a chunk's data
 * and its CRLF, and waits on a missing CRLF. Any of those could make hoptrace and a server behind
 * another proxy disagree on where a request ends. A violation fails the read: the exchange is cut
 * (both connections closed) before the app receives a complete request, and counted as {@code
 * bad_chunked_body}.
 *
 * <p>Accepted: {@code 1*16HEXDIG [ ";" ext ] CRLF data CRLF}, a last chunk {@code 0}, trailer lines
 * without controls, the final CRLF. After that, bytes pass unchecked: they are the next request,
 * which the parser checks.
 */
final class StrictChunkedConduit extends AbstractStreamSourceConduit<StreamSourceConduit> {
  private static final int SIZE_FIRST = 0;
  private static final int SIZE = 1;
  private static final int EXT = 2;
  private static final int SIZE_LF = 3;
  private static final int DATA = 4;
  private static final int DATA_CR = 5;
  private static final int DATA_LF = 6;
  private static final int TRAILER_START = 7;
  private static final int TRAILER = 8;
  private static final int TRAILER_LF = 9;
  private static final int FINAL_LF = 10;
  private static final int DONE = 11;

  private static final @org.jspecify.annotations.Nullable Field NEXT = nextField();

  private final HttpServerExchange exchange;
  private final Refusals refusals;
  private @org.jspecify.annotations.Nullable StreamSourceConduit readAhead;
  private boolean forwarding = true;
  private int state = SIZE_FIRST;
  private int digits;
  private long remaining;

  private StrictChunkedConduit(
      StreamSourceConduit next, HttpServerExchange exchange, Refusals refusals) {
    super(next);
    this.exchange = exchange;
    this.refusals = refusals;
  }

  /**
   * Slides the check under the exchange's chunk decoder, at the socket end of the connection's
   * read-ahead conduit: the decoder pushes back bytes it read too far, and those come back through
   * the read-ahead buffer, so each raw byte passes the check exactly once. The bytes already read
   * with the head are checked here. Returns false (and checks nothing) when the conduits are not
   * where Undertow 2.4 puts them: a test pins that they are.
   */
  static boolean install(HttpServerExchange exchange, Refusals refusals) throws IOException {
    Field next = NEXT;
    if (next == null) return false;
    if (!(exchange.getConnection() instanceof AbstractServerConnection connection)) return false;
    StreamSourceConduit current = connection.getChannel().getSourceChannel().getConduit();
    if (!(current instanceof ChunkedStreamSourceConduit chunked)) return false;
    try {
      if (!(next.get(chunked) instanceof ReadDataStreamSourceConduit readAhead)) return false;
      StreamSourceConduit socket = (StreamSourceConduit) next.get(readAhead);
      StrictChunkedConduit strict = new StrictChunkedConduit(socket, exchange, refusals);
      strict.readAhead = readAhead;
      PooledByteBuffer extra = connection.getExtraBytes();
      if (extra != null) {
        ByteBuffer bytes = extra.getBuffer();
        strict.forwarding = false; // nothing forwarded yet: the caller answers 400 itself
        strict.check(bytes, bytes.position(), bytes.limit());
        strict.forwarding = true;
      }
      if (strict.state != DONE) next.set(readAhead, strict);
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return false;
    }
  }

  /** Takes this check out of the connection's conduits once the body has ended. */
  private void remove() {
    StreamSourceConduit readAheadConduit = readAhead;
    Field field = NEXT;
    readAhead = null;
    if (readAheadConduit == null || field == null) return;
    try {
      if (field.get(readAheadConduit) == this) field.set(readAheadConduit, next);
    } catch (ReflectiveOperationException | RuntimeException e) {
      // stays: it passes bytes through unchecked once done
    }
  }

  private static @org.jspecify.annotations.Nullable Field nextField() {
    try {
      Field f = AbstractConduit.class.getDeclaredField("next");
      f.setAccessible(true);
      return f;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    int start = dst.position();
    int n = next.read(dst);
    if (n > 0) check(dst, start, start + n);
    return n;
  }

  @Override
  public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
    int[] starts = new int[len];
    for (int i = 0; i < len; i++) starts[i] = dsts[offs + i].position();
    long n = next.read(dsts, offs, len);
    if (n > 0) {
      for (int i = 0; i < len; i++) check(dsts[offs + i], starts[i], dsts[offs + i].position());
    }
    return n;
  }

  @Override
  public long transferTo(long position, long count, FileChannel target) throws IOException {
    return target.transferFrom(new ConduitReadableByteChannel(this), position, count);
  }

  @Override
  public long transferTo(long count, ByteBuffer throughBuffer, StreamSinkChannel target)
      throws IOException {
    return Conduits.transfer(this, count, throughBuffer, target);
  }

  private void check(ByteBuffer buffer, int from, int to) throws IOException {
    int i = from;
    while (i < to && state != DONE) {
      if (state == DATA) {
        int take = (int) Math.min(remaining, to - i);
        i += take;
        remaining -= take;
        if (remaining == 0) state = DATA_CR;
        continue;
      }
      step(buffer.get(i) & 0xff);
      i++;
    }
    if (state == DONE) remove();
  }

  private void step(int b) throws IOException {
    switch (state) {
      case SIZE_FIRST, SIZE -> {
        int hex = Character.digit(b, 16);
        if (hex >= 0 && b < 0x80) {
          if (++digits > 16 || (digits == 16 && remaining > 0x07ffffffffffffffL)) {
            fail("chunk size overflow");
          }
          remaining = remaining * 16 + hex;
          state = SIZE;
        } else if (state == SIZE && b == ';') {
          state = EXT;
        } else if (state == SIZE && b == '\r') {
          state = SIZE_LF;
        } else {
          fail("bad chunk size");
        }
      }
      case EXT -> {
        if (b == '\r') {
          state = SIZE_LF;
        } else if ((b < 0x20 && b != '\t') || b == 0x7f) {
          fail("control character in a chunk extension");
        }
      }
      case SIZE_LF -> {
        if (b != '\n') fail("chunk size line not ended by CRLF");
        digits = 0;
        state = remaining == 0 ? TRAILER_START : DATA;
      }
      case DATA_CR -> {
        if (b != '\r') fail("chunk data longer than its size, or not ended by CRLF");
        state = DATA_LF;
      }
      case DATA_LF -> {
        if (b != '\n') fail("chunk data not ended by CRLF");
        state = SIZE_FIRST;
      }
      case TRAILER_START -> {
        if (b == '\r') {
          state = FINAL_LF;
        } else if (RequestGuardHandler.isTokenChar((char) b)) {
          state = TRAILER;
        } else {
          fail("bad trailer line");
        }
      }
      case TRAILER -> {
        if (b == '\r') {
          state = TRAILER_LF;
        } else if ((b < 0x20 && b != '\t') || b == 0x7f) {
          fail("control character in a trailer");
        }
      }
      case TRAILER_LF -> {
        if (b != '\n') fail("trailer line not ended by CRLF");
        state = TRAILER_START;
      }
      case FINAL_LF -> {
        if (b != '\n') fail("chunked body not ended by CRLF");
        state = DONE;
      }
      default -> throw new IllegalStateException("state " + state);
    }
  }

  private void fail(String why) throws IOException {
    state = DONE;
    remove();
    String message = "malformed chunked body: " + why;
    if (!forwarding) throw new IOException(message);
    refusals.count(RefusalReason.BAD_CHUNKED_BODY);
    // The read failure closes the connection, which may complete the exchange (and write its
    // span) before the forwarder hears of it: the span learns why from here.
    exchange.putAttachment(
        UpstreamFailure.KEY, new UpstreamFailure(UpstreamError.CLIENT_ABORT, message));
    if (!exchange.isResponseStarted()) exchange.setStatusCode(400);
    throw new IOException(message);
  }
}
