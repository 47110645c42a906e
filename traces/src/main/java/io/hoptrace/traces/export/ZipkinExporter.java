package io.hoptrace.traces.export;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * Zipkin v2 JSON over HTTP ({@code POST /api/v2/spans}): the body is {@code [line,line,...]}, the
 * span lines as they are — each is already a Zipkin v2 span, so nothing is re-encoded. Any
 * Zipkin-compatible collector accepts it (Zipkin, Jaeger, Tempo, the OTel Collector's zipkin
 * receiver).
 */
public final class ZipkinExporter implements SpanExporter {
  public static final String DEFAULT_PATH = "/api/v2/spans";

  private final HttpSender sender;

  /**
   * @param url the Zipkin server ({@code http://zipkin:9411}: {@value #DEFAULT_PATH} is added) or
   *     the full endpoint
   * @param timeout connect and request timeout
   * @throws IllegalArgumentException when {@code url} is not an http(s) URL
   */
  public ZipkinExporter(URI url, Duration timeout) {
    requireNonNull(url, "url");
    requireNonNull(timeout, "timeout");
    this.sender =
        new HttpSender(HttpSender.withDefaultPath(url, DEFAULT_PATH), "application/json", timeout);
  }

  /** The endpoint spans are posted to. */
  public URI endpoint() {
    return sender.endpoint();
  }

  @Override
  public Result export(List<byte[]> spanLines) throws InterruptedException {
    if (spanLines.isEmpty()) return Result.SUCCESS;
    return sender.post(body(spanLines));
  }

  /** {@code [line,line,...]}; surrounding whitespace of each line is dropped. */
  static byte[] body(List<byte[]> spanLines) {
    int size = 2;
    for (byte[] line : spanLines) size += line.length + 1;
    ByteArrayOutputStream out = new ByteArrayOutputStream(size);
    out.write('[');
    boolean first = true;
    for (byte[] line : spanLines) {
      int from = 0;
      int to = line.length;
      while (from < to && isSpace(line[from])) from++;
      while (to > from && isSpace(line[to - 1])) to--;
      if (from == to) continue;
      if (!first) out.write(',');
      out.write(line, from, to - from);
      first = false;
    }
    out.write(']');
    return out.toByteArray();
  }

  private static boolean isSpace(byte b) {
    return b == ' ' || b == '\n' || b == '\r' || b == '\t';
  }

  @Override
  public String name() {
    return "zipkin";
  }

  @Override
  public String lastError() {
    return sender.lastError();
  }
}
