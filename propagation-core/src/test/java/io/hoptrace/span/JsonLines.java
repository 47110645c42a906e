package io.hoptrace.span;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Test helper: checks that bytes are exactly one line holding one JSON object in valid UTF-8, with
 * an independent strict parser (jackson-core), and returns the object as nested maps.
 */
final class JsonLines {
  static final JsonFactory JSON =
      JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  /** Throws AssertionError unless {@code line} is one valid JSON object and one '\n' at the end. */
  static Map<String, Object> parseOneLine(byte[] line) {
    if (line.length == 0 || line[line.length - 1] != '\n') {
      throw new AssertionError("line does not end in \\n");
    }
    for (int i = 0; i < line.length - 1; i++) {
      if (line[i] == '\n' || line[i] == '\r') throw new AssertionError("raw CR/LF at byte " + i);
    }
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(line))
              .toString();
    } catch (CharacterCodingException e) {
      throw new AssertionError("not valid UTF-8", e);
    }
    for (int i = 0; i < text.length() - 1; i++) {
      char c = text.charAt(i);
      if (c == '\u2028' || c == '\u2029' || c == '\u0085') {
        throw new AssertionError("raw line separator U+" + Integer.toHexString(c) + " at " + i);
      }
    }
    try (JsonParser p = JSON.createParser(line)) {
      if (p.nextToken() != JsonToken.START_OBJECT) throw new AssertionError("not an object");
      Map<String, Object> result = readObject(p);
      if (p.nextToken() != null) throw new AssertionError("trailing content");
      return result;
    } catch (IOException e) {
      throw new AssertionError("invalid JSON: " + e.getMessage() + "\n" + text, e);
    }
  }

  private static Map<String, Object> readObject(JsonParser p) throws IOException {
    Map<String, Object> map = new LinkedHashMap<>();
    for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
      String key = p.currentName();
      map.put(key, readValue(p, p.nextToken()));
    }
    return map;
  }

  private static Object readValue(JsonParser p, JsonToken t) throws IOException {
    return switch (t) {
      case START_OBJECT -> readObject(p);
      case START_ARRAY -> {
        List<Object> list = new ArrayList<>();
        for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
          list.add(readValue(p, e));
        }
        yield list;
      }
      case VALUE_STRING -> p.getText();
      case VALUE_NUMBER_INT -> p.getLongValue();
      default -> throw new AssertionError("unexpected token " + t);
    };
  }

  /** What a string should read back as: lone surrogates replaced by U+FFFD. */
  static String sanitized(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        b.append(c).append(s.charAt(++i));
      } else if (Character.isSurrogate(c)) {
        b.append('\uFFFD');
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  /** What {@code s} should read back as, after truncation at {@code max} chars and sanitizing. */
  static String expected(String s, int max) {
    if (s.length() <= max) return sanitized(s);
    int end = max;
    if (Character.isHighSurrogate(s.charAt(end - 1)) && Character.isLowSurrogate(s.charAt(end))) {
      end--;
    }
    return sanitized(s.substring(0, end)) + SpanLineEncoder.TRUNCATION_MARKER;
  }

  private JsonLines() {}
}
