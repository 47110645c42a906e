package io.undertow.client.http;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import org.jspecify.annotations.Nullable;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.StreamSourceConduit;

/**
 * Refuses a response head longer than {@code upstream.max-response-head-bytes}: a source conduit
 * under an Undertow client connection ({@link CachedPeerHttpClient}) that, while the connection
 * waits for a response head, hands the parser no more bytes than the head may still take, and fails
 * the read that would go past it with {@link TooLarge}. Undertow 2.4.4's client has no limit of its
 * own: {@code ResponseParser} reads a head of any size into the response's header map.
 *
 * <p>Exact: the connection's read listener gives every byte it reads to the parser until the head
 * is complete, so while the head is incomplete all bytes read for it so far are head bytes. A head
 * of exactly the limit completes within the bytes allowed; one byte more finds no room left and is
 * refused. The caller gets 502 (SameLoopForwarder), Undertow closes the connection. Reads while no
 * head is awaited (the body) pass through untouched, and only a limit under the read buffer (16
 * KiB) ever makes a head's reads shorter.
 *
 * <p>Depends on one private field of 2.4.4's {@code HttpClientConnection}, {@code pendingResponse}:
 * the response whose head is being read, from the request's start until the head is complete
 * (re-checked with every Undertow upgrade, as {@link CachedPeerHttpClient#REVIEWED_FOR_UNDERTOW}; a
 * missing field fails the class's initialisation and every test that opens a connection). Not
 * covered: after an interim (1xx) head, bytes of the final head that came in the same read are
 * handed back through Undertow's push-back conduit above this one, uncounted — the final head may
 * then pass the limit by up to one read buffer.
 */
public final class ResponseHeadLimit extends AbstractStreamSourceConduit<StreamSourceConduit> {
  private static final VarHandle PENDING_RESPONSE;

  static {
    try {
      PENDING_RESPONSE =
          MethodHandles.privateLookupIn(HttpClientConnection.class, MethodHandles.lookup())
              .findVarHandle(
                  HttpClientConnection.class, "pendingResponse", HttpResponseBuilder.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final int maxHeadBytes;
  private @Nullable HttpClientConnection connection;

  /** The response whose head is being read, or null between heads. */
  private @Nullable HttpResponseBuilder head;

  /** Bytes read so far for {@link #head}: all taken by the parser, which has not completed it. */
  private int headBytes;

  ResponseHeadLimit(StreamSourceConduit next, int maxHeadBytes) {
    super(next);
    this.maxHeadBytes = maxHeadBytes;
  }

  /** The connection this conduit reads for; set once, before its first read. */
  void attach(HttpClientConnection connection) {
    this.connection = connection;
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    int room = room();
    if (room < 0 || dst.remaining() <= room) return count(next.read(dst));
    int limit = dst.limit();
    dst.limit(dst.position() + room);
    try {
      return count(next.read(dst));
    } finally {
      dst.limit(limit);
    }
  }

  @Override
  public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
    if (room() < 0) return next.read(dsts, offs, len);
    // Undertow reads a head into one buffer; a scattering read of a head goes through read(dst).
    for (int i = offs; i < offs + len; i++) {
      if (dsts[i].hasRemaining()) return read(dsts[i]);
    }
    return 0;
  }

  /**
   * How many more bytes the head being read may take, or -1 when no head is being read. Throws when
   * the head has taken the limit and is not complete.
   */
  private int room() throws TooLarge {
    HttpClientConnection c = connection;
    HttpResponseBuilder pending = c == null ? null : (HttpResponseBuilder) PENDING_RESPONSE.get(c);
    if (pending == null || pending.getParseState().isComplete()) {
      head = null;
      return -1;
    }
    if (pending != head) { // a new response (or the final one after a 1xx): count from zero
      head = pending;
      headBytes = 0;
    }
    int room = maxHeadBytes - headBytes;
    if (room <= 0) throw new TooLarge(maxHeadBytes);
    return room;
  }

  private int count(int read) {
    if (head != null && read > 0) headBytes += read;
    return read;
  }

  /**
   * The upstream's response head is longer than {@code upstream.max-response-head-bytes}; the
   * exchange fails with it and the connection is closed.
   */
  public static final class TooLarge extends IOException {
    private static final long serialVersionUID = 1L;

    private final int maxHeadBytes;

    TooLarge(int maxHeadBytes) {
      super("response head over " + maxHeadBytes + " bytes", null);
      this.maxHeadBytes = maxHeadBytes;
    }

    /** The limit it went past. */
    public int maxHeadBytes() {
      return maxHeadBytes;
    }
  }
}
