package io.hoptrace.traces.export;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import io.hoptrace.traces.SpanRecord;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * OTLP/HTTP to an OpenTelemetry Collector (or any OTLP endpoint: Tempo, Jaeger 1.35+): {@code POST
 * /v1/traces} with an ExportTraceServiceRequest in protobuf ({@code application/x-protobuf}) or
 * JSON ({@code application/json}). Span lines are parsed and re-encoded (see {@link OtlpEncoder});
 * lines that are not spans are skipped and counted.
 */
public final class OtlpHttpExporter implements SpanExporter {
  public static final String DEFAULT_PATH = "/v1/traces";

  /** The OTLP/HTTP body encoding. */
  public enum Encoding {
    PROTOBUF("application/x-protobuf"),
    JSON("application/json");

    final String contentType;

    Encoding(String contentType) {
      this.contentType = contentType;
    }
  }

  private final HttpSender sender;
  private final Encoding encoding;
  private final AtomicLong malformed = new AtomicLong();

  /**
   * @param url the collector ({@code http://collector:4318}: {@value #DEFAULT_PATH} is added) or
   *     the full endpoint
   * @param encoding protobuf (what collectors expect by default) or JSON
   * @param timeout connect and request timeout
   */
  public OtlpHttpExporter(URI url, Encoding encoding, Duration timeout) {
    requireNonNull(url, "url");
    this.encoding = requireNonNull(encoding, "encoding");
    requireNonNull(timeout, "timeout");
    this.sender =
        new HttpSender(
            HttpSender.withDefaultPath(url, DEFAULT_PATH), encoding.contentType, timeout);
  }

  public URI endpoint() {
    return sender.endpoint();
  }

  /** Lines skipped because they were not spans. */
  public long malformedLines() {
    return malformed.get();
  }

  @Override
  public Result export(List<byte[]> spanLines) throws InterruptedException {
    List<SpanRecord> spans = new ArrayList<>(spanLines.size());
    for (byte[] line : spanLines) {
      SpanRecord s = SpanRecord.parse(new String(line, UTF_8));
      if (s == null) {
        malformed.incrementAndGet();
      } else {
        spans.add(s);
      }
    }
    if (spans.isEmpty()) return Result.SUCCESS;
    return sender.post(encode(spans, encoding));
  }

  static byte[] encode(List<SpanRecord> spans, Encoding encoding) {
    return encoding == Encoding.PROTOBUF
        ? OtlpEncoder.protobuf(spans)
        : OtlpEncoder.json(spans).getBytes(UTF_8);
  }

  @Override
  public String name() {
    return "otlp";
  }

  @Override
  public String lastError() {
    return sender.lastError();
  }
}
