package io.hoptrace.traces;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.IOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One span line as read back from a span log (DESIGN.md "Span log"): a Zipkin v2 span. Reading is
 * lenient about what it does not need (unknown keys, missing remote endpoint) and strict about what
 * makes a span placeable (a trace id and a span id in hex). A line that is not a span gives {@code
 * null}: span logs are wire input, so reading never throws.
 */
public final class SpanRecord {
  /** Longer lines are not span lines (a span has a dozen short tags); refuse before parsing. */
  public static final int MAX_LINE_LENGTH = 64 * 1024;

  private static final JsonFactory JSON =
      JsonFactory.builder()
          .streamReadConstraints(
              StreamReadConstraints.builder().maxNestingDepth(8).maxStringLength(16 * 1024).build())
          .build();

  private final String traceId;
  private final String id;
  private final @Nullable String parentId;
  private final @Nullable String kind;
  private final String name;
  private final long timestampMicros;
  private final long durationMicros;
  private final String serviceName;
  private final @Nullable String remoteIp;
  private final int remotePort;
  private final Map<String, String> tags;
  private final String line;

  private SpanRecord(Builder b, String line) {
    this.traceId = requireNonNull(b.traceId, "traceId");
    this.id = requireNonNull(b.id, "id");
    this.parentId = b.parentId;
    this.kind = b.kind;
    this.name = b.name;
    this.timestampMicros = b.timestampMicros;
    this.durationMicros = b.durationMicros;
    this.serviceName = b.serviceName;
    this.remoteIp = b.remoteIp;
    this.remotePort = b.remotePort;
    this.tags = Collections.unmodifiableMap(new LinkedHashMap<>(b.tags));
    this.line = line;
  }

  /** Parses one span line; null when the line is not a usable span (never throws). */
  public static @Nullable SpanRecord parse(String line) {
    requireNonNull(line, "line");
    String trimmed = line.strip();
    if (trimmed.isEmpty() || trimmed.length() > MAX_LINE_LENGTH || trimmed.charAt(0) != '{') {
      return null;
    }
    Builder b = new Builder();
    try (JsonParser p = JSON.createParser(trimmed)) {
      if (p.nextToken() != JsonToken.START_OBJECT) return null;
      if (!readSpan(p, b)) return null;
      if (p.nextToken() != null) return null; // trailing garbage: two spans glued together
    } catch (IOException | RuntimeException e) {
      return null;
    }
    if (b.traceId == null || b.id == null) return null;
    return new SpanRecord(b, trimmed);
  }

  private static boolean readSpan(JsonParser p, Builder b) throws IOException {
    JsonToken t;
    while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken v = p.nextToken();
      switch (field) {
        case "traceId" -> b.traceId = hex(p, v, 16, 32);
        case "id" -> b.id = hex(p, v, 16, 16);
        case "parentId" -> {
          b.parentId = hex(p, v, 16, 16);
          b.invalid = b.parentId == null && v != JsonToken.VALUE_NULL;
          if ("0000000000000000".equals(b.parentId)) b.parentId = null;
        }
        case "kind" -> b.kind = v == JsonToken.VALUE_STRING ? p.getText() : null;
        case "name" -> b.name = v == JsonToken.VALUE_STRING ? p.getText() : "";
        case "timestamp" -> b.timestampMicros = v.isNumeric() ? p.getLongValue() : 0;
        case "duration" -> b.durationMicros = v.isNumeric() ? p.getLongValue() : 0;
        case "localEndpoint" -> readEndpoint(p, v, b, true);
        case "remoteEndpoint" -> readEndpoint(p, v, b, false);
        case "tags" -> readTags(p, v, b);
        default -> p.skipChildren();
      }
      if (b.invalid) return false;
    }
    return t == JsonToken.END_OBJECT;
  }

  private static @Nullable String hex(JsonParser p, JsonToken v, int minLength, int maxLength)
      throws IOException {
    if (v != JsonToken.VALUE_STRING) {
      p.skipChildren();
      return null;
    }
    String s = p.getText();
    if (s.length() < minLength || s.length() > maxLength) return null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!ok) return null;
    }
    // 64-bit trace ids (older Zipkin) are widened so that every trace id has one spelling.
    String lower = s.toLowerCase(Locale.ROOT);
    return lower.length() == 16 && maxLength == 32 ? "0000000000000000" + lower : lower;
  }

  private static void readEndpoint(JsonParser p, JsonToken v, Builder b, boolean local)
      throws IOException {
    if (v != JsonToken.START_OBJECT) {
      p.skipChildren();
      return;
    }
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken fv = p.nextToken();
      if (local && field.equals("serviceName") && fv == JsonToken.VALUE_STRING) {
        b.serviceName = p.getText();
      } else if (!local && (field.equals("ipv4") || field.equals("ipv6")) && fv.isScalarValue()) {
        b.remoteIp = p.getText();
      } else if (!local && field.equals("port") && fv.isNumeric()) {
        b.remotePort = p.getIntValue();
      } else {
        p.skipChildren();
      }
    }
  }

  private static void readTags(JsonParser p, JsonToken v, Builder b) throws IOException {
    if (v != JsonToken.START_OBJECT) {
      p.skipChildren();
      return;
    }
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String key = p.currentName();
      JsonToken tv = p.nextToken();
      if (tv.isScalarValue()) {
        b.tags.put(key, p.getText());
      } else {
        p.skipChildren();
      }
    }
  }

  /** 32 lowercase hex characters. */
  public String traceId() {
    return traceId;
  }

  /** 16 lowercase hex characters. */
  public String id() {
    return id;
  }

  /** Null for a root span. */
  public @Nullable String parentId() {
    return parentId;
  }

  /** {@code SERVER}, {@code CLIENT}, another Zipkin kind, or null when absent. */
  public @Nullable String kind() {
    return kind;
  }

  public String name() {
    return name;
  }

  /** Epoch microseconds; zero when the line had none. */
  public long timestampMicros() {
    return timestampMicros;
  }

  public long durationMicros() {
    return durationMicros;
  }

  public long endMicros() {
    return timestampMicros + durationMicros;
  }

  /** {@code localEndpoint.serviceName}, or {@code "unknown"}. */
  public String serviceName() {
    return serviceName;
  }

  public @Nullable String remoteIp() {
    return remoteIp;
  }

  /** Zero when unknown. */
  public int remotePort() {
    return remotePort;
  }

  /** All tags, in line order. */
  public Map<String, String> tags() {
    return tags;
  }

  public @Nullable String tag(String key) {
    return tags.get(key);
  }

  /** The span line as read (stripped): a Zipkin v2 span, ready to send on unchanged. */
  public String line() {
    return line;
  }

  /** True when the span carries an {@code error} tag or a 5xx status. */
  public boolean isError() {
    if (tags.containsKey("error")) return true;
    String status = tags.get("http.status_code");
    return status != null && status.length() == 3 && status.charAt(0) == '5';
  }

  /** True when this hop's link to its parent was chosen by the correlator, not known. */
  public boolean isInferred() {
    return "inferred".equals(tags.get("hoptrace.link"));
  }

  /** Identity of the span within a trace; CLIENT and SERVER halves of a hop have distinct ids. */
  String key() {
    return traceId + '/' + id + '/' + kind + '/' + serviceName;
  }

  @Override
  public String toString() {
    return serviceName + " " + kind + " " + name + " " + id;
  }

  private static final class Builder {
    @Nullable String traceId;
    @Nullable String id;
    @Nullable String parentId;
    @Nullable String kind;
    String name = "";
    long timestampMicros;
    long durationMicros;
    String serviceName = "unknown";
    @Nullable String remoteIp;
    int remotePort;
    final Map<String, String> tags = new LinkedHashMap<>();
    boolean invalid;
  }
}
