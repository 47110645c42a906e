package io.hoptrace.proxy.tcp.mysql;

import java.nio.ByteBuffer;

/**
 * Incremental MySQL packet framing: a 3-byte little-endian payload length, a sequence id, the
 * payload. Keeps each payload's first {@code capture} bytes and skips the rest by counting, so a 16
 * MiB row costs no memory. A payload of exactly 2^24-1 bytes continues in the next packet; that
 * packet is marked {@link #continuation()} (its first byte is data, not a header).
 */
final class PacketReader {
  /** Told about each packet. */
  interface Handler {
    /** The first byte of a packet's header arrived. */
    void onPacketStart(PacketReader reader);

    /** A packet's last byte arrived. */
    void onPacket(PacketReader reader);
  }

  static final int MAX_PAYLOAD = 0xFFFFFF;

  final Handler handler;
  final boolean fromClient;
  final byte[] captured;
  int capturedLength;
  int headerRead;
  int payloadLength;
  int remaining;
  int sequence;
  boolean continuation;
  boolean nextIsContinuation;
  boolean stopped;

  PacketReader(Handler handler, boolean fromClient, int capture) {
    this.handler = handler;
    this.fromClient = fromClient;
    this.captured = new byte[capture];
  }

  void feed(ByteBuffer chunk) {
    while (chunk.hasRemaining() && !stopped) {
      if (headerRead < 4) {
        int b = chunk.get() & 0xff;
        if (headerRead == 0) {
          payloadLength = 0;
          capturedLength = 0;
          handler.onPacketStart(this);
        }
        if (headerRead < 3) payloadLength |= b << (8 * headerRead);
        else sequence = b;
        if (++headerRead == 4) {
          remaining = payloadLength;
          continuation = nextIsContinuation;
          nextIsContinuation = payloadLength == MAX_PAYLOAD;
          if (remaining == 0) ended();
        }
        continue;
      }
      int take = Math.min(remaining, chunk.remaining());
      int copy = Math.min(take, captured.length - capturedLength);
      if (copy > 0) {
        chunk.get(captured, capturedLength, copy);
        capturedLength += copy;
      }
      chunk.position(chunk.position() + take - copy);
      remaining -= take;
      if (remaining == 0) ended();
    }
  }

  void ended() {
    headerRead = 0;
    handler.onPacket(this);
  }

  void stop() {
    stopped = true;
  }

  /** In the middle of a packet (for a connection that closes mid-command). */
  boolean inPacket() {
    return headerRead > 0;
  }

  int payloadLength() {
    return payloadLength;
  }

  int sequence() {
    return sequence;
  }

  boolean continuation() {
    return continuation;
  }

  /** The payload's first bytes. */
  byte[] payload() {
    return captured;
  }

  /** How many payload bytes {@link #payload()} holds: min(payload length, capture). */
  int capturedLength() {
    return capturedLength;
  }

  /** Unsigned payload byte {@code i}, or -1 beyond what was captured. */
  int u8(int i) {
    return i < capturedLength ? captured[i] & 0xff : -1;
  }
}
