package io.hoptrace.proxy.inbound;

import java.net.InetSocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * The text of a caller's IP address ({@code X-Forwarded-For}, the span's remote endpoint), built
 * once per caller address and port instead of once per request (bench/README.md, "Allocation per
 * request (s14)"): a small direct-mapped cache on the address (equal, not identical: XNIO hands out
 * a new address object on every request) finds the text built last time. The text is a pure
 * function of the address, so a hit is always right; a collision only rebuilds one. Thread-safe:
 * slots hold immutable entries.
 */
final class AddressTexts {
  private static final int SLOTS = 256; // a power of two

  private record Entry(InetSocketAddress address, String text) {}

  private final @Nullable Entry[] slots = new Entry[SLOTS];

  /** {@code peer}'s IP address as text ({@code InetAddress#getHostAddress}), or null. */
  @Nullable String of(@Nullable InetSocketAddress peer) {
    if (peer == null || peer.getAddress() == null) return null;
    int hash = peer.hashCode(); // the address's and port's: XNIO makes a new object per request
    int slot = (hash ^ (hash >>> 16)) & (SLOTS - 1);
    Entry e = slots[slot];
    if (e != null && e.address.equals(peer)) return e.text;
    String text = peer.getAddress().getHostAddress();
    slots[slot] = new Entry(peer, text);
    return text;
  }
}
