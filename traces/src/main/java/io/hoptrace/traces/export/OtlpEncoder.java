package io.hoptrace.traces.export;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.hoptrace.traces.SpanRecord;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Span lines as an OTLP {@code ExportTraceServiceRequest} (opentelemetry-proto trace/v1), in
 * protobuf or in OTLP/JSON. One ResourceSpans per service ({@code service.name}); the span-log tags
 * map to the HTTP semantic conventions ({@code http.request.method}, {@code url.path}, {@code
 * http.response.status_code}, {@code error.type}, {@code server.address}/{@code client.address}),
 * and every other tag — the {@code hoptrace.*} attribution above all — is kept under its own name.
 */
public final class OtlpEncoder {
  static final String SCOPE_NAME = "io.hoptrace";

  // opentelemetry/proto/trace/v1/trace.proto field numbers.
  private static final int REQUEST_RESOURCE_SPANS = 1;
  private static final int RESOURCE_SPANS_RESOURCE = 1;
  private static final int RESOURCE_SPANS_SCOPE_SPANS = 2;
  private static final int RESOURCE_ATTRIBUTES = 1;
  private static final int SCOPE_SPANS_SCOPE = 1;
  private static final int SCOPE_SPANS_SPANS = 2;
  private static final int SCOPE_NAME_FIELD = 1;
  private static final int SPAN_TRACE_ID = 1;
  private static final int SPAN_SPAN_ID = 2;
  private static final int SPAN_PARENT_SPAN_ID = 4;
  private static final int SPAN_NAME = 5;
  private static final int SPAN_KIND = 6;
  private static final int SPAN_START = 7;
  private static final int SPAN_END = 8;
  private static final int SPAN_ATTRIBUTES = 9;
  private static final int SPAN_STATUS = 15;
  private static final int STATUS_MESSAGE = 2;
  private static final int STATUS_CODE = 3;
  private static final int KEY_VALUE_KEY = 1;
  private static final int KEY_VALUE_VALUE = 2;
  private static final int ANY_STRING = 1;
  private static final int ANY_INT = 3;

  static final int KIND_INTERNAL = 1;
  static final int KIND_SERVER = 2;
  static final int KIND_CLIENT = 3;
  static final int KIND_PRODUCER = 4;
  static final int KIND_CONSUMER = 5;
  static final int STATUS_ERROR = 2;

  private static final JsonFactory JSON = new JsonFactory();

  private OtlpEncoder() {}

  /** An attribute: a string or an integer value. */
  record Attribute(String key, @Nullable String stringValue, long intValue) {
    static Attribute of(String key, String value) {
      return new Attribute(key, value, 0);
    }

    static Attribute of(String key, long value) {
      return new Attribute(key, null, value);
    }
  }

  /** The protobuf encoding of an ExportTraceServiceRequest holding {@code spans}. */
  public static byte[] protobuf(List<SpanRecord> spans) {
    ProtoWriter request = new ProtoWriter();
    for (Map.Entry<String, List<SpanRecord>> e : byService(spans).entrySet()) {
      ProtoWriter resource = new ProtoWriter();
      resource.message(RESOURCE_ATTRIBUTES, keyValue(Attribute.of("service.name", e.getKey())));
      ProtoWriter scopeSpans = new ProtoWriter();
      scopeSpans.message(SCOPE_SPANS_SCOPE, new ProtoWriter().string(SCOPE_NAME_FIELD, SCOPE_NAME));
      for (SpanRecord s : e.getValue()) scopeSpans.message(SCOPE_SPANS_SPANS, span(s));
      ProtoWriter resourceSpans = new ProtoWriter();
      resourceSpans.message(RESOURCE_SPANS_RESOURCE, resource);
      resourceSpans.message(RESOURCE_SPANS_SCOPE_SPANS, scopeSpans);
      request.message(REQUEST_RESOURCE_SPANS, resourceSpans);
    }
    return request.toByteArray();
  }

  private static ProtoWriter span(SpanRecord s) {
    ProtoWriter w = new ProtoWriter();
    w.bytes(SPAN_TRACE_ID, hexToBytes(s.traceId()));
    w.bytes(SPAN_SPAN_ID, hexToBytes(s.id()));
    String parent = s.parentId();
    if (parent != null) w.bytes(SPAN_PARENT_SPAN_ID, hexToBytes(parent));
    w.string(SPAN_NAME, name(s));
    w.varint(SPAN_KIND, kind(s.kind()));
    w.fixed64(SPAN_START, s.timestampMicros() * 1_000);
    w.fixed64(SPAN_END, s.endMicros() * 1_000);
    for (Attribute a : attributes(s)) w.message(SPAN_ATTRIBUTES, keyValue(a));
    String error = errorMessage(s);
    if (error != null) {
      ProtoWriter status = new ProtoWriter();
      if (!error.isEmpty()) status.string(STATUS_MESSAGE, error);
      status.varint(STATUS_CODE, STATUS_ERROR);
      w.message(SPAN_STATUS, status);
    }
    return w;
  }

  private static ProtoWriter keyValue(Attribute a) {
    ProtoWriter value = new ProtoWriter();
    if (a.stringValue() != null) {
      value.string(ANY_STRING, a.stringValue());
    } else {
      value.varint(ANY_INT, a.intValue());
    }
    return new ProtoWriter().string(KEY_VALUE_KEY, a.key()).message(KEY_VALUE_VALUE, value);
  }

  /**
   * OTLP/JSON (the protobuf JSON mapping with OTLP's exceptions: trace and span ids as hex, enums
   * as integers, 64-bit integers as strings).
   */
  public static String json(List<SpanRecord> spans) {
    StringWriter out = new StringWriter();
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeArrayFieldStart("resourceSpans");
      for (Map.Entry<String, List<SpanRecord>> e : byService(spans).entrySet()) {
        g.writeStartObject();
        g.writeObjectFieldStart("resource");
        g.writeArrayFieldStart("attributes");
        writeAttribute(g, Attribute.of("service.name", e.getKey()));
        g.writeEndArray();
        g.writeEndObject();
        g.writeArrayFieldStart("scopeSpans");
        g.writeStartObject();
        g.writeObjectFieldStart("scope");
        g.writeStringField("name", SCOPE_NAME);
        g.writeEndObject();
        g.writeArrayFieldStart("spans");
        for (SpanRecord s : e.getValue()) writeSpan(g, s);
        g.writeEndArray();
        g.writeEndObject();
        g.writeEndArray();
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a StringWriter does not fail
    }
    return out.toString();
  }

  private static void writeSpan(JsonGenerator g, SpanRecord s) throws IOException {
    g.writeStartObject();
    g.writeStringField("traceId", s.traceId());
    g.writeStringField("spanId", s.id());
    String parent = s.parentId();
    if (parent != null) g.writeStringField("parentSpanId", parent);
    g.writeStringField("name", name(s));
    g.writeNumberField("kind", kind(s.kind()));
    g.writeStringField("startTimeUnixNano", Long.toString(s.timestampMicros() * 1_000));
    g.writeStringField("endTimeUnixNano", Long.toString(s.endMicros() * 1_000));
    g.writeArrayFieldStart("attributes");
    for (Attribute a : attributes(s)) writeAttribute(g, a);
    g.writeEndArray();
    String error = errorMessage(s);
    if (error != null) {
      g.writeObjectFieldStart("status");
      if (!error.isEmpty()) g.writeStringField("message", error);
      g.writeNumberField("code", STATUS_ERROR);
      g.writeEndObject();
    }
    g.writeEndObject();
  }

  private static void writeAttribute(JsonGenerator g, Attribute a) throws IOException {
    g.writeStartObject();
    g.writeStringField("key", a.key());
    g.writeObjectFieldStart("value");
    if (a.stringValue() != null) {
      g.writeStringField("stringValue", a.stringValue());
    } else {
      g.writeStringField("intValue", Long.toString(a.intValue()));
    }
    g.writeEndObject();
    g.writeEndObject();
  }

  private static Map<String, List<SpanRecord>> byService(List<SpanRecord> spans) {
    Map<String, List<SpanRecord>> out = new LinkedHashMap<>();
    for (SpanRecord s : spans) out.computeIfAbsent(s.serviceName(), k -> new ArrayList<>()).add(s);
    return out;
  }

  /** {@code get /orders/42} becomes {@code GET /orders/42} (the semantic conventions' case). */
  static String name(SpanRecord s) {
    String method = s.tag("http.method");
    String name = s.name();
    if (method != null
        && name.length() > method.length()
        && name.charAt(method.length()) == ' '
        && name.regionMatches(true, 0, method, 0, method.length())) {
      return method.toUpperCase(Locale.ROOT) + name.substring(method.length());
    }
    return name;
  }

  static int kind(@Nullable String kind) {
    if (kind == null) return KIND_INTERNAL;
    return switch (kind) {
      case "SERVER" -> KIND_SERVER;
      case "CLIENT" -> KIND_CLIENT;
      case "PRODUCER" -> KIND_PRODUCER;
      case "CONSUMER" -> KIND_CONSUMER;
      default -> KIND_INTERNAL;
    };
  }

  /** Tags as semantic-convention attributes; unknown tags keep their names. */
  static List<Attribute> attributes(SpanRecord s) {
    List<Attribute> out = new ArrayList<>();
    boolean server = "SERVER".equals(s.kind());
    for (Map.Entry<String, String> tag : s.tags().entrySet()) {
      String key = tag.getKey();
      String value = tag.getValue();
      switch (key) {
        case "http.method" ->
            out.add(Attribute.of("http.request.method", value.toUpperCase(Locale.ROOT)));
        case "http.path" -> out.add(Attribute.of("url.path", value));
        case "http.status_code" -> {
          long code = parseStatus(value);
          out.add(
              code >= 0
                  ? Attribute.of("http.response.status_code", code)
                  : Attribute.of(key, value));
        }
        case "error" -> {} // error.type and the span status, below
        default -> out.add(Attribute.of(key, value));
      }
    }
    String errorType = errorType(s, server);
    if (errorType != null) out.add(Attribute.of("error.type", errorType));
    String ip = s.remoteIp();
    if (ip != null) {
      out.add(Attribute.of("network.peer.address", ip));
      if (s.remotePort() > 0) out.add(Attribute.of("network.peer.port", s.remotePort()));
      if (server) {
        out.add(Attribute.of("client.address", ip));
      } else {
        out.add(Attribute.of("server.address", ip));
        if (s.remotePort() > 0) out.add(Attribute.of("server.port", s.remotePort()));
      }
    }
    return out;
  }

  /**
   * The semantic conventions' {@code error.type}: the status code when it marks the failure (5xx on
   * a server, 4xx or 5xx on a client), else the span log's error reason, else {@code _OTHER}.
   */
  static @Nullable String errorType(SpanRecord s, boolean server) {
    String status = s.tag("http.status_code");
    long code = status == null ? -1 : parseStatus(status);
    if (code >= 500 || (!server && code >= 400)) return Long.toString(code);
    String error = s.tag("error");
    if (error == null) return null;
    return error.isBlank() ? "_OTHER" : error;
  }

  /** The span status message when the span failed (possibly empty), else null. */
  static @Nullable String errorMessage(SpanRecord s) {
    if (!s.isError()) return null;
    String error = s.tag("error");
    return error == null ? "" : error;
  }

  private static long parseStatus(String value) {
    if (value.length() != 3) return -1;
    long v = 0;
    for (int i = 0; i < 3; i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') return -1;
      v = v * 10 + (c - '0');
    }
    return v;
  }

  static byte[] hexToBytes(String hex) {
    byte[] out = new byte[hex.length() / 2];
    for (int i = 0; i < out.length; i++) {
      out[i] =
          (byte)
              ((Character.digit(hex.charAt(2 * i), 16) << 4)
                  | Character.digit(hex.charAt(2 * i + 1), 16));
    }
    return out;
  }
}
