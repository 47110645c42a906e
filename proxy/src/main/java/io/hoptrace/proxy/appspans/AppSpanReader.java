package io.hoptrace.proxy.appspans;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import io.hoptrace.context.HexCodec;
import io.hoptrace.span.Kind;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Reads a Zipkin v2 JSON array of spans from a stream, one token at a time, and validates every
 * field hoptrace writes. Stops at the first problem with a reason naming the field ({@code
 * spans[3].id: "xyz" (expected: 16 lowercase hex)}). Bounded: at most {@code maxBytes} are read and
 * at most {@code maxSpans} spans kept.
 *
 * <p>What is kept: {@code traceId}, {@code id}, {@code parentId}, {@code kind} (absent = a local
 * span), {@code name}, {@code timestamp}, {@code duration}, {@code localEndpoint.serviceName},
 * {@code remoteEndpoint} ({@code ipv4} or else {@code ipv6}, {@code port}) and {@code tags}. Other
 * keys ({@code annotations}, {@code debug}, {@code shared}, endpoint service names of the remote
 * side, anything unknown) are skipped, as Zipkin skips what it does not know.
 */
final class AppSpanReader {
  /** Epoch microseconds of 2000-01-01 and 2100-01-01: outside, the unit is surely wrong. */
  static final long MIN_TIMESTAMP = 946_684_800_000_000L;

  static final long MAX_TIMESTAMP = 4_102_444_800_000_000L;

  /** Tags starting with this are hoptrace's attribution; an app may not write them. */
  static final String RESERVED_TAG_PREFIX = "hoptrace.";

  static final int MAX_SHOWN_CHARS = 64;

  private static final JsonFactory JSON =
      JsonFactory.builder()
          .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(32).build())
          .build();

  private final int maxSpans;
  private final long maxBytes;

  AppSpanReader(int maxSpans, long maxBytes) {
    this.maxSpans = maxSpans;
    this.maxBytes = maxBytes;
  }

  /** The body's spans, in order; throws a rejection for the first thing wrong with it. */
  List<AppSpan> read(InputStream body) throws AppSpanRejection, IOException {
    List<AppSpan> spans = new ArrayList<>();
    try (JsonParser p = JSON.createParser(new Bounded(body, maxBytes))) {
      JsonToken t = p.nextToken();
      if (t != JsonToken.START_ARRAY) {
        throw AppSpanRejection.badField(
            "body", t == null ? "empty" : shown(p, t), "a JSON array of Zipkin v2 spans");
      }
      while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
        if (spans.size() == maxSpans) {
          throw new AppSpanRejection(
              413,
              AppSpanRejection.TOO_LARGE,
              "spans: more than "
                  + maxSpans
                  + " (expected: at most admin.spans.max-spans-per-request = "
                  + maxSpans
                  + " per request)");
        }
        spans.add(span(p, t, "spans[" + spans.size() + "]"));
      }
      if (p.nextToken() != null) {
        throw new AppSpanRejection(
            400, AppSpanRejection.BAD_JSON, "body: content after the array (expected: one array)");
      }
    } catch (TooLarge e) {
      throw new AppSpanRejection(
          413,
          AppSpanRejection.TOO_LARGE,
          "body: more than " + maxBytes + " bytes (expected: at most admin.spans.max-body)");
    } catch (JsonProcessingException e) { // syntax, and limits such as the nesting depth
      if (e.getCause() instanceof TooLarge) {
        throw new AppSpanRejection(
            413,
            AppSpanRejection.TOO_LARGE,
            "body: more than " + maxBytes + " bytes (expected: at most admin.spans.max-body)");
      }
      String where =
          e.getLocation() == null
              ? ""
              : " at line "
                  + e.getLocation().getLineNr()
                  + ", column "
                  + e.getLocation().getColumnNr();
      throw new AppSpanRejection(
          400,
          AppSpanRejection.BAD_JSON,
          "body: invalid JSON" + where + ": " + e.getOriginalMessage());
    }
    return spans;
  }

  private static AppSpan span(JsonParser p, JsonToken start, String at)
      throws IOException, AppSpanRejection {
    if (start != JsonToken.START_OBJECT) {
      throw AppSpanRejection.badField(at, shown(p, start), "a span object");
    }
    String traceId = null;
    long id = 0;
    long parentId = 0;
    Kind kind = Kind.LOCAL;
    String name = "";
    long timestamp = -1;
    long duration = 0;
    String serviceName = null;
    Remote remote = Remote.NONE;
    List<String> tags = List.of();
    JsonToken t;
    while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken v = p.nextToken();
      String key = at + "." + field;
      switch (field) {
        case "traceId" -> {
          traceId = string(p, v, key, "16 or 32 lowercase hex, not all zeros");
          if ((traceId.length() != 16 && traceId.length() != 32)
              || !HexCodec.isLowerHex(traceId, 0, traceId.length())
              || isZeros(traceId)) {
            throw AppSpanRejection.badField(
                key, shown(p, v), "16 or 32 lowercase hex, not all zeros");
          }
        }
        case "id" -> id = spanId(p, v, key);
        case "parentId" -> parentId = spanId(p, v, key);
        case "kind" -> kind = kind(p, v, key);
        case "name" -> name = string(p, v, key, "a string");
        case "timestamp" -> {
          timestamp = longIn(p, v, key, MIN_TIMESTAMP, MAX_TIMESTAMP);
        }
        case "duration" -> duration = longIn(p, v, key, 0, MAX_TIMESTAMP - MIN_TIMESTAMP);
        case "localEndpoint" -> serviceName = localServiceName(p, v, key);
        case "remoteEndpoint" -> remote = remoteEndpoint(p, v, key);
        case "tags" -> tags = tags(p, v, key);
        default -> p.skipChildren(); // annotations, debug, shared, unknown keys
      }
    }
    if (t != JsonToken.END_OBJECT) throw AppSpanRejection.badField(at, "truncated", "an object");
    if (timestamp < 0) {
      throw AppSpanRejection.badField(
          at + ".timestamp", "missing", "epoch microseconds, e.g. 1700000000000000");
    }
    long high = 0;
    long low = 0;
    if (traceId != null) {
      if (id == 0) {
        throw AppSpanRejection.badField(at + ".id", "missing", "16 lowercase hex with a traceId");
      }
      if (traceId.length() == 32) high = HexCodec.parseLowerHex(traceId, 0, 16);
      low = HexCodec.parseLowerHex(traceId, traceId.length() - 16, traceId.length());
    } else if (parentId != 0) {
      throw AppSpanRejection.badField(
          at + ".parentId",
          HexCodec.toHex(parentId),
          "absent without a traceId: hoptrace links the span to its inbound request");
    }
    return new AppSpan(
        high,
        low,
        id,
        parentId,
        kind,
        name,
        timestamp,
        duration,
        serviceName,
        remote.ip,
        remote.port,
        tags);
  }

  private static long spanId(JsonParser p, JsonToken v, String key)
      throws IOException, AppSpanRejection {
    String expected = "16 lowercase hex, not all zeros";
    String s = string(p, v, key, expected);
    if (s.length() != 16 || !HexCodec.isLowerHex(s, 0, 16) || isZeros(s)) {
      throw AppSpanRejection.badField(key, shown(p, v), expected);
    }
    return HexCodec.parseLowerHex(s, 0, 16);
  }

  private static Kind kind(JsonParser p, JsonToken v, String key)
      throws IOException, AppSpanRejection {
    String expected = "CLIENT, SERVER, PRODUCER or CONSUMER; absent for a local span";
    return switch (string(p, v, key, expected)) {
      case "CLIENT" -> Kind.CLIENT;
      case "SERVER" -> Kind.SERVER;
      case "PRODUCER" -> Kind.PRODUCER;
      case "CONSUMER" -> Kind.CONSUMER;
      default -> throw AppSpanRejection.badField(key, shown(p, v), expected);
    };
  }

  private static @Nullable String localServiceName(JsonParser p, JsonToken v, String key)
      throws IOException, AppSpanRejection {
    if (v != JsonToken.START_OBJECT) {
      throw AppSpanRejection.badField(key, shown(p, v), "an object");
    }
    String serviceName = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken fv = p.nextToken();
      if (field.equals("serviceName")) {
        String s = string(p, fv, key + ".serviceName", "a string");
        serviceName = s.isEmpty() ? null : s;
      } else {
        p.skipChildren();
      }
    }
    return serviceName;
  }

  /** A remote endpoint: null and 0 when absent. */
  record Remote(@Nullable String ip, int port) {
    static final Remote NONE = new Remote(null, 0);
  }

  private static Remote remoteEndpoint(JsonParser p, JsonToken v, String key)
      throws IOException, AppSpanRejection {
    if (v != JsonToken.START_OBJECT) {
      throw AppSpanRejection.badField(key, shown(p, v), "an object");
    }
    String ipv4 = null;
    String ipv6 = null;
    int port = 0;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken fv = p.nextToken();
      String fieldKey = key + "." + field;
      switch (field) {
        case "ipv4" -> {
          ipv4 = string(p, fv, fieldKey, "an IPv4 address");
          if (!onlyChars(ipv4, "0123456789.") || ipv4.isEmpty() || ipv4.length() > 15) {
            throw AppSpanRejection.badField(fieldKey, shown(p, fv), "an IPv4 address");
          }
        }
        case "ipv6" -> {
          ipv6 = string(p, fv, fieldKey, "an IPv6 address");
          if (!onlyChars(ipv6, "0123456789abcdefABCDEF:.")
              || ipv6.indexOf(':') < 0
              || ipv6.length() > 45) {
            throw AppSpanRejection.badField(fieldKey, shown(p, fv), "an IPv6 address");
          }
        }
        case "port" -> port = (int) longIn(p, fv, fieldKey, 0, 65535);
        default -> p.skipChildren(); // serviceName of the remote side: no place in a span line
      }
    }
    return new Remote(ipv4 != null ? ipv4 : ipv6, port);
  }

  private static List<String> tags(JsonParser p, JsonToken v, String key)
      throws IOException, AppSpanRejection {
    if (v != JsonToken.START_OBJECT) {
      throw AppSpanRejection.badField(key, shown(p, v), "an object of string values");
    }
    List<String> tags = new ArrayList<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String tag = p.currentName();
      JsonToken tv = p.nextToken();
      String tagKey = key + "." + tag;
      if (tag.startsWith(RESERVED_TAG_PREFIX)) {
        throw AppSpanRejection.badField(
            tagKey, shown(p, tv), "no tag starting with hoptrace.: hoptrace writes those");
      }
      // Zipkin tag values are strings; numbers and booleans are taken as their text.
      if (tv != JsonToken.VALUE_STRING
          && tv != JsonToken.VALUE_NUMBER_INT
          && tv != JsonToken.VALUE_NUMBER_FLOAT
          && tv != JsonToken.VALUE_TRUE
          && tv != JsonToken.VALUE_FALSE) {
        throw AppSpanRejection.badField(tagKey, shown(p, tv), "a string");
      }
      tags.add(tag);
      tags.add(p.getText());
    }
    return tags;
  }

  private static String string(JsonParser p, JsonToken v, String key, String expected)
      throws IOException, AppSpanRejection {
    if (v != JsonToken.VALUE_STRING) throw AppSpanRejection.badField(key, shown(p, v), expected);
    return p.getText();
  }

  private static long longIn(JsonParser p, JsonToken v, String key, long min, long max)
      throws IOException, AppSpanRejection {
    String expected =
        min == MIN_TIMESTAMP
            ? "epoch microseconds, e.g. 1700000000000000"
            : "an integer in " + min + ".." + max;
    if (v != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
      throw AppSpanRejection.badField(key, shown(p, v), expected);
    }
    long value = p.getLongValue();
    if (value < min || value > max) throw AppSpanRejection.badField(key, shown(p, v), expected);
    return value;
  }

  private static boolean isZeros(String hex) {
    for (int i = 0; i < hex.length(); i++) {
      if (hex.charAt(i) != '0') return false;
    }
    return true;
  }

  private static boolean onlyChars(String s, String allowed) {
    for (int i = 0; i < s.length(); i++) {
      if (allowed.indexOf(s.charAt(i)) < 0) return false;
    }
    return true;
  }

  /** The offending value as the reason shows it: a string quoted and cut short, else its text. */
  static String shown(JsonParser p, JsonToken t) throws IOException {
    return switch (t) {
      case VALUE_STRING -> quoted(p.getText());
      case START_OBJECT -> "{...}";
      case START_ARRAY -> "[...]";
      default -> p.getText();
    };
  }

  static String quoted(String s) {
    StringBuilder b = new StringBuilder(Math.min(s.length(), MAX_SHOWN_CHARS) + 8).append('"');
    for (int i = 0; i < s.length(); i++) {
      if (i == MAX_SHOWN_CHARS) {
        b.append("\u2026");
        break;
      }
      char c = s.charAt(i);
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20 || c == 0x7f) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }

  /** Thrown by {@link Bounded} past the limit. */
  static final class TooLarge extends IOException {
    private static final long serialVersionUID = 1L;

    TooLarge() {
      super("body too large", null);
    }
  }

  /** Reads at most {@code limit} bytes; one more is a {@link TooLarge}. */
  static final class Bounded extends FilterInputStream {
    private long left;

    Bounded(InputStream in, long limit) {
      super(in);
      this.left = limit;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0 && --left < 0) throw new TooLarge();
      return b;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
      int n = super.read(buf, off, len);
      if (n > 0 && (left -= n) < 0) throw new TooLarge();
      return n;
    }
  }
}
