package io.hoptrace.proxy.inbound;

import io.hoptrace.proxy.procfs.ProcessLinks;
import io.hoptrace.proxy.procfs.SocketKey;
import java.net.SocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * One shared {@link SocketKey} per upstream connection instead of one per request: every request
 * binds the key of the connection that carries it, and the registry keeps the request for
 * (M-1)·T..M·T, so a fresh key was ~56 bytes of live heap per request held (bench/README.md,
 * "Profile findings"). A connection's endpoint hands out the same address objects on every request,
 * so a small direct-mapped cache on their identity finds the key built last time. A key is a pure
 * function of the two addresses, so a hit is always the right key; a collision only rebuilds one.
 * Thread-safe: slots hold immutable entries.
 */
final class ConnectionKeys {
  private static final int SLOTS = 256; // a power of two

  private record Entry(SocketAddress appSide, SocketAddress proxySide, SocketKey key) {}

  private final @Nullable Entry[] slots = new Entry[SLOTS];

  /** The app-side key of the connection from {@code proxySide} to {@code appSide}, or null. */
  @Nullable SocketKey of(@Nullable SocketAddress appSide, @Nullable SocketAddress proxySide) {
    if (appSide == null || proxySide == null) return ProcessLinks.appSide(appSide, proxySide);
    int slot = System.identityHashCode(proxySide) & (SLOTS - 1);
    Entry e = slots[slot];
    if (e != null && e.appSide == appSide && e.proxySide == proxySide) return e.key;
    SocketKey key = ProcessLinks.appSide(appSide, proxySide);
    if (key != null) slots[slot] = new Entry(appSide, proxySide, key);
    return key;
  }
}
