// JBoss, Home of Professional Open Source.
// Copyright 2025 Red Hat, Inc., and individual contributors
// as indicated by the @author tags.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
//  Unless required by applicable law or agreed to in writing, software
//  distributed under the License is distributed on an "AS IS" BASIS,
//  WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
//  See the License for the specific language governing permissions and
//  limitations under the License.
//
// Modified by hoptrace: see the class comment. (Undertow's header as line comments: Error Prone's
// AlmostJavadoc check refuses the "@author" above in a block comment.)
package io.undertow.client.http;

import io.undertow.client.ClientRequest;
import io.undertow.connector.ByteBufferPool;
import io.undertow.connector.PooledByteBuffer;
import io.undertow.server.TruncatedResponseException;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.HttpString;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import org.jboss.logging.Logger;
import org.jspecify.annotations.Nullable;
import org.xnio.Bits;
import org.xnio.XnioWorker;
import org.xnio.channels.StreamSourceChannel;
import org.xnio.conduits.AbstractStreamSinkConduit;
import org.xnio.conduits.Conduits;
import org.xnio.conduits.StreamSinkConduit;

/**
 * Writes the head of an HTTP/1.x request for Undertow's client ({@code HttpClientConnection} makes
 * one per request), through a pooled buffer, resuming where the socket stopped taking bytes; then
 * passes the body through.
 *
 * <p><b>hoptrace's copy of Undertow 2.4.4.Final's class</b> ({@link #PATCHED_FOR_UNDERTOW}), same
 * package and name, so that it replaces the original (package-private and final, made by {@code
 * HttpClientConnection.initiateRequest}: nothing else can stand in for it, and the request's {@code
 * HeaderMap} and {@code ClientRequest} are final classes too). The original walked the header names
 * with the map's name view ({@code getHeaderNames()}, a new view per map) and its two iterators,
 * looked each name up again in the map, and made an iterator over its values: ~220–250 bytes each
 * time the same-loop transport relayed a request (hoptrace bench/README.md, "I/O thread work
 * (s19)"). The shaded jar leaves Undertow's own copy out (proxy/pom.xml, bench/jmh/pom.xml); on the
 * test classpath proxy/target/classes comes first.
 *
 * <p>What changed, and only that: the place among the names is the map's own iteration cookie
 * ({@code fastIterate}/{@code fiNext}, which walk the table as its iterator does, empty fields
 * included), the field's values come from {@code fiCurrent} (the same {@code HeaderValues} the
 * look-up by name returned) and the place among them is an index ({@code HeaderValues.get(i)}, what
 * the values' iterator calls). The bytes written, the states, the points where a write that takes
 * nothing returns, the log messages and the exceptions are 2.4.4's, which {@code
 * HttpRequestConduitDifferentialTest} checks against the original loaded from the undertow-core
 * jar, with buffers small enough to split the head anywhere and a sink taking a few bytes per
 * write. Like the original's iterators (which keep the table they started on), the cookie assumes
 * nobody adds headers to the request while its head is being written.
 */
final class HttpRequestConduit extends AbstractStreamSinkConduit<StreamSinkConduit> {
  /** The Undertow version this copy was made from; another one needs the copy re-reviewed. */
  static final String PATCHED_FOR_UNDERTOW = "2.4.4.Final";

  private static final Logger log = Logger.getLogger("io.undertow.client.request");

  private final ByteBufferPool pool;
  private volatile int state = STATE_START;

  // hoptrace: the original's name and value iterators, as the map's cookie (-1: no more names),
  // the current field's values (fiCurrent) and the index of its next value (-1: the original's
  // valueIterator == null, not begun).
  private long nameCookie = -1;
  private @Nullable HeaderValues values;
  private int valueIndex = -1;

  private @Nullable String string;
  private @Nullable HttpString headerName;
  private int charIndex;
  private @Nullable PooledByteBuffer pooledBuffer;
  private final ClientRequest request;

  private static final int STATE_BODY = 0; // Message body, normal pass-through operation
  private static final int STATE_URL = 1; // The request line, longer than the buffer
  private static final int STATE_START = 2; // No headers written yet
  private static final int STATE_HDR_NAME = 3; // Header name indexed by charIndex
  private static final int STATE_HDR_D = 4; // Header delimiter ':'
  private static final int STATE_HDR_DS = 5; // Header delimiter ': '
  private static final int STATE_HDR_VAL = 6; // Header value
  private static final int STATE_HDR_EOL_CR = 7; // Header line CR
  private static final int STATE_HDR_EOL_LF = 8; // Header line LF
  private static final int STATE_HDR_FINAL_CR = 9; // Final CR
  private static final int STATE_HDR_FINAL_LF = 10; // Final LF
  private static final int STATE_BUF_FLUSH = 11; // flush the buffer and go to writing body

  private static final int MASK_STATE = 0x0000000F;
  private static final int FLAG_SHUTDOWN = 0x00000010;
  private static final int FLAG_WRITING = 0x00000020;

  private static final AtomicIntegerFieldUpdater<HttpRequestConduit> stateUpdater =
      AtomicIntegerFieldUpdater.newUpdater(HttpRequestConduit.class, "state");

  HttpRequestConduit(StreamSinkConduit next, ByteBufferPool pool, ClientRequest request) {
    super(next);
    this.pool = pool;
    this.request = request;
  }

  /**
   * Handles writing out the header data. It can also take a byte buffer of user data, to enable
   * both user data and headers to be written out in a single operation, which has a noticeable
   * performance impact.
   *
   * <p>It is up to the caller to note the current position of this buffer before and after they
   * call this method, and use this to figure out how many bytes (if any) have been written.
   */
  private int processWrite(int state, @Nullable Object userData) throws IOException {
    return doProcessWrite(state, userData);
  }

  @SuppressWarnings({"fallthrough", "NullAway"})
  private int doProcessWrite(int state, @Nullable Object userData) throws IOException {
    if (state == STATE_START) {
      pooledBuffer = pool.allocate();
    }
    ClientRequest request = this.request;
    ByteBuffer buffer = pooledBuffer.getBuffer();
    int res;
    // BUFFER IS FLIPPED COMING IN
    if (state != STATE_START && buffer.hasRemaining()) {
      log.trace("Flushing remaining buffer");
      do {
        res = next.write(buffer);
        if (res == 0) {
          return state;
        }
      } while (buffer.hasRemaining());
    }
    buffer.clear();
    // BUFFER IS NOW EMPTY FOR FILLING
    for (; ; ) {
      switch (state) {
        case STATE_BODY:
          // shouldn't be possible, but might as well do the right thing anyway
          return state;
        case STATE_URL:
          {
            for (int i = this.charIndex; i < this.string.length(); i++) {
              if (!buffer.hasRemaining()) {
                buffer.flip();
                do {
                  res = next.write(buffer);
                  if (res == 0) {
                    log.trace("Continuation");
                    this.charIndex = i;
                    this.state = STATE_URL;
                    return STATE_URL;
                  }
                } while (buffer.hasRemaining());
                buffer.clear();
              }
              buffer.put((byte) this.string.charAt(i));
            }
            HeaderMap headers = request.getRequestHeaders();
            this.nameCookie = headers.fastIterate();
            state = STATE_HDR_NAME;
            if (this.nameCookie == -1L) {
              log.trace("No request headers");
              buffer.put((byte) '\r').put((byte) '\n');
              buffer.flip();
              while (buffer.hasRemaining()) {
                res = next.write(buffer);
                if (res == 0) {
                  log.trace("Continuation");
                  return STATE_BUF_FLUSH;
                }
              }
              pooledBuffer.close();
              pooledBuffer = null;
              log.trace("Body");
              return STATE_BODY;
            }
            this.headerName = headers.fiCurrent(this.nameCookie).getHeaderName();
            this.charIndex = 0;
            continue;
          }
        case STATE_START:
          {
            log.trace("Starting request");
            int len =
                request.getMethod().length()
                    + request.getPath().length()
                    + request.getProtocol().length()
                    + 4;
            // test that the buffer has enough space for the initial request line plus one more
            // CR+LF
            if (len > buffer.remaining()) {
              StringBuilder sb = new StringBuilder(len);
              sb.append(request.getMethod().toString());
              sb.append(" ");
              sb.append(request.getPath());
              sb.append(" ");
              sb.append(request.getProtocol());
              sb.append("\r\n");
              this.string = sb.toString();
              this.charIndex = 0;
              state = STATE_URL;
              continue;
            }
            assert buffer.remaining() >= 50;
            request.getMethod().appendTo(buffer);
            buffer.put((byte) ' ');
            this.string = request.getPath();
            int length = this.string.length();
            for (this.charIndex = 0; this.charIndex < length; this.charIndex++) {
              buffer.put((byte) this.string.charAt(this.charIndex));
            }
            buffer.put((byte) ' ');
            request.getProtocol().appendTo(buffer);
            buffer.put((byte) '\r').put((byte) '\n');
            HeaderMap headers = request.getRequestHeaders();
            this.nameCookie = headers.fastIterate();
            if (this.nameCookie == -1L) {
              log.trace("No request headers");
              buffer.put((byte) '\r').put((byte) '\n');
              buffer.flip();
              while (buffer.hasRemaining()) {
                res = next.write(buffer);
                if (res == 0) {
                  log.trace("Continuation");
                  return STATE_BUF_FLUSH;
                }
              }
              pooledBuffer.close();
              pooledBuffer = null;
              log.trace("Body");
              return STATE_BODY;
            }
            this.headerName = headers.fiCurrent(this.nameCookie).getHeaderName();
            this.charIndex = 0;
          }
        // fall through
        case STATE_HDR_NAME:
          {
            log.tracef("Processing header '%s'", this.headerName);
            int length = this.headerName.length();
            while (this.charIndex < length) {
              if (buffer.hasRemaining()) {
                buffer.put(this.headerName.byteAt(this.charIndex++));
              } else {
                log.trace("Buffer flush");
                buffer.flip();
                do {
                  res = next.write(buffer);
                  if (res == 0) {
                    log.trace("Continuation");
                    return STATE_HDR_NAME;
                  }
                } while (buffer.hasRemaining());
                buffer.clear();
              }
            }
          }
        // fall through
        case STATE_HDR_D:
          {
            if (!buffer.hasRemaining()) {
              buffer.flip();
              do {
                res = next.write(buffer);
                if (res == 0) {
                  log.trace("Continuation");
                  return STATE_HDR_D;
                }
              } while (buffer.hasRemaining());
              buffer.clear();
            }
            buffer.put((byte) ':');
          }
        // fall through
        case STATE_HDR_DS:
          {
            if (!buffer.hasRemaining()) {
              buffer.flip();
              do {
                res = next.write(buffer);
                if (res == 0) {
                  log.trace("Continuation");
                  return STATE_HDR_DS;
                }
              } while (buffer.hasRemaining());
              buffer.clear();
            }
            buffer.put((byte) ' ');
            if (this.valueIndex < 0) {
              // the original: request.getRequestHeaders().get(headerName).iterator()
              this.values = request.getRequestHeaders().fiCurrent(this.nameCookie);
              this.valueIndex = 0;
            }
            assert this.valueIndex < this.values.size();
            // what the values' iterator's next() returns (an empty field: 2.4.4's exception)
            this.string = this.values.get(this.valueIndex++);
            this.charIndex = 0;
          }
        // fall through
        case STATE_HDR_VAL:
          {
            log.tracef("Processing header value '%s'", this.string);
            int length = this.string.length();
            while (this.charIndex < length) {
              if (buffer.hasRemaining()) {
                buffer.put((byte) this.string.charAt(this.charIndex++));
              } else {
                buffer.flip();
                do {
                  res = next.write(buffer);
                  if (res == 0) {
                    log.trace("Continuation");
                    return STATE_HDR_VAL;
                  }
                } while (buffer.hasRemaining());
                buffer.clear();
              }
            }
            this.charIndex = 0;
            if (this.valueIndex >= this.values.size()) {
              if (!buffer.hasRemaining()) {
                buffer.flip();
                do {
                  res = next.write(buffer);
                  if (res == 0) {
                    log.trace("Continuation");
                    return STATE_HDR_EOL_CR;
                  }
                } while (buffer.hasRemaining());
                buffer.clear();
              }
              buffer.put((byte) 13); // CR
              if (!buffer.hasRemaining()) {
                buffer.flip();
                do {
                  res = next.write(buffer);
                  if (res == 0) {
                    log.trace("Continuation");
                    return STATE_HDR_EOL_LF;
                  }
                } while (buffer.hasRemaining());
                buffer.clear();
              }
              buffer.put((byte) 10); // LF
              long nextName = request.getRequestHeaders().fiNext(this.nameCookie);
              if (nextName == -1L) {
                if (!buffer.hasRemaining()) {
                  buffer.flip();
                  do {
                    res = next.write(buffer);
                    if (res == 0) {
                      log.trace("Continuation");
                      return STATE_HDR_FINAL_CR;
                    }
                  } while (buffer.hasRemaining());
                  buffer.clear();
                }
                buffer.put((byte) 13); // CR
                if (!buffer.hasRemaining()) {
                  buffer.flip();
                  do {
                    res = next.write(buffer);
                    if (res == 0) {
                      log.trace("Continuation");
                      return STATE_HDR_FINAL_LF;
                    }
                  } while (buffer.hasRemaining());
                  buffer.clear();
                }
                buffer.put((byte) 10); // LF
                this.nameCookie = -1L;
                this.values = null;
                this.valueIndex = -1;
                this.string = null;
                buffer.flip();
                // for performance reasons we use a gather write if there is user data
                if (userData == null) {
                  do {
                    res = next.write(buffer);
                    if (res == 0) {
                      log.trace("Continuation");
                      return STATE_BUF_FLUSH;
                    }
                  } while (buffer.hasRemaining());
                } else if (userData instanceof ByteBuffer[] userBuffers) {
                  if (!writeBufferArray(buildDataArray(userBuffers, buffer))) {
                    return STATE_BUF_FLUSH;
                  }
                } else if (!writeBufferArray(new ByteBuffer[] {buffer, (ByteBuffer) userData})) {
                  return STATE_BUF_FLUSH;
                }
                pooledBuffer.close();
                pooledBuffer = null;
                log.trace("Body");
                return STATE_BODY;
              }
              this.nameCookie = nextName;
              this.headerName = request.getRequestHeaders().fiCurrent(nextName).getHeaderName();
              this.values = null;
              this.valueIndex = -1;
              state = STATE_HDR_NAME;
              continue;
            }
          }
        // fall through
        // Clean-up states
        case STATE_HDR_EOL_CR:
          {
            if (!buffer.hasRemaining()) {
              buffer.flip();
              do {
                res = next.write(buffer);
                if (res == 0) {
                  log.trace("Continuation");
                  return STATE_HDR_EOL_CR;
                }
              } while (buffer.hasRemaining());
              buffer.clear();
            }
            buffer.put((byte) 13); // CR
          }
        // fall through
        case STATE_HDR_EOL_LF:
          {
            if (!buffer.hasRemaining()) {
              buffer.flip();
              do {
                res = next.write(buffer);
                if (res == 0) {
                  log.trace("Continuation");
                  return STATE_HDR_EOL_LF;
                }
              } while (buffer.hasRemaining());
              buffer.clear();
            }
            buffer.put((byte) 10); // LF
            if (this.valueIndex >= 0 && this.valueIndex < this.values.size()) {
              state = STATE_HDR_NAME;
              continue;
            }
            long nextName = request.getRequestHeaders().fiNext(this.nameCookie);
            if (nextName != -1L) {
              this.nameCookie = nextName;
              this.headerName = request.getRequestHeaders().fiCurrent(nextName).getHeaderName();
              this.values = null;
              this.valueIndex = -1;
              state = STATE_HDR_NAME;
              continue;
            }
          }
        // fall through
        case STATE_HDR_FINAL_CR:
          {
            if (!buffer.hasRemaining()) {
              buffer.flip();
              do {
                res = next.write(buffer);
                if (res == 0) {
                  log.trace("Continuation");
                  return STATE_HDR_FINAL_CR;
                }
              } while (buffer.hasRemaining());
              buffer.clear();
            }
            buffer.put((byte) 13); // CR
          }
        // fall through
        case STATE_HDR_FINAL_LF:
          {
            if (!buffer.hasRemaining()) {
              buffer.flip();
              do {
                res = next.write(buffer);
                if (res == 0) {
                  log.trace("Continuation");
                  return STATE_HDR_FINAL_LF;
                }
              } while (buffer.hasRemaining());
              buffer.clear();
            }
            buffer.put((byte) 10); // LF
            this.nameCookie = -1L;
            this.values = null;
            this.valueIndex = -1;
            this.string = null;
            buffer.flip();
            // for performance reasons we use a gather write if there is user data
            if (userData == null) {
              do {
                res = next.write(buffer);
                if (res == 0) {
                  log.trace("Continuation");
                  return STATE_BUF_FLUSH;
                }
              } while (buffer.hasRemaining());
            } else if (userData instanceof ByteBuffer[] userBuffers) {
              if (!writeBufferArray(buildDataArray(userBuffers, buffer))) {
                return STATE_BUF_FLUSH;
              }
            } else if (!writeBufferArray(new ByteBuffer[] {buffer, (ByteBuffer) userData})) {
              return STATE_BUF_FLUSH;
            }
          }
        // fall through
        case STATE_BUF_FLUSH:
          // buffer was successfully flushed above
          pooledBuffer.close();
          pooledBuffer = null;
          return STATE_BODY;
        default:
          throw new IllegalStateException();
      }
    }
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    log.trace("write");
    int oldState;
    do {
      oldState = this.state;
      if (Bits.anyAreSet(oldState, FLAG_WRITING)) {
        return 0;
      }
    } while (!stateUpdater.compareAndSet(this, oldState, oldState | FLAG_WRITING));
    int state = oldState & MASK_STATE;
    int alreadyWritten = 0;
    int originalRemaining = -1;
    try {
      if (state != STATE_BODY) {
        originalRemaining = src.remaining();
        state = processWrite(state, src);
        if (state != STATE_BODY) {
          return 0;
        }
        alreadyWritten = originalRemaining - src.remaining();
        if (Bits.allAreSet(oldState, FLAG_SHUTDOWN)) {
          next.terminateWrites();
          throw new ClosedChannelException();
        }
      }
      if (alreadyWritten != originalRemaining) {
        return next.write(src) + alreadyWritten;
      }
      return alreadyWritten;
    } catch (IOException | RuntimeException | Error e) {
      this.state |= FLAG_SHUTDOWN;
      freePooledBuffer();
      throw e;
    } finally {
      this.state = (oldState & ~MASK_STATE) | state;
    }
  }

  // not in StreamSinkConduit: kept as 2.4.4 has it
  public long write(ByteBuffer[] srcs) throws IOException {
    return write(srcs, 0, srcs.length);
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    log.trace("write");
    if (length == 0) {
      return 0L;
    }
    int oldVal;
    do {
      oldVal = this.state;
      if (Bits.anyAreSet(oldVal, FLAG_WRITING)) {
        return 0L;
      }
    } while (!stateUpdater.compareAndSet(this, oldVal, oldVal | FLAG_WRITING));
    int state = oldVal & MASK_STATE;
    try {
      if (state != STATE_BODY) {
        state = processWrite(state, srcs);
        if (state != STATE_BODY) {
          return 0L;
        }
        if (Bits.allAreSet(oldVal, FLAG_SHUTDOWN)) {
          next.terminateWrites();
          throw new ClosedChannelException();
        }
      }
      return length == 1 ? next.write(srcs[offset]) : next.write(srcs, offset, length);
    } catch (IOException | RuntimeException | Error e) {
      this.state |= FLAG_SHUTDOWN;
      freePooledBuffer();
      throw e;
    } finally {
      this.state = (oldVal & ~MASK_STATE) | state;
    }
  }

  @Override
  public int writeFinal(ByteBuffer src) throws IOException {
    return Conduits.writeFinalBasic(this, src);
  }

  @Override
  public long writeFinal(ByteBuffer[] srcs, int offset, int length) throws IOException {
    return Conduits.writeFinalBasic(this, srcs, offset, length);
  }

  @Override
  public long transferFrom(FileChannel src, long position, long count) throws IOException {
    log.trace("transfer");
    if (count == 0L) {
      return 0L;
    }
    int oldVal;
    do {
      oldVal = this.state;
      if (Bits.anyAreSet(oldVal, FLAG_WRITING)) {
        return 0L;
      }
    } while (!stateUpdater.compareAndSet(this, oldVal, oldVal | FLAG_WRITING));
    int state = oldVal & MASK_STATE;
    try {
      if (state != STATE_BODY) {
        state = processWrite(state, null);
        if (state != STATE_BODY) {
          return 0L;
        }
        if (Bits.allAreSet(oldVal, FLAG_SHUTDOWN)) {
          next.terminateWrites();
          throw new ClosedChannelException();
        }
      }
      return next.transferFrom(src, position, count);
    } catch (IOException | RuntimeException | Error e) {
      this.state |= FLAG_SHUTDOWN;
      freePooledBuffer();
      throw e;
    } finally {
      this.state = (oldVal & ~MASK_STATE) | state;
    }
  }

  @Override
  public long transferFrom(StreamSourceChannel source, long count, ByteBuffer throughBuffer)
      throws IOException {
    log.trace("transfer");
    if (count == 0L) {
      throughBuffer.clear().limit(0);
      return 0L;
    }
    int oldVal;
    do {
      oldVal = this.state;
      if (Bits.anyAreSet(oldVal, FLAG_WRITING)) {
        return 0L;
      }
    } while (!stateUpdater.compareAndSet(this, oldVal, oldVal | FLAG_WRITING));
    int state = oldVal & MASK_STATE;
    try {
      if (state != STATE_BODY) {
        state = processWrite(state, null);
        if (state != STATE_BODY) {
          return 0L;
        }
        if (Bits.allAreSet(oldVal, FLAG_SHUTDOWN)) {
          next.terminateWrites();
          throw new ClosedChannelException();
        }
      }
      return next.transferFrom(source, count, throughBuffer);
    } catch (IOException | RuntimeException | Error e) {
      this.state |= FLAG_SHUTDOWN;
      freePooledBuffer();
      throw e;
    } finally {
      this.state = (oldVal & ~MASK_STATE) | state;
    }
  }

  @Override
  public boolean flush() throws IOException {
    log.trace("flush");
    int oldVal;
    do {
      oldVal = this.state;
      if (Bits.anyAreSet(oldVal, FLAG_WRITING)) {
        return false;
      }
    } while (!stateUpdater.compareAndSet(this, oldVal, oldVal | FLAG_WRITING));
    int state = oldVal & MASK_STATE;
    try {
      if (state != STATE_BODY) {
        state = processWrite(state, null);
        if (state != STATE_BODY) {
          log.trace("Flush false because headers aren't written yet");
          return false;
        }
        if (Bits.allAreSet(oldVal, FLAG_SHUTDOWN)) {
          next.terminateWrites();
          // fall out to the flush
        }
      }
      log.trace("Delegating flush");
      return next.flush();
    } catch (IOException | RuntimeException | Error e) {
      this.state |= FLAG_SHUTDOWN;
      freePooledBuffer();
      throw e;
    } finally {
      this.state = (oldVal & ~MASK_STATE) | state;
    }
  }

  @Override
  public void terminateWrites() throws IOException {
    log.trace("shutdown");
    int oldVal = this.state;
    if (Bits.allAreClear(oldVal, MASK_STATE)) {
      next.terminateWrites();
      return;
    }
    this.state = oldVal | FLAG_SHUTDOWN;
  }

  @Override
  public void truncateWrites() throws IOException {
    log.trace("close");
    int oldVal = this.state;
    if (Bits.allAreClear(oldVal, MASK_STATE)) {
      try {
        next.truncateWrites();
      } finally {
        freePooledBuffer();
      }
      return;
    }
    this.state = (oldVal & ~MASK_STATE) | FLAG_SHUTDOWN | STATE_BODY;
    throw new TruncatedResponseException();
  }

  @Override
  public XnioWorker getWorker() {
    return next.getWorker();
  }

  public void freeBuffers() {
    if (pooledBuffer != null) {
      pooledBuffer.close();
      pooledBuffer = null;
      this.state = (this.state & ~MASK_STATE) | FLAG_SHUTDOWN;
    }
  }

  // The original repeats these four lines in each of its catch blocks.
  private void freePooledBuffer() {
    if (pooledBuffer != null) {
      pooledBuffer.close();
      pooledBuffer = null;
    }
  }

  private static ByteBuffer[] buildDataArray(ByteBuffer[] userData, ByteBuffer buffer) {
    int userDataLen = userData.length;
    ByteBuffer[] data = new ByteBuffer[userDataLen + 1];
    data[0] = buffer;
    System.arraycopy(userData, 0, data, 1, userDataLen);
    return data;
  }

  private boolean writeBufferArray(ByteBuffer[] data) throws IOException {
    long totalWritten = 0L;
    long totalRemaining = 0L;
    for (ByteBuffer buffer : data) {
      totalRemaining += buffer.remaining();
    }
    do {
      long r = next.write(data, 0, data.length);
      totalWritten += r;
      if (r == 0L && totalWritten < totalRemaining) {
        log.trace("Continuation");
        return false;
      }
    } while (totalWritten < totalRemaining);
    return true;
  }
}
