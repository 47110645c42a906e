package io.hoptrace.proxy.inbound;

import java.util.Locale;

/**
 * Hands out one shared String per route key ({@code GET /orders/7}): the registry keeps every
 * inbound request for (M-1)·T..M·T, so a fresh key per request was ~60 bytes of live heap per
 * request held (bench/README.md, "Profile findings"). A small direct-mapped cache: a route seen
 * again returns the String kept from last time; a colliding or new route replaces the slot, so
 * memory stays bounded whatever the paths. Thread-safe: Strings are immutable, a lost race only
 * costs a duplicate.
 */
final class RouteKeys {
  private static final int SLOTS = 256; // a power of two

  private final String[] slots = new String[SLOTS];

  /** {@code METHOD path}, the method upper-cased. */
  String of(String method, String path) {
    String key = method.toUpperCase(Locale.ROOT) + " " + path;
    int slot = key.hashCode() & (SLOTS - 1);
    String cached = slots[slot];
    if (key.equals(cached)) return cached;
    slots[slot] = key;
    return key;
  }
}
