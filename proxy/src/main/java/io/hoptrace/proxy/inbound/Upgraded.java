package io.hoptrace.proxy.inbound;

import org.jspecify.annotations.Nullable;

/**
 * A WebSocket connection relayed after the app's 101: its SERVER span is written when the relay
 * ends, not when the handshake exchange completes. Whichever of the two comes last writes it.
 */
final class Upgraded {
  private @Nullable Runnable record;
  private boolean closed;
  long bytesFromCaller;
  long bytesToCaller;
  @Nullable String error;

  /**
   * Called when the handshake exchange completes: runs {@code record} when the relay has closed,
   * now or later.
   */
  void recordWhenClosed(Runnable record) {
    boolean now;
    synchronized (this) {
      now = closed;
      if (!now) this.record = record;
    }
    if (now) record.run();
  }

  /** Called once, when the relay has closed. */
  void closed(long fromCaller, long toCaller, @Nullable String error) {
    Runnable run;
    synchronized (this) {
      this.bytesFromCaller = fromCaller;
      this.bytesToCaller = toCaller;
      this.error = error;
      closed = true;
      run = record;
      record = null;
    }
    if (run != null) run.run();
  }
}
