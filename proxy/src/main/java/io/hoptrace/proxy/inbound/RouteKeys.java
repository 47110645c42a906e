package io.hoptrace.proxy.inbound;

import java.util.Locale;

/**
 * Hands out one shared {@link Route} per method and path: its route key ({@code GET /orders/7}) and
 * its span name ({@code get /orders/7}). The registry keeps every inbound request for (M-1)·T..M·T,
 * so a fresh key per request was ~60 bytes of live heap per request held (bench/README.md, "Profile
 * findings"), and building the key and the name took two concatenations per request ("Allocation
 * per request (s14)"). A small direct-mapped cache looked up by the method and path themselves: a
 * route seen again returns the Route kept from last time without building anything; a colliding or
 * new route replaces the slot, so memory stays bounded whatever the paths. Thread-safe: Routes are
 * immutable, a lost race only costs a duplicate.
 */
final class RouteKeys {
  private static final int SLOTS = 256; // a power of two

  /** One method and path, with the Strings built from them. */
  record Route(String method, String path, String key, String spanName) {
    /** No route yet (a field's value before its first request). */
    static final Route NONE = new Route("", "", "", "");

    boolean is(String method, String path) {
      return this.method.equals(method) && this.path.equals(path);
    }
  }

  private final Route[] slots = new Route[SLOTS];

  /** The Route of {@code method path}: key {@code METHOD path}, the method upper-cased. */
  Route of(String method, String path) {
    int hash = method.hashCode() * 31 + path.hashCode();
    int slot = (hash ^ (hash >>> 16)) & (SLOTS - 1);
    Route cached = slots[slot];
    if (cached != null && cached.is(method, path)) return cached;
    Route route =
        new Route(
            method, path, method.toUpperCase(Locale.ROOT) + " " + path, spanName(method, path));
    slots[slot] = route;
    return route;
  }

  /** {@code method path}, the method lower-cased: the SERVER span's name. */
  static String spanName(String method, String path) {
    return method.toLowerCase(Locale.ROOT) + " " + path;
  }
}
