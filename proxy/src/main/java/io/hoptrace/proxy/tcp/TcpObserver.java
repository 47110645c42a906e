package io.hoptrace.proxy.tcp;

import java.nio.ByteBuffer;
import org.jspecify.annotations.Nullable;

/**
 * {@code protocol = tcp}: opaque bytes, one CLIENT span per connection named {@code tcp <route>}.
 */
final class TcpObserver implements ProtocolObserver {
  final ConnectionSpan span;

  TcpObserver(SpanRecorder recorder) {
    this.span =
        new ConnectionSpan(
            recorder,
            "tcp " + recorder.route.name.toLowerCase(java.util.Locale.ROOT),
            recorder.nowMicros());
  }

  @Override
  public void onClientBytes(ByteBuffer chunk) {
    span.addBytesSent(chunk.remaining());
  }

  @Override
  public void onServerBytes(ByteBuffer chunk) {
    span.addBytesReceived(chunk.remaining());
  }

  @Override
  public void onClose(@Nullable String error) {
    span.finish(error);
  }
}
