package io.hoptrace.proxy.guard;

import io.hoptrace.config.Settings;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import org.xnio.Option;
import org.xnio.OptionMap;
import org.xnio.Options;

/**
 * The limits Undertow's own parser and XNIO enforce, set on a listener builder. Undertow answers
 * what breaks them with its fixed {@code 400} and closes, before any handler (so without a span);
 * they are therefore set wider than the limits the head guard ({@link HeadGuardConduit}) answers
 * with 414 and 431, and serve as the hard backstop against unbounded memory.
 *
 * <p>Apply it last on a builder: {@code ALLOW_UNESCAPED_CHARACTERS_IN_URL} must stay false. With it
 * true Undertow percent-decodes the request target it hands on, so the app would get a different
 * path than the client sent (measured: {@code /a/%2e%2e/admin} arrived as {@code /a/../admin},
 * {@code %252e} as {@code %2e}, {@code %C3%A9} as one Latin-1 byte): a path-confusion hole in front
 * of every app. The cost: a raw {@code |}, {@code {}} or other unescaped character gets 400.
 */
public final class ListenerLimits {
  /**
   * Undertow's I/O buffers: 16 KiB less slack for headers, direct. Set here because Undertow
   * otherwise picks them from the heap size: 1 KiB direct with the launcher's 96 MB heap, 512 bytes
   * on the heap below 64 MB, 16 KiB above 128 MB, so a heap flag would silently change the I/O
   * path.
   */
  static final int BUFFER_SIZE = 16 * 1024 - 20;

  /**
   * Sets the I/O buffer size, the parser limits, the header and idle timeouts, and the connection
   * high-water mark (the listener stops accepting at twice {@code limits.max-connections}; below
   * that, the overload stage answers 503 past it).
   */
  public static Undertow.Builder apply(Undertow.Builder builder, Settings.Limits limits) {
    builder.setBufferSize(BUFFER_SIZE).setDirectBuffers(true);
    OptionMap server = serverOptions(limits);
    for (Option<?> option : server) setServerOption(builder, server, option);
    OptionMap socket = socketOptions(limits);
    for (Option<?> option : socket) setSocketOption(builder, socket, option);
    return builder;
  }

  /** The parser limits and timeouts as Undertow server options (see {@link #apply}). */
  public static OptionMap serverOptions(Settings.Limits limits) {
    int head = limits.maxRequestLine() + limits.maxHeaderBytes();
    return OptionMap.builder()
        .set(UndertowOptions.MAX_HEADER_SIZE, 2 * head)
        .set(UndertowOptions.MAX_HEADERS, 2 * limits.maxHeaders())
        .set(UndertowOptions.REQUEST_PARSE_TIMEOUT, (int) limits.headerTimeout().toMillis())
        .set(UndertowOptions.NO_REQUEST_TIMEOUT, (int) limits.idleTimeout().toMillis())
        .set(UndertowOptions.ALLOW_UNESCAPED_CHARACTERS_IN_URL, false)
        .set(UndertowOptions.ALLOW_UNKNOWN_PROTOCOLS, true) // 505 from the guard
        // No ENABLE_STATISTICS: the head guard's listener counts open connections for the 503
        // itself (HeadGuardConduit.listen), without Undertow's per-exchange and per-byte atomics.
        // The head guard answers a bad pipelined head after the responses before it have gone
        // out: they must not wait in a pipelining buffer.
        .set(UndertowOptions.BUFFER_PIPELINED_DATA, false)
        .getMap();
  }

  /** The connection high-water mark as XNIO socket options (see {@link #apply}). */
  public static OptionMap socketOptions(Settings.Limits limits) {
    int highWater = (int) Math.min(Integer.MAX_VALUE, 2L * limits.maxConnections() + 16);
    return OptionMap.builder()
        .set(Options.CONNECTION_HIGH_WATER, highWater)
        .set(Options.CONNECTION_LOW_WATER, Math.max(1, highWater - 16))
        .getMap();
  }

  private static <T> void setServerOption(Undertow.Builder b, OptionMap map, Option<T> option) {
    T value = map.get(option);
    if (value != null) b.setServerOption(option, value);
  }

  private static <T> void setSocketOption(Undertow.Builder b, OptionMap map, Option<T> option) {
    T value = map.get(option);
    if (value != null) b.setSocketOption(option, value);
  }

  private ListenerLimits() {}
}
