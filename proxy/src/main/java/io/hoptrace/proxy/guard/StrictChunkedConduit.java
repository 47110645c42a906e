package io.hoptrace.proxy.guard;

import io.hoptrace.proxy.upstream.RequestBodyCheck;
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
import org.jspecify.annotations.Nullable;
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
 * another proxy disagree on where a request ends. A violation is counted as {@code
 * bad_chunked_body}, and no byte from it on is ever delivered, so the app never receives a complete
 * request.
 *
 * <p>What the violation then does depends on who reads ({@link RequestBodyCheck}). While the
 * forwarder reads (armed), the body just stops: the bytes before the violation are delivered, later
 * reads return nothing, and the forwarder aborts the upstream request and answers the client {@code
 * 400} if no response has started. Otherwise the read fails, and Undertow's decoder closes the
 * connection (the exchange is cut).
 *
 * <p>Accepted: {@code 1*16HEXDIG [ ";" ext ] CRLF data CRLF}, a last chunk {@code 0}, trailer lines
 * without controls, the final CRLF. After that, bytes pass unchecked: they are the next request,
 * which the parser checks.
 */
final class StrictChunkedConduit extends AbstractStreamSourceConduit<StreamSourceConduit>
    implements RequestBodyCheck {
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

  private static final @Nullable Field NEXT = nextField();

  private final HttpServerExchange exchange;
  private final Refusals refusals;
  private @Nullable StreamSourceConduit readAhead;
  // All of the below on the exchange's IO thread only.
  private boolean armed;
  private @Nullable String violation;
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
   * with the head are checked here: a violation among them throws (with what broke), and the caller
   * refuses the request, nothing having been forwarded. Once installed, the check is attached to
   * the exchange as its {@link RequestBodyCheck}. Returns false (and checks nothing) when the
   * conduits are not where Undertow 2.4 puts them: a test pins that they are.
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
        if (strict.check(bytes, bytes.position(), bytes.limit()) >= 0) {
          throw new IOException(strict.violation); // nothing forwarded yet: the caller answers
        }
      }
      if (strict.state != DONE) {
        next.set(readAhead, strict);
        exchange.putAttachment(RequestBodyCheck.KEY, strict);
      }
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

  private static @Nullable Field nextField() {
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
    if (violation != null) return afterViolation();
    int start = dst.position();
    int n = next.read(dst);
    if (n > 0) {
      int bad = check(dst, start, start + n);
      if (bad >= 0) {
        violated();
        dst.position(bad); // the violation and what follows are never delivered
        return bad - start;
      }
    }
    return n;
  }

  @Override
  public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
    if (violation != null) return afterViolation();
    int[] starts = new int[len];
    for (int i = 0; i < len; i++) starts[i] = dsts[offs + i].position();
    long n = next.read(dsts, offs, len);
    if (n > 0) {
      for (int i = 0; i < len; i++) {
        ByteBuffer dst = dsts[offs + i];
        int bad = check(dst, starts[i], dst.position());
        if (bad < 0) continue;
        violated();
        long kept = (long) bad - starts[i];
        dst.position(bad);
        for (int j = 0; j < i; j++) kept += dsts[offs + j].position() - starts[j];
        for (int j = i + 1; j < len; j++) dsts[offs + j].position(starts[j]);
        return kept;
      }
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

  @Override
  public void armed(boolean armed) {
    this.armed = armed;
  }

  @Override
  public @Nullable String violation() {
    return violation;
  }

  @Override
  public String refusal() {
    return RefusalReason.BAD_CHUNKED_BODY.tagValue() + ": " + violation;
  }

  @Override
  public void refuse(HttpServerExchange refused) {
    refusals.answer(refused, RefusalReason.BAD_CHUNKED_BODY, String.valueOf(violation));
  }

  /** A violation was just found (and recorded): count it; unless armed, the read fails. */
  private void violated() throws IOException {
    refusals.count(RefusalReason.BAD_CHUNKED_BODY);
    if (!armed) throw cut();
  }

  /** A read after the violation: armed, the body has stopped; else the read fails. */
  private int afterViolation() throws IOException {
    if (armed) return 0; // the forwarder takes the violation from here and answers it
    throw cut();
  }

  /**
   * The failure of a read that Undertow's chunk decoder answers by closing the connection at once.
   * The close may complete the exchange (and write its span) before the forwarder hears of it: the
   * span learns why from here, unless it already knows (a refusal answered, a failed upstream).
   */
  private IOException cut() {
    String message = "malformed chunked body: " + violation;
    if (!exchange.isComplete() && exchange.getAttachment(UpstreamFailure.KEY) == null) {
      exchange.putAttachment(
          UpstreamFailure.KEY, new UpstreamFailure(UpstreamError.CLIENT_ABORT, message));
      if (!exchange.isResponseStarted()) exchange.setStatusCode(400);
    }
    return new IOException(message);
  }

  /**
   * Checks {@code buffer[from, to)}: the index of the first byte that breaks the framing (what
   * broke is then in {@link #violation}), or -1.
   */
  private int check(ByteBuffer buffer, int from, int to) {
    int i = from;
    while (i < to && state != DONE) {
      if (state == DATA) {
        int take = (int) Math.min(remaining, to - i);
        i += take;
        remaining -= take;
        if (remaining == 0) state = DATA_CR;
        continue;
      }
      if (!step(buffer.get(i) & 0xff)) return i;
      i++;
    }
    if (state == DONE) remove();
    return -1;
  }

  /** One byte outside chunk data; false (with {@link #violation} set) when it breaks the rules. */
  private boolean step(int b) {
    switch (state) {
      case SIZE_FIRST, SIZE -> {
        int hex = Character.digit(b, 16);
        if (hex >= 0 && b < 0x80) {
          if (++digits > 16 || (digits == 16 && remaining > 0x07ffffffffffffffL)) {
            return fail("chunk size overflow");
          }
          remaining = remaining * 16 + hex;
          state = SIZE;
        } else if (state == SIZE && b == ';') {
          state = EXT;
        } else if (state == SIZE && b == '\r') {
          state = SIZE_LF;
        } else {
          return fail("bad chunk size");
        }
      }
      case EXT -> {
        if (b == '\r') {
          state = SIZE_LF;
        } else if ((b < 0x20 && b != '\t') || b == 0x7f) {
          return fail("control character in a chunk extension");
        }
      }
      case SIZE_LF -> {
        if (b != '\n') return fail("chunk size line not ended by CRLF");
        digits = 0;
        state = remaining == 0 ? TRAILER_START : DATA;
      }
      case DATA_CR -> {
        if (b != '\r') return fail("chunk data longer than its size, or not ended by CRLF");
        state = DATA_LF;
      }
      case DATA_LF -> {
        if (b != '\n') return fail("chunk data not ended by CRLF");
        state = SIZE_FIRST;
      }
      case TRAILER_START -> {
        if (b == '\r') {
          state = FINAL_LF;
        } else if (RequestGuardHandler.isTokenChar((char) b)) {
          state = TRAILER;
        } else {
          return fail("bad trailer line");
        }
      }
      case TRAILER -> {
        if (b == '\r') {
          state = TRAILER_LF;
        } else if ((b < 0x20 && b != '\t') || b == 0x7f) {
          return fail("control character in a trailer");
        }
      }
      case TRAILER_LF -> {
        if (b != '\n') return fail("trailer line not ended by CRLF");
        state = TRAILER_START;
      }
      case FINAL_LF -> {
        if (b != '\n') return fail("chunked body not ended by CRLF");
        state = DONE;
      }
      default -> throw new IllegalStateException("state " + state);
    }
    return true;
  }

  private boolean fail(String why) {
    violation = why;
    return false;
  }
}
