package io.hoptrace.proxy.upstream;

import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.HttpString;
import java.util.Locale;
import java.util.Set;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.jspecify.annotations.Nullable;

/**
 * Hop-by-hop header fields (RFC 9110 §7.6.1): never forwarded. The fixed set below plus every field
 * the message's own {@code Connection} header lists.
 */
public final class HopByHop {
  /** Lowercase names; as in Jetty's ProxyHandler, plus Proxy-Connection which old clients send. */
  static final Set<String> FIELDS =
      Set.of(
          "connection",
          "http2-settings", // hardening: h2c upgrade (RFC 7540 §3.2.1), never passed on
          "keep-alive",
          "proxy-connection",
          "proxy-authenticate",
          "proxy-authorization",
          "te",
          "trailer",
          "transfer-encoding",
          "upgrade");

  /**
   * The fixed hop-by-hop field names, lowercase; a message's {@code Connection} tokens come on top.
   * For code that matches names on bytes rather than through {@link #isHopByHop} (bench/floor).
   */
  public static Set<String> fixedFields() {
    return FIELDS;
  }

  /** The usual Connection values: their token sets, shared instead of parsed per message. */
  private static final Set<String> KEEP_ALIVE = Set.of("keep-alive");

  private static final Set<String> CLOSE = Set.of("close");

  /**
   * The lowercase field names a {@code Connection} header value lists, or an empty set. The values
   * of several {@code Connection} lines are expected joined with commas. {@code keep-alive} and
   * {@code close} alone, what nearly every message carries, allocate nothing.
   */
  public static Set<String> connectionTokens(@Nullable String connection) {
    if (connection == null || connection.isEmpty()) return Set.of();
    if (connection.equalsIgnoreCase("keep-alive")) return KEEP_ALIVE;
    if (connection.equalsIgnoreCase("close")) return CLOSE;
    String[] parts = connection.split(",", -1);
    String[] names = new String[parts.length];
    int n = 0;
    for (String part : parts) {
      String token = part.strip().toLowerCase(Locale.ROOT);
      if (!token.isEmpty()) names[n++] = token;
    }
    return Set.of(java.util.Arrays.stream(names, 0, n).distinct().toArray(String[]::new));
  }

  /**
   * As {@link #connectionTokens(String)} for a message's {@code Connection} lines, joined with
   * commas; a single line (nearly every message) is not copied into a joined String first.
   */
  static Set<String> connectionTokensOf(@Nullable HeaderValues connection) {
    if (connection == null || connection.isEmpty()) return Set.of();
    if (connection.size() == 1) return connectionTokens(connection.getFirst());
    return connectionTokens(String.join(",", connection));
  }

  /**
   * Whether {@code name} must not be forwarded, given the message's connection tokens (lowercase,
   * from {@link #connectionTokens}). Compares ignoring case without lower-casing {@code name}: it
   * runs for every header of every message.
   */
  public static boolean isHopByHop(String name, Set<String> connectionTokens) {
    if (isFixed(name)) return true;
    if (connectionTokens.isEmpty()) return false;
    // The usual values' sets, without an iterator over them for every field ("keep-alive" is a
    // fixed field, found above).
    if (connectionTokens == KEEP_ALIVE) return false;
    if (connectionTokens == CLOSE) return name.equalsIgnoreCase("close");
    for (String token : connectionTokens) {
      if (token.equalsIgnoreCase(name)) return true;
    }
    return false;
  }

  /** Whether {@code name} is one of {@link #FIELDS}, ignoring case. */
  static boolean isFixed(String name) {
    return switch (name.length()) {
      case 2 -> name.equalsIgnoreCase("te");
      case 7 -> name.equalsIgnoreCase("trailer") || name.equalsIgnoreCase("upgrade");
      case 10 -> name.equalsIgnoreCase("connection") || name.equalsIgnoreCase("keep-alive");
      case 14 -> name.equalsIgnoreCase("http2-settings");
      case 16 -> name.equalsIgnoreCase("proxy-connection");
      case 17 -> name.equalsIgnoreCase("transfer-encoding");
      case 18 -> name.equalsIgnoreCase("proxy-authenticate");
      case 19 -> name.equalsIgnoreCase("proxy-authorization");
      default -> false;
    };
  }

  /**
   * Adds every field of {@code from} that is not hop-by-hop to {@code to}, values in order. Walks
   * the map by its cookies and the values by index: {@code for (HeaderValues v : from)} and {@code
   * HeaderMap.addAll} made an iterator each (the map's, and one per field's values), twice per
   * relayed request. The same fields in the same order: the cookies visit the map's table as its
   * iterator does, less the empty fields, which {@code addAll} skipped.
   */
  static void copyEndToEnd(HeaderMap from, Set<String> connectionTokens, HeaderMap to) {
    for (long c = from.fastIterateNonEmpty(); c != -1L; c = from.fiNextNonEmpty(c)) {
      HeaderValues values = from.fiCurrent(c);
      HttpString name = values.getHeaderName();
      if (isHopByHop(name.toString(), connectionTokens)) continue;
      for (int i = 0, n = values.size(); i < n; i++) to.add(name, values.get(i));
    }
  }

  /** Adds every field of {@code from} that is not hop-by-hop to {@code to}, values in order. */
  static void copyEndToEnd(HttpFields from, Set<String> connectionTokens, HeaderMap to) {
    for (HttpField field : from) {
      if (isHopByHop(field.getName(), connectionTokens)) continue;
      to.add(HttpString.tryFromString(field.getName()), field.getValue());
    }
  }

  /**
   * The trailer fields of a chunked body to pass on: those of {@code trailers} that are not
   * hop-by-hop by the message's connection tokens (RFC 9110 §6.5: a trailer section is forwarded
   * like the header section), or null when none are left.
   */
  static @Nullable HeaderMap endToEndTrailers(
      @Nullable HeaderMap trailers, Set<String> connectionTokens) {
    if (trailers == null || trailers.size() == 0) return null;
    HeaderMap kept = new HeaderMap();
    copyEndToEnd(trailers, connectionTokens, kept);
    return kept.size() == 0 ? null : kept;
  }

  private HopByHop() {}
}
