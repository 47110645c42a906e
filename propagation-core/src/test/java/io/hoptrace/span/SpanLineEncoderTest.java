package io.hoptrace.span;

import static io.hoptrace.span.JsonLines.expected;
import static io.hoptrace.span.JsonLines.parseOneLine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SpanLineEncoderTest {
  final SpanLineEncoder encoder = SpanLineEncoder.create();

  static Span.Builder span() {
    return Span.newBuilder()
        .traceId(0x0af7651916cd43ddL, 0x8448eb211c80319cL)
        .id(0xb7ad6b7169203331L)
        .parentId(0x00f067aa0ba902b7L)
        .kind(Kind.SERVER)
        .name("get /orders/42")
        .timestampMicros(1_700_000_000_000_000L)
        .durationMicros(1234)
        .serviceName("orders");
  }

  static byte[] line(SpanLineEncoder encoder, Span span) {
    LineBuffer out = new LineBuffer(16); // small on purpose: growth is exercised too
    encoder.encode(span, out);
    return out.toByteArray();
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> tags(Map<String, Object> json) {
    return (Map<String, Object>) json.get("tags");
  }

  @Test
  void encode_fullSpan_isTheGoldenLine() {
    Span s =
        span()
            .remoteEndpoint("10.0.0.7", 54321)
            .tag("http.method", "GET")
            .tag("http.path", "/orders/42")
            .tag("http.status_code", "200")
            .tag("hoptrace.context", "extracted")
            .build();

    assertThat(new String(line(encoder, s), StandardCharsets.UTF_8))
        .isEqualTo(
            "{\"traceId\":\"0af7651916cd43dd8448eb211c80319c\",\"id\":\"b7ad6b7169203331\","
                + "\"parentId\":\"00f067aa0ba902b7\",\"kind\":\"SERVER\",\"name\":\"get /orders/42\","
                + "\"timestamp\":1700000000000000,\"duration\":1234,"
                + "\"localEndpoint\":{\"serviceName\":\"orders\"},"
                + "\"remoteEndpoint\":{\"ipv4\":\"10.0.0.7\",\"port\":54321},"
                + "\"tags\":{\"http.method\":\"GET\",\"http.path\":\"/orders/42\","
                + "\"http.status_code\":\"200\",\"hoptrace.context\":\"extracted\"}}\n");
  }

  @Test
  void encode_producerAndConsumer_writeTheirKind() {
    assertThat(parseOneLine(line(encoder, span().kind(Kind.PRODUCER).build())))
        .containsEntry("kind", "PRODUCER");
    assertThat(parseOneLine(line(encoder, span().kind(Kind.CONSUMER).build())))
        .containsEntry("kind", "CONSUMER");
  }

  @Test
  void encode_localSpan_hasNoKindKey() {
    Map<String, Object> json = parseOneLine(line(encoder, span().kind(Kind.LOCAL).build()));

    assertThat(json).doesNotContainKey("kind").containsEntry("name", "get /orders/42");
  }

  @Test
  void encode_fullSpan_parsesAsZipkinV2Fields() {
    Span s = span().kind(Kind.CLIENT).remoteEndpoint("10.0.0.7", 80).tag("a", "b").build();

    Map<String, Object> json = parseOneLine(line(encoder, s));

    assertThat(json)
        .containsEntry("traceId", "0af7651916cd43dd8448eb211c80319c")
        .containsEntry("id", "b7ad6b7169203331")
        .containsEntry("parentId", "00f067aa0ba902b7")
        .containsEntry("kind", "CLIENT")
        .containsEntry("timestamp", 1_700_000_000_000_000L)
        .containsEntry("duration", 1234L)
        .containsEntry("localEndpoint", Map.of("serviceName", "orders"))
        .containsEntry("remoteEndpoint", Map.of("ipv4", "10.0.0.7", "port", 80L))
        .containsEntry("tags", Map.of("a", "b"));
  }

  @Test
  void encode_rootSpan_omitsParentId() {
    Span s = span().parentId(0).build();

    Map<String, Object> json = parseOneLine(line(encoder, s));

    assertThat(json).doesNotContainKey("parentId").containsKey("id");
  }

  @Test
  void encode_smallTraceIdHigh_stillWrites32Hex() {
    Span s = span().traceId(0, 1).build();

    assertThat(parseOneLine(line(encoder, s)))
        .containsEntry("traceId", "00000000000000000000000000000001");
  }

  @Test
  void encode_noTags_omitsTags() {
    assertThat(parseOneLine(line(encoder, span().build()))).doesNotContainKey("tags");
  }

  @Test
  void encode_unknownPeer_omitsRemoteEndpoint() {
    assertThat(parseOneLine(line(encoder, span().remoteEndpoint(null, 0).build())))
        .doesNotContainKey("remoteEndpoint");
  }

  @Test
  void encode_ipv6Peer_writesIpv6() {
    Span s = span().remoteEndpoint("2001:DB8::1", 443).build();

    assertThat(parseOneLine(line(encoder, s)))
        .containsEntry("remoteEndpoint", Map.of("ipv6", "2001:db8::1", "port", 443L));
  }

  @Test
  void encode_bracketedIpv6WithZone_writesBareIpv6() {
    Span s = span().remoteEndpoint("[fe80::1%eth0]", 8080).build();

    assertThat(parseOneLine(line(encoder, s)))
        .containsEntry("remoteEndpoint", Map.of("ipv6", "fe80::1", "port", 8080L));
  }

  @Test
  void encode_ipv4MappedIpv6Peer_writesIpv4() {
    Span s = span().remoteEndpoint("::ffff:192.168.1.2", 80).build();

    assertThat(parseOneLine(line(encoder, s)))
        .containsEntry("remoteEndpoint", Map.of("ipv4", "192.168.1.2", "port", 80L));
  }

  @Test
  void encode_ipWithoutPort_writesIpOnly() {
    Span s = span().remoteEndpoint("127.0.0.1", 0).build();

    assertThat(parseOneLine(line(encoder, s)))
        .containsEntry("remoteEndpoint", Map.of("ipv4", "127.0.0.1"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "localhost",
        "example.com",
        "256.1.1.1",
        "1.2.3",
        "1.2.3.4.5",
        "1..2.3",
        "1.2.3.4%eth0",
        ":",
        "[::1",
        "::1]",
        "12345::",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7",
        "1::2::3",
        ":::",
        "1:2:3:4:5:6:7:",
        "::g",
        "::1.2.3",
        "abc.def::",
        "\"},\n{\"x\":\"",
        ""
      })
  void encode_notAnIpLiteral_keepsPortOnly(String ip) {
    Span s = span().remoteEndpoint(ip, 9000).build();

    assertThat(parseOneLine(line(encoder, s)))
        .containsEntry("remoteEndpoint", Map.of("port", 9000L));
  }

  @Test
  void ipKind_classifiesLiterals() {
    assertThat(SpanLineEncoder.ipKind("0.0.0.0")).isEqualTo(4);
    assertThat(SpanLineEncoder.ipKind("255.255.255.255")).isEqualTo(4);
    assertThat(SpanLineEncoder.ipKind("::1")).isEqualTo(6);
    assertThat(SpanLineEncoder.ipKind("::")).isEqualTo(6);
    assertThat(SpanLineEncoder.ipKind("[2001:db8::1]")).isEqualTo(6);
    assertThat(SpanLineEncoder.ipKind("64:ff9b::1.2.3.4")).isEqualTo(6);
    assertThat(SpanLineEncoder.ipKind("::FFFF:1.2.3.4")).isEqualTo(4);
    assertThat(SpanLineEncoder.ipKind("1:2:3:4:5:6:7:8")).isEqualTo(6);
    assertThat(SpanLineEncoder.ipKind("1:2:3:4:5:6:7::")).isEqualTo(6);
    assertThat(SpanLineEncoder.ipKind("1::")).isEqualTo(6);
    assertThat(SpanLineEncoder.ipKind("::ffff:1.2.3.400")).isZero();
  }

  @Test
  void encode_portOutOfRange_isLeftOut() {
    Span s = span().remoteEndpoint("10.0.0.1", 70000).build();

    assertThat(parseOneLine(line(encoder, s)))
        .containsEntry("remoteEndpoint", Map.of("ipv4", "10.0.0.1"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "a\rb",
        "a\nb",
        "\r\n",
        "say \"hi\"",
        "back\\slash",
        "nul\u0000byte",
        "bell\u0007 esc\u001b del\u007f",
        "line\u2028separator",
        "para\u2029separator",
        "next\u0085line c1\u009f",
        "lone high \uD83D end",
        "lone low \uDE00 end",
        "reversed \uDE00\uD83D pair",
        "ends with high \uD83D",
        "\uDE00starts with low",
        "emoji \uD83D\uDE00 ok",
        "bom \uFEFF nonchar \uFFFF",
        "caf\u00e9 \u4e2d\u6587",
        "</script><script>",
        "tab\tform\fback\b",
        "\"},\"x\":{\""
      })
  void encode_nastyString_yieldsOneValidLineThatReadsBack(String nasty) {
    Span s = span().name(nasty).serviceName(nasty).tag(nasty, nasty).tag("k", nasty).build();

    Map<String, Object> json = parseOneLine(line(encoder, s));

    assertThat(json).containsEntry("name", expected(nasty, 1024));
    assertThat(json).containsEntry("localEndpoint", Map.of("serviceName", expected(nasty, 1024)));
    assertThat(tags(json))
        .containsEntry(expected(nasty, 1024), expected(nasty, 1024))
        .containsEntry("k", expected(nasty, 1024));
  }

  @Test
  void encode_controlChars_useShortEscapesWhereJsonHasThem() {
    Span s = span().name("\r\n\t\"\\\u0000\u2028").build();

    assertThat(encoder.encodeToString(s)).contains("\"name\":\"\\r\\n\\t\\\"\\\\\\u0000\\u2028\"");
  }

  @Test
  void encode_tenThousandCharValue_isTruncatedWithMarker() {
    String big = "x".repeat(10_000);
    Span s = span().tag("big", big).build();

    byte[] line = line(encoder, s);

    assertThat(tags(parseOneLine(line))).containsEntry("big", "x".repeat(1024) + "\u2026");
    assertThat(line.length).isLessThan(2000);
  }

  @Test
  void encode_tenThousandNastyChars_staysOneLineAndBounded() {
    String big = "\n\u2028\uD800\"".repeat(2_500);
    Span s = span().tag("big", big).name(big).build();

    byte[] line = line(encoder, s);

    assertThat(tags(parseOneLine(line))).containsEntry("big", expected(big, 1024));
    assertThat(line.length).isLessThan(2 * (1024 * 6 + 10) + 400);
  }

  @Test
  void encode_valueOfExactlyMax_isNotTruncated() {
    SpanLineEncoder small = SpanLineEncoder.create(4);
    Span s = span().tag("k", "abcd").tag("l", "abcde").build();

    assertThat(tags(parseOneLine(line(small, s))))
        .containsEntry("k", "abcd")
        .containsEntry("l", "abcd\u2026");
  }

  @Test
  void encode_truncationAtSurrogatePair_neverSplitsIt() {
    SpanLineEncoder small = SpanLineEncoder.create(4);
    Span s = span().tag("k", "abc\uD83D\uDE00").build(); // the pair straddles the cut

    assertThat(tags(parseOneLine(line(small, s)))).containsEntry("k", "abc\u2026");
  }

  @Test
  void encode_appendsToTheBuffer_oneLinePerSpan() {
    LineBuffer out = new LineBuffer();
    encoder.encode(span().name("one").build(), out);
    encoder.encode(span().name("two").build(), out);

    String[] lines = out.toString().split("\n", -1);
    assertThat(lines).hasSize(3);
    assertThat(lines[2]).isEmpty();
    assertThat(parseOneLine((lines[0] + "\n").getBytes(StandardCharsets.UTF_8)))
        .containsEntry("name", "one");
    assertThat(parseOneLine((lines[1] + "\n").getBytes(StandardCharsets.UTF_8)))
        .containsEntry("name", "two");

    out.reset();
    assertThat(out.length()).isZero();
  }

  @Test
  void encode_extremeNumbers_areValidJson() {
    Span s = span().timestampMicros(Long.MAX_VALUE).durationMicros(Long.MIN_VALUE).build();

    assertThat(parseOneLine(line(encoder, s)))
        .containsEntry("timestamp", Long.MAX_VALUE)
        .containsEntry("duration", Long.MIN_VALUE);
    Span z = span().timestampMicros(0).durationMicros(-7).build();
    assertThat(parseOneLine(line(encoder, z)))
        .containsEntry("timestamp", 0L)
        .containsEntry("duration", -7L);
  }

  @Test
  void encodeToString_hasNoTrailingNewline() {
    assertThat(encoder.encodeToString(span().build())).startsWith("{").endsWith("}");
  }

  @Test
  void create_badMax_throws() {
    assertThatThrownBy(() -> SpanLineEncoder.create(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxValueChars: 0 (expected: >= 1)");
  }

  @Property(tries = 300)
  void encode_arbitraryStrings_alwaysOneValidLineThatReadsBack(
      @ForAll("nastyStrings") String name,
      @ForAll("nastyStrings") String key,
      @ForAll("nastyStrings") String value,
      @ForAll("nastyStrings") String ip) {
    SpanLineEncoder small = SpanLineEncoder.create(64);
    Span s =
        span()
            .name(name)
            .serviceName(value)
            .remoteEndpoint(ip, 1)
            .tag(key, value)
            .tag("z", name)
            .build();

    Map<String, Object> json = parseOneLine(line(small, s));

    assertThat(json).containsEntry("name", expected(name, 64));
    assertThat(tags(json)).containsEntry("z", expected(name, 64));
    if (!key.equals("z"))
      assertThat(tags(json)).containsEntry(expected(key, 64), expected(value, 64));
  }

  @Provide
  Arbitrary<String> nastyStrings() {
    Arbitrary<Character> nasty =
        Arbitraries.of(
            '\n', '\r', '"', '\\', '\u0000', '\u001f', '\u007f', '\u0085', '\u2028', '\u2029',
            '\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uFFFD', '\uFEFF', '\uFFFF');
    Arbitrary<Character> any = Arbitraries.chars().range('\u0000', '\uffff');
    Arbitrary<Character> ascii = Arbitraries.chars().range(' ', '~');
    return Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(3, nasty),
            net.jqwik.api.Tuple.of(3, any),
            net.jqwik.api.Tuple.of(4, ascii))
        .list()
        .ofMaxSize(200)
        .map(
            cs -> {
              StringBuilder b = new StringBuilder(cs.size());
              for (char c : cs) b.append(c);
              return b.toString();
            });
  }

  @Property(tries = 200)
  void encodeBuilder_isTheLineOfTheBuiltSpan(
      @ForAll("nastyStrings") String name,
      @ForAll("nastyStrings") String value,
      @ForAll long parentId,
      @ForAll int port) {
    Span.Builder b =
        span()
            .parentId(parentId)
            .name(name)
            .remoteEndpoint(port % 2 == 0 ? "10.0.0.7" : "::1", port)
            .tag("a", value)
            .tag("b", name)
            .tag("a", "replaced");
    LineBuffer out = new LineBuffer(16);
    encoder.encode(b, out);
    assertThat(out.toByteArray()).isEqualTo(line(encoder, b.build()));
  }

  @Test
  void encodeBuilder_refusesWhatBuildRefuses_writingNothing() {
    LineBuffer out = new LineBuffer();
    assertThatThrownBy(() -> encoder.encode(span().id(0), out))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("id: 0 (expected: non-zero)");
    assertThatThrownBy(() -> encoder.encode(span().traceId(0, 0), out))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("traceId: 0 (expected: non-zero)");
    assertThatThrownBy(() -> encoder.encode(Span.newBuilder().traceId(1, 2).id(3), out))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("kind");
    assertThat(out.length()).isZero();
  }

  @Test
  void lineBuffer_truncate_keepsThePrefix_andRefusesToGrow() {
    LineBuffer out = new LineBuffer(4);
    encoder.encode(span().build(), out);
    int one = out.length();
    encoder.encode(span().build(), out);
    out.truncate(one);
    assertThat(out.toByteArray()).isEqualTo(line(encoder, span().build()));
    assertThatThrownBy(() -> out.truncate(one + 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> out.truncate(-1)).isInstanceOf(IllegalArgumentException.class);
  }
}
