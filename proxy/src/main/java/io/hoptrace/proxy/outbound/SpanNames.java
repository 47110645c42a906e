package io.hoptrace.proxy.outbound;

import java.util.Locale;

/**
 * The CLIENT span's name ({@code get /orders/7}: the method lower-cased, a space, the path) per
 * method and path, kept in a small direct-mapped cache looked up by the method and path themselves,
 * as the inbound hop keeps its route keys: an app calls the same few paths, and building the name
 * was two Strings per call (bench/README.md, "Outbound path (s17)"). A new or colliding path
 * replaces its slot, so memory stays bounded whatever the paths. Thread-safe: entries are
 * immutable, a lost race only costs a duplicate.
 */
final class SpanNames {
  private static final int SLOTS = 64; // a power of two

  private record Name(String method, String path, String name) {}

  private final Name[] slots = new Name[SLOTS];

  /** {@code method path}, the method lower-cased. */
  String of(String method, String path) {
    int hash = method.hashCode() * 31 + path.hashCode();
    int slot = (hash ^ (hash >>> 16)) & (SLOTS - 1);
    Name cached = slots[slot];
    if (cached != null && cached.method.equals(method) && cached.path.equals(path)) {
      return cached.name;
    }
    Name made = new Name(method, path, method.toLowerCase(Locale.ROOT) + " " + path);
    slots[slot] = made;
    return made.name;
  }
}
