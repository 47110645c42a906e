package io.hoptrace.proxy.tcp;

import io.hoptrace.span.Span;
import org.jspecify.annotations.Nullable;

/**
 * One span for (the rest of) a connection: what a {@code tcp} route records, and what the protocol
 * observers fall back to when they cannot time commands one by one (pub/sub, MONITOR, TLS, a
 * protocol they cannot follow). Counts bytes each way; linked once, when it starts.
 */
public final class ConnectionSpan {
  final SpanRecorder recorder;
  final String name;
  final long startMicros;
  final TcpLink link;
  long bytesSent; // app -> server
  long bytesReceived; // server -> app

  /** Starts a span linked now, by asking the linker. */
  public ConnectionSpan(SpanRecorder recorder, String name, long startMicros) {
    this(recorder, name, startMicros, recorder.link(startMicros));
  }

  /** Continues what a command started: its start and the link already decided for it. */
  public ConnectionSpan(SpanRecorder recorder, String name, long startMicros, TcpLink link) {
    this.recorder = recorder;
    this.name = name;
    this.startMicros = startMicros;
    this.link = link;
  }

  public void addBytesSent(long n) {
    bytesSent += n;
  }

  public void addBytesReceived(long n) {
    bytesReceived += n;
  }

  /**
   * Records the span, ending now. {@code tags} are key, value pairs added before the byte counts.
   */
  public void finish(@Nullable String error, String... tags) {
    Span.Builder span = recorder.newSpan(link, name, startMicros, recorder.nowMicros());
    for (int i = 0; i + 1 < tags.length; i += 2) span.tag(tags[i], tags[i + 1]);
    span.tag("hoptrace.route", recorder.route.name)
        .tag("net.bytes_sent", Long.toString(bytesSent))
        .tag("net.bytes_received", Long.toString(bytesReceived));
    if (error != null) span.tag("error", error);
    recorder.emit(span, link);
  }
}
