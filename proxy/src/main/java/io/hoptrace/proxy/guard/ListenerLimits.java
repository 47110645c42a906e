package io.hoptrace.proxy.guard;

import io.hoptrace.config.Settings;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
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
    int head = limits.maxRequestLine() + limits.maxHeaderBytes();
    int highWater = (int) Math.min(Integer.MAX_VALUE, 2L * limits.maxConnections() + 16);
    return builder
        .setBufferSize(BUFFER_SIZE)
        .setDirectBuffers(true)
        .setServerOption(UndertowOptions.MAX_HEADER_SIZE, 2 * head)
        .setServerOption(UndertowOptions.MAX_HEADERS, 2 * limits.maxHeaders())
        .setServerOption(
            UndertowOptions.REQUEST_PARSE_TIMEOUT, (int) limits.headerTimeout().toMillis())
        .setServerOption(UndertowOptions.NO_REQUEST_TIMEOUT, (int) limits.idleTimeout().toMillis())
        .setServerOption(UndertowOptions.ALLOW_UNESCAPED_CHARACTERS_IN_URL, false)
        .setServerOption(UndertowOptions.ALLOW_UNKNOWN_PROTOCOLS, true) // 505 from the guard
        .setServerOption(UndertowOptions.ENABLE_STATISTICS, true) // open connections, for 503
        // The head guard answers a bad pipelined head after the responses before it have gone
        // out: they must not wait in a pipelining buffer.
        .setServerOption(UndertowOptions.BUFFER_PIPELINED_DATA, false)
        .setSocketOption(Options.CONNECTION_HIGH_WATER, highWater)
        .setSocketOption(Options.CONNECTION_LOW_WATER, Math.max(1, highWater - 16));
  }

  private ListenerLimits() {}
}
