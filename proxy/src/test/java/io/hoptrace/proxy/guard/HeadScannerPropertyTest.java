package io.hoptrace.proxy.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The head scanner on its own, with random input: it never throws, and its verdict (where it
 * refuses, and why) does not depend on how the bytes are split into reads; well-formed pipelined
 * requests are never refused. Bounded: a few hundred tries of a few KiB.
 */
@SuppressWarnings("StringConcatToTextBlock") // raw CRLF requests read better as lines
class HeadScannerPropertyTest {
  static final String[] GOOD = {
    "GET /a?b=c HTTP/1.1\r\nHost: app\r\nX-Request-Id: r1\r\n\r\n",
    "POST /u HTTP/1.1\r\nHost: app:8080\r\nContent-Length: 4\r\n\r\nabcd",
    "POST /u HTTP/1.1\r\nhost: [::1]:80\r\nTransfer-Encoding:  Chunked \r\n\r\n"
        + "4;e=1\r\nab\r\n\r\n0\r\nT: x\r\n\r\n",
    "GET / HTTP/1.0\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost: a.b-c_d~\r\nAccept: */*\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a%41b:8080 \r\n\r\n",
    "GET http://x/y HTTP/1.1\r\nHost: x\r\ncontent-length: 0\r\n\r\n",
  };

  record Verdict(long index, RefusalReason reason) {}

  /** Scans {@code bytes} in reads cut at {@code cuts}: where (absolute) it refused, and why. */
  static Verdict scan(byte[] bytes, List<Integer> cuts) {
    return scan(new HeadScanner(8192, 32768, 100), bytes, cuts);
  }

  static Verdict scan(HeadScanner scanner, byte[] bytes, List<Integer> cuts) {
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    int from = 0;
    for (int k = 0; k <= cuts.size(); k++) {
      int to = k < cuts.size() ? Math.min(bytes.length, Math.max(from, cuts.get(k))) : bytes.length;
      int bad = scanner.scan(buffer, from, to);
      if (bad >= 0) return new Verdict(bad, scanner.reason());
      from = to;
    }
    return new Verdict(-1, null);
  }

  @Property(tries = 300)
  void randomBytes_neverThrow_sameVerdictHoweverSplit(
      @ForAll("inputs") byte[] bytes, @ForAll("cuts") List<Integer> cuts) {
    Verdict whole = scan(bytes, List.of());
    List<Integer> sorted = cuts.stream().map(c -> c % (bytes.length + 1)).sorted().toList();
    assertThat(scan(bytes, sorted)).isEqualTo(whole);
  }

  /** Small limits, so that the size checks (and their fast paths) are cut at every offset. */
  @Property(tries = 300)
  void smallLimits_sameVerdictHoweverSplit_limitsHold(
      @ForAll("pipelines") byte[] bytes,
      @ForAll("cuts") List<Integer> cuts,
      @ForAll @net.jqwik.api.constraints.IntRange(min = 8, max = 80) int maxLine,
      @ForAll @net.jqwik.api.constraints.IntRange(min = 8, max = 200) int maxHeaderBytes,
      @ForAll @net.jqwik.api.constraints.IntRange(min = 1, max = 4) int maxHeaders) {
    List<Integer> sorted = cuts.stream().map(c -> c % (bytes.length + 1)).sorted().toList();
    Verdict whole = scan(new HeadScanner(maxLine, maxHeaderBytes, maxHeaders), bytes, List.of());
    Verdict split = scan(new HeadScanner(maxLine, maxHeaderBytes, maxHeaders), bytes, sorted);
    assertThat(split).isEqualTo(whole);
    // The first head's sizes, measured here independently: over a limit means refused for it.
    String text = new String(bytes, StandardCharsets.ISO_8859_1);
    int lineEnd = text.indexOf("\r\n");
    int headEnd = text.indexOf("\r\n\r\n");
    String[] lines = text.substring(lineEnd + 2, headEnd + 2).split("\r\n", -1);
    int headerLines = lines.length - 1;
    int headerBytes = headEnd + 2 - (lineEnd + 2);
    boolean over = lineEnd > maxLine || headerLines > maxHeaders || headerBytes > maxHeaderBytes;
    if (over) {
      assertThat(whole.index()).isBetween(0L, (long) headEnd + 3);
      assertThat(whole.reason())
          .isIn(
              RefusalReason.REQUEST_LINE_TOO_LONG,
              RefusalReason.HEADERS_TOO_LARGE,
              RefusalReason.TOO_MANY_HEADERS);
    } else {
      assertThat(whole.index())
          .satisfiesAnyOf(
              i -> assertThat(i).isEqualTo(-1), i -> assertThat(i).isGreaterThan(headEnd + 3));
    }
  }

  @Property(tries = 200)
  void wellFormedPipelinedRequests_neverRefused(
      @ForAll("pipelines") byte[] bytes, @ForAll("cuts") List<Integer> cuts) {
    List<Integer> sorted = cuts.stream().map(c -> c % (bytes.length + 1)).sorted().toList();
    assertThat(scan(bytes, sorted).index()).isEqualTo(-1);
  }

  @Provide
  Arbitrary<List<Integer>> cuts() {
    return Arbitraries.integers().between(0, 1 << 20).list().ofMaxSize(12);
  }

  @Provide
  Arbitrary<byte[]> pipelines() {
    Arbitrary<String> value =
        Arbitraries.strings().withCharRange(' ', '~').withChars('\t', 'é').ofMaxLength(40);
    Arbitrary<String> name =
        Arbitraries.strings().withChars("abcXYZ019-_!#$%&'*+.^`|~").ofMinLength(1).ofMaxLength(12);
    Arbitrary<String> request =
        Combinators.combine(Arbitraries.of(GOOD), name, value)
            .as(
                (good, n, v) -> {
                  int line = good.indexOf("\r\n") + 2;
                  // an extra header after the request line; never one of the framing ones
                  return good.substring(0, line)
                      + "X-"
                      + n
                      + ": "
                      + v.strip()
                      + "\r\n"
                      + good.substring(line);
                });
    return request.list().ofMinSize(1).ofMaxSize(6).map(l -> bytes(String.join("", l)));
  }

  /** Good requests, mutated: bytes flipped, inserted or cut, plus plain noise. */
  @Provide
  Arbitrary<byte[]> inputs() {
    Arbitrary<byte[]> noise = Arbitraries.bytes().array(byte[].class).ofMaxSize(600);
    Arbitrary<byte[]> mutated =
        Combinators.combine(
                Arbitraries.of(GOOD).list().ofMinSize(1).ofMaxSize(4),
                Arbitraries.integers().between(0, 4000).list().ofMaxSize(4),
                Arbitraries.bytes().list().ofMinSize(4).ofMaxSize(4))
            .as(
                (parts, positions, values) -> {
                  byte[] b = bytes(String.join("", parts));
                  for (int i = 0; i < positions.size(); i++) {
                    b[positions.get(i) % b.length] = values.get(i);
                  }
                  return b;
                });
    return Arbitraries.oneOf(noise, mutated, mutated);
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }
}
