package io.hoptrace.proxy.tcp.mysql;

import io.hoptrace.proxy.tcp.ConnectionSpan;
import io.hoptrace.proxy.tcp.ProtocolObserver;
import io.hoptrace.proxy.tcp.SpanRecorder;
import java.nio.ByteBuffer;
import org.jspecify.annotations.Nullable;

/** {@code protocol = mysql}: placeholder, one span per connection. */
public final class MysqlObserver implements ProtocolObserver {
  final ConnectionSpan span;

  public MysqlObserver(SpanRecorder recorder) {
    this.span = new ConnectionSpan(recorder, "mysql connection", recorder.nowMicros());
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
    span.finish(error, "db.system", "mysql");
  }
}
