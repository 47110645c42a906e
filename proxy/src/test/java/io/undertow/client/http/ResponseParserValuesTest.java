package io.undertow.client.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The patched parser's value Strings ({@code ResponseParser.value}): the same characters for the
 * same name on one thread give the String made last; anything else a new String with the right
 * text. (That every value's text is the original parser's: {@link ResponseParserDifferentialTest}.)
 */
class ResponseParserValuesTest {
  static HeaderMap parse(String response) {
    HttpResponseBuilder builder = new HttpResponseBuilder();
    ResponseParser.INSTANCE.handle(
        ByteBuffer.wrap(response.getBytes(StandardCharsets.ISO_8859_1)),
        builder.getParseState(),
        builder);
    assertThat(builder.getParseState().isComplete()).isTrue();
    return builder.getResponseHeaders();
  }

  static String head(String contentLength, String server) {
    return "HTTP/1.1 200 OK\r\nServer: "
        + server
        + "\r\nContent-Type: text/html\r\nContent-Length: "
        + contentLength
        + "\r\nConnection: keep-alive\r\n\r\n";
  }

  @Test
  void sameValueForTheSameName_isTheStringMadeLast_otherValuesAreNew() {
    HeaderMap first = parse(head("615", "nginx"));
    HeaderMap second = parse(head("615", "nginx"));
    for (HttpString name :
        new HttpString[] {
          Headers.SERVER, Headers.CONTENT_TYPE, Headers.CONTENT_LENGTH, Headers.CONNECTION
        }) {
      assertThat(second.getFirst(name)).as("%s", name).isSameAs(first.getFirst(name));
    }
    HeaderMap third = parse(head("616", " nginx  "));
    assertThat(third.getFirst(Headers.CONTENT_LENGTH)).isEqualTo("616");
    assertThat(third.getFirst(Headers.SERVER)).isEqualTo("nginx"); // trimmed, as before
    assertThat(third.getFirst(Headers.SERVER)).isSameAs(first.getFirst(Headers.SERVER));
    HeaderMap fourth = parse(head("61", "nginy"));
    assertThat(fourth.getFirst(Headers.CONTENT_LENGTH)).isEqualTo("61");
    assertThat(fourth.getFirst(Headers.SERVER)).isEqualTo("nginy");
  }

  @Test
  void sameValueUnderAnotherName_orTooLong_isNotTaken() {
    parse("HTTP/1.1 200 OK\r\nX-A: same\r\n\r\n");
    HeaderMap other = parse("HTTP/1.1 200 OK\r\nX-A: same\r\nX-B: same\r\n\r\n");
    String a = other.getFirst(HttpString.tryFromString("X-A"));
    String b = other.getFirst(HttpString.tryFromString("X-B"));
    assertThat(a).isEqualTo("same");
    assertThat(b).isEqualTo("same").isNotSameAs(a);
    String longValue = "v".repeat(ResponseParser.RecentValues.MAX_LENGTH + 1);
    String one = parse("HTTP/1.1 200 OK\r\nX-L: " + longValue + "\r\n\r\n").getFirst("X-L");
    String two = parse("HTTP/1.1 200 OK\r\nX-L: " + longValue + "\r\n\r\n").getFirst("X-L");
    assertThat(two).isEqualTo(longValue).isEqualTo(one).isNotSameAs(one);
  }

  @Test
  void setCookieValues_areNeverKept() {
    String response = "HTTP/1.1 200 OK\r\nSet-Cookie: session=s3cr3t\r\nServer: nginx\r\n\r\n";
    HeaderMap first = parse(response);
    HeaderMap second = parse(response);
    assertThat(second.getFirst(Headers.SET_COOKIE))
        .isEqualTo("session=s3cr3t")
        .isNotSameAs(first.getFirst(Headers.SET_COOKIE));
    assertThat(second.getFirst(Headers.SERVER)).isSameAs(first.getFirst(Headers.SERVER));
  }

  @Test
  void namesSharingASlot_takeTurns_eachGettingItsOwnValue() {
    // more names than slots: every slot is shared
    for (int round = 0; round < 3; round++) {
      StringBuilder response = new StringBuilder("HTTP/1.1 200 OK\r\n");
      for (int i = 0; i < ResponseParser.RecentValues.SLOTS * 3; i++) {
        response.append("X-N").append(i).append(": v").append(i % 5).append("\r\n");
      }
      HeaderMap headers = parse(response.append("\r\n").toString());
      for (int i = 0; i < ResponseParser.RecentValues.SLOTS * 3; i++) {
        assertThat(headers.getFirst("X-N" + i)).isEqualTo("v" + (i % 5));
      }
    }
  }

  @Test
  void eachThread_keepsItsOwnValues() throws Exception {
    String mine = parse(head("615", "nginx")).getFirst(Headers.SERVER);
    AtomicReference<String> theirs = new AtomicReference<>();
    Thread other =
        new Thread(() -> theirs.set(parse(head("615", "nginx")).getFirst(Headers.SERVER)));
    other.start();
    other.join();
    assertThat(theirs.get()).isEqualTo(mine).isNotSameAs(mine);
  }
}
