package io.undertow.server.protocol.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.undertow.PatchedLoaders;
import io.undertow.util.StatusCodes;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * hoptrace's {@code HttpResponseConduit} against Undertow 2.4.4's original, by the bytes on the
 * wire: two plain Undertow servers ({@link HeadServer}), each in its own class loader over the same
 * jars — one with Undertow's jar alone (the original class), one with proxy/target/classes in front
 * (ours) — answer the same responses, and a raw socket client sends both the same requests and
 * reads everything each sends back until it closes. Responses: a corpus of odd ones (CR, LF and
 * CRLF inside values and reason phrases, Latin-1 and wider chars, among them chars whose low byte
 * is CR or LF, empty values, repeated names, many fields, names and values around 512 bytes or
 * longer than the buffer, a reason phrase longer than the buffer) and 400 random ones; no body, a
 * body in one buffer or in two. Server buffers of 64 bytes to 16 kB: the head split at every place
 * between the one-buffer path and the piece by piece path. Each buffer size: every response in
 * pipelined batches on keep-alive connections (the conduit reused, its buffer kept across requests)
 * and in lock-step ones (each response read before the next request: the buffer released), some by
 * HTTP/1.0. Our copy differs only where a socket takes nothing in the middle of a head in pieces,
 * which a loopback client reading all cannot bring about: hoptrace's
 * InboundProxyTest.largeResponseHead_toASlowReader_arrivesWhole covers that.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class HttpResponseConduitDifferentialTest {
  private static final int[] BUFFER_SIZES = {64, 80, 128, 200, 511, 1024, 4096, 16 * 1024 - 20};
  private static final String HOST = "Host: 127.0.0.1\r\n";

  static PatchedLoaders loaders;
  static URLClassLoader originalServers;
  static URLClassLoader ourServers;
  static final List<String[]> cases = new ArrayList<>();

  @BeforeAll
  static void load() throws Exception {
    loaders = PatchedLoaders.of(HttpResponseConduit.class);
    // HeadServer from the test classes, linked to each loader's Undertow (not in the parents)
    URL testClasses = HeadServer.class.getProtectionDomain().getCodeSource().getLocation();
    originalServers = new URLClassLoader(new URL[] {testClasses}, loaders.original());
    ourServers = new URLClassLoader(new URL[] {testClasses}, loaders.ours());
    corpus();
    random(new Random(0x5e22L), 400);
  }

  @AfterAll
  static void close() throws IOException {
    if (originalServers != null) originalServers.close();
    if (ourServers != null) ourServers.close();
    if (loaders != null) loaders.close();
  }

  @Test
  void patchedFor_isTheUndertowOnTheClassPath() {
    assertThat(HttpResponseConduit.PATCHED_FOR_UNDERTOW)
        .as(
            "undertow-core changed: compare proxy/src/main/java/io/undertow/server/protocol/http/"
                + "HttpResponseConduit.java with the new version's original, port every change,"
                + " then update PATCHED_FOR_UNDERTOW and the enforcer rule in proxy/pom.xml")
        .isEqualTo(io.undertow.Version.getVersionString());
  }

  @Test
  void everyResponse_pipelined_sameBytesOnTheWire() throws Exception {
    for (int bufferSize : BUFFER_SIZES) {
      Random random = new Random(bufferSize);
      List<Integer> order = new ArrayList<>();
      List<List<Integer>> alone = new ArrayList<>();
      for (int i = 0; i < cases.size(); i++) {
        if (closes(cases.get(i), bufferSize)) alone.add(new ArrayList<>(List.of(i)));
        else order.add(i);
      }
      Collections.shuffle(order, random);
      List<List<Integer>> scripts = batches(order, random);
      // one that closes the connection goes alone: the requests after it would be left unread,
      // and a close with unread bytes is a reset, which may drop what the client has not read
      scripts.addAll(alone);
      compare(bufferSize, scripts, true, random);
    }
  }

  @Test
  void everyResponse_lockStep_sameBytesOnTheWire() throws Exception {
    for (int bufferSize : BUFFER_SIZES) {
      Random random = new Random(-bufferSize);
      List<Integer> framed = new ArrayList<>();
      List<Integer> unframed = new ArrayList<>();
      for (int i = 0; i < cases.size(); i++) {
        (framed(cases.get(i)) ? framed : unframed).add(i);
      }
      Collections.shuffle(framed, random);
      List<List<Integer>> scripts = batches(framed, random);
      // a response the client cannot frame ends a connection (it is read to the close)
      for (int i = 0; i < unframed.size(); i++) {
        if (i < scripts.size()) scripts.get(i).add(unframed.get(i));
        else scripts.add(new ArrayList<>(List.of(unframed.get(i))));
      }
      compare(bufferSize, scripts, false, random);
    }
  }

  /** What 2.4.4's writeString does to CR, LF and wide chars, read from the original's own bytes. */
  @Test
  void valueThatFits_crLfAndLowBytes_asTheOriginalWritesThem() throws Exception {
    int index = indexOf("crlf-and-wide");
    try (AutoCloseable server = start(originalServers, 16 * 1024 - 20)) {
      String wire =
          new String(
              run(((IntSupplier) server).getAsInt(), List.of(index), true, new boolean[1]),
              StandardCharsets.ISO_8859_1);
      assertThat(wire)
          .startsWith("HTTP/1.1 299 a b c\r\n")
          .contains("\r\nX-Crlf: a b  c \r\n")
          .contains("\r\nX-Wide: \u00e9 \u0000\u00ac=\r\n"); // é, č, Ā, €, U+0A3D
    }
  }

  private static void compare(
      int bufferSize, List<List<Integer>> scripts, boolean pipelined, Random random)
      throws Exception {
    try (AutoCloseable original = start(originalServers, bufferSize);
        AutoCloseable ours = start(ourServers, bufferSize)) {
      long bytes = 0;
      int answered = 0; // connections with any byte (2.4.4 closes some without a word)
      for (List<Integer> script : scripts) {
        boolean[] http10 = new boolean[script.size()];
        for (int i = 0; i < http10.length; i++) http10[i] = random.nextInt(10) == 0;
        byte[] expected = run(((IntSupplier) original).getAsInt(), script, pipelined, http10);
        byte[] actual = run(((IntSupplier) ours).getAsInt(), script, pipelined, http10);
        if (expected.length > 0) answered++;
        if (!Arrays.equals(expected, actual)) {
          throw new AssertionError(
              "buffer "
                  + bufferSize
                  + (pipelined ? ", pipelined" : ", lock-step")
                  + ", responses "
                  + script
                  + ": "
                  + difference(expected, actual));
        }
        bytes += expected.length;
      }
      assertThat(answered).as("connections answered").isGreaterThan(scripts.size() / 2);
      assertThat(bytes).isGreaterThan(100_000L);
    }
  }

  private static AutoCloseable start(ClassLoader loader, int bufferSize) throws Exception {
    return (AutoCloseable)
        loader
            .loadClass(HeadServer.class.getName())
            .getMethod("start", int.class, List.class)
            .invoke(null, bufferSize, cases);
  }

  /**
   * Sends the requests for {@code script} on one connection (the last with {@code Connection:
   * close}) and returns every byte the server sent until it closed: all at once when {@code
   * pipelined}, else each after the response before has been read (up to its body's marker).
   */
  private static byte[] run(int port, List<Integer> script, boolean pipelined, boolean[] http10)
      throws IOException {
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      StringBuilder batch = new StringBuilder();
      for (int i = 0; i < script.size(); i++) {
        boolean last = i == script.size() - 1;
        String request =
            "GET /"
                + script.get(i)
                + (http10[i] ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n")
                + HOST
                + (last
                    ? (http10[i] ? "" : "Connection: close\r\n")
                    : (http10[i] ? "Connection: keep-alive\r\n" : ""))
                + "\r\n";
        if (pipelined) {
          batch.append(request);
          continue;
        }
        out.write(request.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        if (!last && !readThrough(in, received, marker(script.get(i)))) {
          return received.toByteArray(); // closed early (as the original does, or not)
        }
      }
      if (pipelined) {
        out.write(batch.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
      }
      in.transferTo(received);
    }
    return received.toByteArray();
  }

  /** Reads until what was received ends with {@code marker}; false at the end of the stream. */
  private static boolean readThrough(InputStream in, ByteArrayOutputStream received, byte[] marker)
      throws IOException {
    byte[] chunk = new byte[8192];
    for (; ; ) {
      int n = in.read(chunk);
      if (n < 0) return false;
      received.write(chunk, 0, n);
      byte[] all = received.toByteArray();
      if (all.length >= marker.length
          && Arrays.equals(all, all.length - marker.length, all.length, marker, 0, marker.length)) {
        return true;
      }
    }
  }

  private static String difference(byte[] expected, byte[] actual) {
    int at = Arrays.mismatch(expected, actual);
    return "original "
        + expected.length
        + " bytes, ours "
        + actual.length
        + ", first difference at "
        + at
        + ": original '"
        + excerpt(expected, at)
        + "', ours '"
        + excerpt(actual, at)
        + "'";
  }

  private static String excerpt(byte[] bytes, int at) {
    int from = Math.max(0, at - 40);
    int to = Math.min(bytes.length, at + 40);
    StringBuilder sb = new StringBuilder();
    for (int i = from; i < to; i++) {
      int b = bytes[i] & 0xff;
      if (i == at) sb.append('|');
      if (b >= 0x20 && b < 0x7f && b != '\\') sb.append((char) b);
      else sb.append(String.format("\\x%02x", b));
    }
    return sb.toString();
  }

  // --- the responses

  private static final String[] NAMES = {
    "Content-Type",
    "X-Request-Id",
    "traceresponse",
    "Set-Cookie",
    "Cache-Control",
    "ETag",
    "Vary",
    "Link",
    "x-lower",
    "X-A",
    "Server",
    "Proxy-Status",
    "Access-Control-Allow-Origin"
  };
  private static final int[] STATUSES = {
    200, 200, 200, 201, 204, 301, 304, 404, 418, 500, 503, 299
  };

  /** The marker that ends response {@code index}'s body; no value or reason phrase has a '$'. */
  private static byte[] marker(int index) {
    return ("#" + index + "$").getBytes(StandardCharsets.ISO_8859_1);
  }

  /** Whether the client can tell where the response ends: a body ending with its marker. */
  private static boolean framed(String[] c) {
    int status = Integer.parseInt(c[0]);
    return !c[2].equals("none") && status != 204 && status != 304;
  }

  /**
   * Whether 2.4.4 ends the connection instead of answering with buffers of {@code bufferSize}: the
   * status line (protocol, code, reason phrase) does not fit (an exception or an overflow).
   */
  private static boolean closes(String[] c, int bufferSize) {
    String reason = c[1] != null ? c[1] : StatusCodes.getReason(Integer.parseInt(c[0]));
    return "HTTP/1.1 200 ".length() + reason.length() + 2 > bufferSize;
  }

  private static int indexOf(String caseName) {
    for (int i = 0; i < cases.size(); i++) {
      for (int f = 4; f < cases.get(i).length; f += 2) {
        if (cases.get(i)[f].equals("X-Case") && cases.get(i)[f + 1].equals(caseName)) return i;
      }
    }
    throw new IllegalArgumentException(caseName);
  }

  private static void add(int status, @Nullable String reason, String mode, String... fields) {
    int index = cases.size();
    String body = mode.equals("none") ? "" : "body " + index + " " + "x".repeat(index % 50);
    String[] c = new String[4 + fields.length];
    c[0] = Integer.toString(status);
    c[1] = reason;
    c[2] = mode;
    c[3] = body.isEmpty() ? "" : body + new String(marker(index), StandardCharsets.ISO_8859_1);
    System.arraycopy(fields, 0, c, 4, fields.length);
    cases.add(c);
  }

  private static void corpus() {
    String k = "x".repeat(1000);
    add(
        200,
        null,
        "string",
        "X-Case",
        "plain",
        "Content-Type",
        "text/plain",
        "X-Request-Id",
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "traceresponse",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    add(204, null, "none");
    add(200, "OK", "none", "X-Case", "flush only");
    add(
        299,
        "a\rb\nc",
        "string",
        "X-Case",
        "crlf-and-wide",
        "X-Crlf",
        "a\rb\r\nc\n",
        "X-Wide",
        "\u00e9\u010d\u0100\u20ac\u0a3d");
    add(
        200,
        null,
        "buffers",
        "X-Case",
        "empty values",
        "X-Empty",
        "",
        "X-Empty",
        "",
        "X-After",
        "");
    add(
        200,
        null,
        "string",
        "X-Case",
        "surrogates",
        "X-Emoji",
        "a\ud83d\ude00b\ud800",
        "X-Nul",
        "\u0000\u0001\u001f\u007f\u00ff\u0aff");
    add(200, null, "string", "X-Case", "a 20 kB value", "X-Long", "v".repeat(20_000) + "\r\n");
    add(200, null, "string", "X-Case", "a long name", "X-" + "n".repeat(700), "short");
    add(
        200,
        null,
        "buffers",
        "X-Case",
        "values around 512 bytes",
        "X-511",
        "a".repeat(511),
        "X-512",
        "b".repeat(512),
        "X-513",
        "c\r".repeat(256),
        "X-1000",
        k);
    add(200, "R".repeat(600), "string", "X-Case", "a reason longer than the array");
    add(200, "r\u00e9\u010d\u4e2d", "string", "X-Case", "a wide reason");
    add(200, "", "string", "X-Case", "an empty reason");
    add(999, null, "string", "X-Case", "999, no reason known");
    add(404, "N".repeat(20_000), "string", "X-Case", "a reason longer than the buffer");
    List<String> many = new ArrayList<>(List.of("X-Case", "80 fields"));
    for (int i = 0; i < 80; i++) {
      many.add("X-Field-" + i);
      many.add("value " + i + (i % 7 == 0 ? "\r\n" : ""));
    }
    add(200, null, "string", many.toArray(String[]::new));
    List<String> repeated = new ArrayList<>(List.of("X-Case", "a name 30 times"));
    for (int i = 0; i < 30; i++) {
      repeated.add("Set-Cookie");
      repeated.add("c" + i + "=" + "z".repeat(i * 3) + "; Path=/");
    }
    add(200, null, "buffers", repeated.toArray(String[]::new));
    // heads of every length around 512 bytes and small buffers
    for (int pad = 440; pad < 540; pad += 7) {
      add(200, null, "string", "X-Case", "pad " + pad, "X-Pad", "p".repeat(pad));
    }
  }

  private static void random(Random random, int count) {
    for (int i = 0; i < count; i++) {
      int status = STATUSES[random.nextInt(STATUSES.length)];
      String reason =
          switch (random.nextInt(20)) {
            case 0 -> "";
            case 1, 2, 3, 4 -> text(random, 1 + random.nextInt(30));
            case 5 -> text(random, 30 + random.nextInt(400));
            default -> null;
          };
      String mode =
          status == 204 || status == 304
              ? "none"
              : List.of("none", "string", "string", "buffers").get(random.nextInt(4));
      int fields = random.nextInt(10) == 0 ? 20 + random.nextInt(40) : random.nextInt(12);
      List<String> f = new ArrayList<>(List.of("X-Case", "random " + i));
      for (int j = 0; j < fields; j++) {
        f.add(
            random.nextInt(3) == 0
                ? NAMES[random.nextInt(NAMES.length)]
                : "X-" + token(random, 1 + random.nextInt(random.nextInt(50) == 0 ? 600 : 24)));
        int length =
            switch (random.nextInt(100)) {
              case 0 -> 3000 + random.nextInt(17_000);
              case 1, 2, 3, 4, 5, 6, 7, 8, 9 -> 300 + random.nextInt(2700);
              case 10, 11, 12, 13, 14, 15, 16, 17, 18, 19 -> 0;
              default -> random.nextInt(random.nextBoolean() ? 40 : 300);
            };
        f.add(text(random, length));
      }
      add(status, reason, mode, f.toArray(String[]::new));
    }
  }

  private static String token(Random random, int length) {
    String chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'+^`|";
    StringBuilder sb = new StringBuilder(length);
    for (int i = 0; i < length; i++) sb.append(chars.charAt(random.nextInt(chars.length())));
    return sb.toString();
  }

  /** Text of {@code length} chars: mostly visible ASCII, with CR, LF, tabs, Latin-1, wider. */
  private static String text(Random random, int length) {
    StringBuilder sb = new StringBuilder(length);
    while (sb.length() < length) {
      int kind = random.nextInt(100);
      char c;
      if (kind < 70) c = (char) (0x20 + random.nextInt(0x5f));
      else if (kind < 75) c = random.nextBoolean() ? '\r' : '\n';
      else if (kind < 78) c = random.nextBoolean() ? '\t' : (char) random.nextInt(0x20);
      else if (kind < 88) c = (char) (0x80 + random.nextInt(0x80));
      else if (kind < 93)
        c = "\u010d\u010a\u0a0d\u0a0a\u0100\u20ac\u4e2d".charAt(random.nextInt(7));
      else c = (char) (0x100 + random.nextInt(0xd800 - 0x100));
      if ((c & 0xff) == '$') continue; // no marker but the body's
      sb.append(c);
    }
    return sb.toString();
  }

  private static List<List<Integer>> batches(List<Integer> order, Random random) {
    List<List<Integer>> batches = new ArrayList<>();
    for (int i = 0; i < order.size(); ) {
      int n = Math.min(order.size() - i, 1 + random.nextInt(8));
      batches.add(new ArrayList<>(order.subList(i, i + n)));
      i += n;
    }
    return batches;
  }
}
