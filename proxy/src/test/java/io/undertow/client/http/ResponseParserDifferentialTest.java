package io.undertow.client.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.undertow.PatchedLoaders;
import io.undertow.Version;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * hoptrace's {@code ResponseParser} against Undertow 2.4.4's original: each loaded in its own class
 * loader over the test class path's jars — one with Undertow's jar alone (the original class), one
 * with proxy/target/classes in front (ours) — and driven by reflection as {@code
 * HttpClientConnection} drives it, one buffer at a time. Every response of the corpus (and of a
 * seeded random set of mutations of it) is parsed whole, split in two at every byte, and one byte
 * per buffer; after every buffer the parser's state (step, pending byte, buffered text, field name,
 * buffer position) and at the end the response (status, reason, protocol, fields in order, and
 * whether each name is Undertow's cached constant) or the exception (class and message) must be the
 * same for both.
 */
class ResponseParserDifferentialTest {
  static PatchedLoaders loaders;
  static Parser original;
  static Parser ours;

  /** One loader's parser, builder and state, by reflection. */
  record Parser(
      Object instance,
      Method handle,
      Constructor<?> newBuilder,
      Method parseState,
      Method statusCode,
      Method reasonPhrase,
      Method protocol,
      Method responseHeaders,
      Field state,
      Field previousByte,
      Field parsedData,
      Field headerName,
      Method fromCache) {
    static Parser of(ClassLoader loader) throws Exception {
      Class<?> parser = loader.loadClass("io.undertow.client.http.ResponseParser");
      Class<?> builder = loader.loadClass("io.undertow.client.http.HttpResponseBuilder");
      Class<?> state = loader.loadClass("io.undertow.client.http.ResponseState");
      Field instance = parser.getDeclaredField("INSTANCE");
      instance.setAccessible(true);
      Method handle = parser.getDeclaredMethod("handle", ByteBuffer.class, state, builder);
      Constructor<?> newBuilder = builder.getDeclaredConstructor();
      Parser p =
          new Parser(
              instance.get(null),
              handle,
              newBuilder,
              builder.getDeclaredMethod("getParseState"),
              builder.getDeclaredMethod("getStatusCode"),
              builder.getDeclaredMethod("getReasonPhrase"),
              builder.getDeclaredMethod("getProtocol"),
              builder.getDeclaredMethod("getResponseHeaders"),
              state.getDeclaredField("state"),
              state.getDeclaredField("previousByte"),
              state.getDeclaredField("parsedData"),
              state.getDeclaredField("headerName"),
              loader.loadClass("io.undertow.util.Headers").getMethod("fromCache", String.class));
      for (var m :
          List.of(handle, newBuilder, p.parseState, p.statusCode, p.reasonPhrase, p.protocol)) {
        m.setAccessible(true);
      }
      p.responseHeaders.setAccessible(true);
      for (Field f : List.of(p.state, p.previousByte, p.parsedData, p.headerName)) {
        f.setAccessible(true);
      }
      return p;
    }

    /** Parses {@code bytes} given in buffers ending at {@code ends}; what happened, as text. */
    String parse(byte[] bytes, int[] ends) throws Exception {
      return parse(bytes, ends, false);
    }

    /**
     * As {@link #parse(byte[], int[])}; {@code direct}: each buffer a window (position and limit)
     * of one direct buffer holding all the bytes, as the client's pooled buffers are direct.
     */
    String parse(byte[] bytes, int[] ends, boolean direct) throws Exception {
      StringBuilder out = new StringBuilder();
      Object builder = newBuilder.newInstance();
      Object st = parseState.invoke(builder);
      ByteBuffer all = null;
      if (direct) {
        all = ByteBuffer.allocateDirect(bytes.length);
        all.put(bytes).clear();
      }
      int start = 0;
      for (int end : ends) {
        ByteBuffer buffer =
            all == null
                ? ByteBuffer.wrap(bytes, start, end - start)
                : all.clear().limit(end).position(start);
        try {
          handle.invoke(instance, buffer, st, builder);
        } catch (InvocationTargetException e) {
          Throwable t = e.getCause();
          return out.append(t.getClass().getName()).append(": ").append(t.getMessage()).toString();
        }
        Object name = headerName.get(st);
        out.append(state.get(st))
            .append('/')
            .append(previousByte.get(st))
            .append('/')
            .append(parsedData.get(st))
            .append('/')
            .append(name)
            .append('/')
            .append(buffer.position())
            .append('\n');
        start = end;
      }
      out.append(statusCode.invoke(builder))
          .append(' ')
          .append(reasonPhrase.invoke(builder))
          .append(' ')
          .append(protocol.invoke(builder))
          .append('\n');
      for (Object values : (Iterable<?>) responseHeaders.invoke(builder)) {
        Object name = values.getClass().getMethod("getHeaderName").invoke(values);
        boolean cached = fromCache.invoke(null, name.toString()) == name;
        out.append(name).append(cached ? " (cached)" : "").append(": ");
        for (Object value : (Iterable<?>) values) out.append('[').append(value).append(']');
        out.append('\n');
      }
      return out.toString();
    }
  }

  @BeforeAll
  static void loadBoth() throws Exception {
    loaders = PatchedLoaders.of(ResponseParser.class);
    original = Parser.of(loaders.original());
    ours = Parser.of(loaders.ours());
  }

  @AfterAll
  static void closeBoth() throws Exception {
    loaders.close();
  }

  static final String NGINX =
      "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Thu, 26 Nov 2026 11:00:00 GMT\r\n"
          + "Content-Type: text/html\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello";

  static List<String> corpus() {
    List<String> c = new ArrayList<>();
    c.add(NGINX);
    for (String version :
        new String[] {
          "HTTP/1.1",
          "HTTP/1.0",
          "HTTP/0.9",
          "HTTP/2.0",
          "HTTP/3.0",
          "HTTP/1.9",
          "HTTP/1.x",
          "HTTP/11",
          "HTTP/1.11",
          "http/1.1",
          "HTTX/1.1",
          "",
          "HTTP/1.1\t"
        }) {
      c.add(version + " 200 OK\r\nA: b\r\n\r\n");
    }
    for (String status :
        new String[] {
          "200", "204", "304", "101", "404", "999", "000", "099", "20", "2000", "2a0", " 200",
          "20 0"
        }) {
      c.add("HTTP/1.1 " + status + " Whatever\r\nContent-Length: 0\r\n\r\n");
    }
    for (String reason :
        new String[] {
          "OK",
          "",
          " ",
          "  OK",
          "OK ",
          " OK ",
          "O K",
          "Ok",
          "OKAY",
          "Not Found",
          "OK\tx",
          "\u00e9t\u00e9",
          "OK\u0001",
          "OK\r",
          "OK\n",
          "\tOK\t"
        }) {
      c.add("HTTP/1.1 200 " + reason + "\r\nContent-Length: 0\r\n\r\n");
    }
    c.add("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n");
    c.add("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n");
    for (String name :
        new String[] {
          "Content-Length",
          "content-length",
          "CONTENT-LENGTH",
          "Content-length",
          "Connection",
          "Transfer-Encoding",
          "Server",
          "Date",
          "Content-Type",
          "ETag",
          "Etag",
          "Set-Cookie",
          "Keep-Alive",
          "Trailer",
          "X-Custom",
          "x",
          "Content-Length2",
          "Content_Length",
          "Cont\u00e9nt",
          "Content Length",
          "Content-Length ",
          " Content-Length",
          "",
          "A/B",
          "Aa",
          "BB",
          "X-Forwarded-Proto",
          "Strict-Transport-Security",
          "Age",
          "Via",
          "WWW-Authenticate"
        }) {
      c.add("HTTP/1.1 200 OK\r\n" + name + ": 1\r\nContent-Length: 0\r\n\r\n");
    }
    for (String value :
        new String[] {
          "",
          " ",
          "x",
          " x",
          "x ",
          " x ",
          "\tx\t",
          "a  b",
          "a \t b",
          "a\tb",
          "\u00ff\u0080",
          "a\u0001b",
          "a\r\n b",
          "a\r\n\tb",
          "a \r\n  b  ",
          "a\r\n \r\n b",
          "a\rb",
          "a\nb",
          "\r\n x",
          "keep-alive, Upgrade",
          "a b c",
          "a  ",
          "a\t",
          "a \tb",
          "a\u007fb",
          "\u0080",
          "Thu, 26 Nov 2026 11:00:00 GMT"
        }) {
      c.add("HTTP/1.1 200 OK\r\nX-V: " + value + "\r\nContent-Length: 0\r\n\r\n");
      c.add("HTTP/1.1 200 OK\r\nX-V:" + value + "\r\n\r\n");
    }
    c.add("HTTP/1.1 200 OK\r\nA: 1\r\nA: 2\r\nB: 3\r\na: 4\r\n\r\n");
    c.add("HTTP/1.1 200 OK\r\nA: 1\r\n"); // the head not ended
    c.add("HTTP/1.1 200 OK\r\nA: 1\r\n\r"); // nor here
    c.add("HTTP/1.1 200 OK\r\n\r\n"); // no fields
    c.add("HTTP/1.1 200 OK\r\n\n");
    c.add("HTTP/1.1 200 OK\r\nA\r\n\r\n");
    c.add("HTTP/1.1 200 OK\r\n:\r\n\r\n");
    c.add("HTTP/1.1 200 OK\r\nA: 1\r\n\r\nHTTP/1.1 200 OK\r\n\r\n");
    return c;
  }

  @Test
  void everyResponse_parsesAsTheOriginalParsesIt_inOneTwoAndOneByteBuffers() throws Exception {
    List<String> corpus = corpus();
    int compared = compareAll(corpus);
    assertThat(compared).isGreaterThan(1000);
  }

  @Test
  void randomMutations_parseAsTheOriginalParsesThem() throws Exception {
    Random random = new Random(19);
    byte[] alphabet =
        " \t\r\n:/.0123456789HTPOKAaZz-_\u0001\u007f".getBytes(StandardCharsets.ISO_8859_1);
    List<String> corpus = corpus();
    List<String> mutated = new ArrayList<>();
    for (int i = 0; i < 1500; i++) {
      StringBuilder s = new StringBuilder(corpus.get(random.nextInt(corpus.size())));
      int edits = 1 + random.nextInt(4);
      for (int e = 0; e < edits && s.length() > 0; e++) {
        int at = random.nextInt(s.length());
        char c =
            random.nextInt(8) == 0
                ? (char) (0x80 + random.nextInt(128))
                : (char) (alphabet[random.nextInt(alphabet.length)] & 0xff);
        switch (random.nextInt(3)) {
          case 0 -> s.setCharAt(at, c);
          case 1 -> s.insert(at, c);
          default -> s.deleteCharAt(at);
        }
      }
      mutated.add(s.toString());
    }
    compareAll(mutated);
  }

  /** Compares both parsers on every response, whole, in two at every byte, and byte by byte. */
  private static int compareAll(List<String> responses) throws Exception {
    int compared = 0;
    for (String response : responses) {
      byte[] bytes = response.getBytes(StandardCharsets.ISO_8859_1);
      List<int[]> splits = new ArrayList<>();
      splits.add(new int[] {bytes.length});
      for (int at = 1; at < bytes.length; at++) splits.add(new int[] {at, bytes.length});
      int[] each = new int[bytes.length];
      for (int i = 0; i < bytes.length; i++) each[i] = i + 1;
      splits.add(each);
      for (int[] ends : splits) {
        String expected = original.parse(bytes, ends);
        String actual = ours.parse(bytes, ends);
        assertThat(actual)
            .as("%s split at %s", escape(response), java.util.Arrays.toString(ends))
            .isEqualTo(expected);
        assertThat(ours.parse(bytes, ends, true))
            .as("%s split at %s, direct", escape(response), java.util.Arrays.toString(ends))
            .isEqualTo(expected);
        compared++;
      }
    }
    return compared;
  }

  private static String escape(String s) {
    return s.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t");
  }

  /** The name lookup finds exactly what {@code Headers.fromCache} finds, the same instances. */
  @Test
  void cachedName_findsWhatHeadersFromCacheFinds_theSameInstances() throws Exception {
    Field mapField = Headers.class.getDeclaredField("HTTP_STRING_MAP");
    mapField.setAccessible(true);
    @SuppressWarnings("unchecked")
    Map<String, HttpString> map = (Map<String, HttpString>) mapField.get(null);
    assertThat(map).hasSizeGreaterThan(100);
    int found = 0;
    for (Map.Entry<String, HttpString> e : map.entrySet()) {
      String name = e.getKey();
      assertThat(ResponseParser.cachedName(buffered(name))).isSameAs(e.getValue());
      found++;
      for (String other :
          new String[] {
            name.toLowerCase(Locale.ROOT),
            name.toUpperCase(Locale.ROOT),
            name + "x",
            name.substring(1),
            name.substring(0, name.length() - 1)
          }) {
        assertThat(ResponseParser.cachedName(buffered(other)))
            .as(other)
            .isSameAs(Headers.fromCache(other));
      }
    }
    assertThat(found).isEqualTo(map.size());
    assertThat(ResponseParser.cachedName(buffered("X-Not-A-Header"))).isNull();
    assertThat(ResponseParser.cachedName(buffered(""))).isNull();
  }

  /** {@code s} in a StringBuilder, as the parser buffers a name (char by char). */
  private static StringBuilder buffered(String s) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length(); i++) b.append(s.charAt(i));
    return b;
  }

  @Test
  void loadedClass_isHoptracesCopy_forTheUndertowPatched() {
    URL ours = ResponseParser.class.getProtectionDomain().getCodeSource().getLocation();
    URL hoptrace = io.hoptrace.proxy.Main.class.getProtectionDomain().getCodeSource().getLocation();
    assertThat(ours).isEqualTo(hoptrace);
    assertThat(Version.getVersionString())
        .as(
            "io.undertow.client.http.ResponseParser in proxy/src/main/java is hoptrace's patched"
                + " copy of Undertow %s's class and replaces the original: compare it with the"
                + " new version's, port every change, then update PATCHED_FOR_UNDERTOW and the"
                + " enforcer rule in proxy/pom.xml.",
            ResponseParser.PATCHED_FOR_UNDERTOW)
        .isEqualTo(ResponseParser.PATCHED_FOR_UNDERTOW);
  }
}
