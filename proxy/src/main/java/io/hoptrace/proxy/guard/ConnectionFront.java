package io.hoptrace.proxy.guard;

import io.undertow.server.protocol.http.HttpOpenListener;
import org.xnio.StreamConnection;

/**
 * Takes a listener's accepted connections before Undertow's HTTP/1.1 parser does, with the head
 * guard already at the socket end of their read side (so what it reads has been checked, and a
 * refused head ends its reads). It may hand a connection on to Undertow at any point between
 * requests with {@link HttpOpenListener#handleEvent(StreamConnection,
 * io.undertow.connector.PooledByteBuffer)}, passing the bytes it has read and not used.
 */
@FunctionalInterface
public interface ConnectionFront {
  /** Called on the connection's I/O thread, once, as the connection is accepted. */
  void open(StreamConnection connection, HttpOpenListener undertow);
}
