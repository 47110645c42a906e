package io.hoptrace.traces;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The JSON shapes of {@code hoptrace traces --json} and of the page's API: one summary per trace
 * for lists, and one trace with its spans in waterfall order (each with depth and offset) for the
 * detail view. Times are epoch microseconds (as in the span log) plus an ISO text for people.
 */
public final class TraceJson {
  private static final JsonFactory JSON = new JsonFactory();

  private TraceJson() {}

  /** {@code {"traces":[summary...],"total":N,"spans":N,"malformedLines":N}}. */
  public static String list(List<Trace> shown, int total, long spans, long malformedLines) {
    return write(
        g -> {
          g.writeStartObject();
          g.writeArrayFieldStart("traces");
          for (Trace t : shown) writeSummary(g, t);
          g.writeEndArray();
          g.writeNumberField("total", total);
          g.writeNumberField("spans", spans);
          g.writeNumberField("malformedLines", malformedLines);
          g.writeEndObject();
        });
  }

  /** One trace summary object, e.g. for one line of {@code --follow --json}. */
  public static String summary(Trace t) {
    return write(g -> writeSummary(g, t));
  }

  /** One trace: its summary fields plus {@code spans}, in waterfall order. */
  public static String trace(Trace t) {
    return write(
        g -> {
          g.writeStartObject();
          writeSummaryFields(g, t);
          g.writeArrayFieldStart("spans");
          for (Trace.Row row : t.rows()) {
            g.writeStartObject();
            g.writeNumberField("depth", row.depth());
            SpanRecord s = row.node().span();
            if (s == null) {
              g.writeStringField("missingParent", row.node().missingParentId());
              g.writeNumberField("offsetMicros", row.node().startMicros() - t.startMicros());
            } else {
              writeSpanFields(g, s, t.startMicros());
            }
            g.writeEndObject();
          }
          g.writeEndArray();
          g.writeEndObject();
        });
  }

  private static void writeSummary(JsonGenerator g, Trace t) throws IOException {
    g.writeStartObject();
    writeSummaryFields(g, t);
    g.writeEndObject();
  }

  private static void writeSummaryFields(JsonGenerator g, Trace t) throws IOException {
    g.writeStringField("traceId", t.traceId());
    g.writeStringField("rootService", t.rootService());
    g.writeStringField("rootName", t.rootName());
    g.writeNumberField("startMicros", t.startMicros());
    g.writeStringField("start", iso(t.startMicros()));
    g.writeNumberField("durationMicros", t.durationMicros());
    g.writeNumberField("spanCount", t.spanCount());
    g.writeNumberField("errorCount", t.errorCount());
    g.writeNumberField("inferredCount", t.inferredCount());
    g.writeNumberField("missingParentCount", t.missingParentCount());
    g.writeArrayFieldStart("services");
    for (String s : t.services()) g.writeString(s);
    g.writeEndArray();
    g.writeArrayFieldStart("requestIds");
    for (String s : t.requestIds()) g.writeString(s);
    g.writeEndArray();
  }

  private static void writeSpanFields(JsonGenerator g, SpanRecord s, long traceStart)
      throws IOException {
    g.writeStringField("id", s.id());
    writeNullable(g, "parentId", s.parentId());
    writeNullable(g, "kind", s.kind());
    g.writeStringField("name", s.name());
    g.writeStringField("service", s.serviceName());
    g.writeNumberField("timestamp", s.timestampMicros());
    g.writeNumberField("duration", s.durationMicros());
    g.writeNumberField("offsetMicros", s.timestampMicros() - traceStart);
    g.writeBooleanField("error", s.isError());
    if (s.remoteIp() != null) {
      g.writeStringField("remoteIp", s.remoteIp());
      g.writeNumberField("remotePort", s.remotePort());
    }
    g.writeObjectFieldStart("tags");
    for (Map.Entry<String, String> e : s.tags().entrySet()) {
      g.writeStringField(e.getKey(), e.getValue());
    }
    g.writeEndObject();
  }

  private static void writeNullable(JsonGenerator g, String field, @Nullable String value)
      throws IOException {
    if (value == null) {
      g.writeNullField(field);
    } else {
      g.writeStringField(field, value);
    }
  }

  /** ISO-8601 UTC with milliseconds, e.g. {@code 2026-11-25T10:00:00.000Z}. */
  public static String iso(long epochMicros) {
    Instant i = Instant.ofEpochSecond(epochMicros / 1_000_000, (epochMicros % 1_000_000) * 1_000);
    String s =
        java.time.format.DateTimeFormatter.ISO_INSTANT.format(
            i.truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
    // ISO_INSTANT drops ".000"; keep a fixed width so columns line up.
    return s.length() == 20 ? s.substring(0, 19) + ".000Z" : s;
  }

  private interface Body {
    void write(JsonGenerator g) throws IOException;
  }

  private static String write(Body body) {
    StringWriter w = new StringWriter();
    try (JsonGenerator g = JSON.createGenerator(w)) {
      body.write(g);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a StringWriter does not fail
    }
    return w.toString();
  }
}
