package io.hoptrace.proxy.spanlog;

import io.hoptrace.context.HexCodec;
import io.hoptrace.span.Span;
import java.nio.charset.StandardCharsets;

/**
 * A stand-in Zipkin v2 JSON encoder until propagation-core's {@code SpanLineEncoder} is merged;
 * then this class goes away.
 */
public final class InterimSpanEncoder {
  public static byte[] encode(Span span) {
    StringBuilder b = new StringBuilder(512);
    b.append("{\"traceId\":\"").append(HexCodec.toHex(span.traceIdHigh(), span.traceIdLow()));
    b.append("\",\"id\":\"").append(HexCodec.toHex(span.id())).append('"');
    if (span.parentId() != 0L) {
      b.append(",\"parentId\":\"").append(HexCodec.toHex(span.parentId())).append('"');
    }
    b.append(",\"kind\":\"").append(span.kind().name()).append('"');
    b.append(",\"name\":");
    string(b, span.name());
    b.append(",\"timestamp\":").append(span.timestampMicros());
    b.append(",\"duration\":").append(Math.max(1, span.durationMicros()));
    b.append(",\"localEndpoint\":{\"serviceName\":");
    string(b, span.serviceName());
    b.append('}');
    String ip = span.remoteIp();
    if (ip != null) {
      b.append(",\"remoteEndpoint\":{\"").append(ip.indexOf(':') >= 0 ? "ipv6" : "ipv4");
      b.append("\":");
      string(b, ip);
      if (span.remotePort() != 0) b.append(",\"port\":").append(span.remotePort());
      b.append('}');
    }
    b.append(",\"tags\":{");
    for (int i = 0; i < span.tagCount(); i++) {
      if (i > 0) b.append(',');
      string(b, span.tagKey(i));
      b.append(':');
      string(b, span.tagValue(i));
    }
    b.append("}}");
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static void string(StringBuilder b, String s) {
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    b.append('"');
  }

  private InterimSpanEncoder() {}
}
