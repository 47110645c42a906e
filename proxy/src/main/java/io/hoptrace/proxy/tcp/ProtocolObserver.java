package io.hoptrace.proxy.tcp;

import java.nio.ByteBuffer;
import org.jspecify.annotations.Nullable;

/**
 * Watches one relayed connection's bytes and records spans. The relay forwards every byte unchanged
 * whatever the observer does: an observer only reads.
 *
 * <p>Each call gets a read-only view of one chunk exactly as it was read from a socket, so a
 * command or reply may be split at any byte boundary; observers parse incrementally and must not
 * keep the buffer (it is reused for the next chunk). They must not throw on any input (wire input
 * never throws): a protocol they cannot follow degrades to one span for the rest of the connection.
 * All calls come from the relay's selector thread.
 */
public interface ProtocolObserver {
  /** Bytes the app sent towards the server, before they are forwarded. */
  void onClientBytes(ByteBuffer chunk);

  /** Bytes the server sent towards the app, before they are forwarded. */
  void onServerBytes(ByteBuffer chunk);

  /**
   * The server ended its stream: nothing more will come from it, so calls still waiting for a reply
   * can be finished now (the app may hold the half-open connection for a while).
   */
  default void onServerEnd() {}

  /**
   * The connection is closed on both sides; called once, last. {@code error} is null for a clean
   * close (both sides ended their streams), else why it ended (an I/O error, a reset, the upstream
   * refusing the connection).
   */
  void onClose(@Nullable String error);
}
