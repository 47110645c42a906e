package io.undertow.server.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import io.undertow.Undertow;
import io.undertow.Version;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.NetworkUtils;
import io.undertow.util.Protocols;
import java.net.URL;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * hoptrace's copy of Undertow's {@code HostHeaderHandler}: that it is the class loaded, that it
 * targets the Undertow on the classpath, and that its two hand-written checks accept exactly what
 * the code they replace accepts ({@code NetworkUtils.IP4_EXACT}, and {@code Integer.parseInt} of
 * the port in 1..65535), over exhaustive small inputs. The handler as a whole against the original:
 * {@link HostHeaderHandlerDifferentialTest}.
 */
class HostHeaderHandlerPatchTest {
  static final Pattern IP4_EXACT = Pattern.compile(NetworkUtils.IP4_EXACT);

  @Test
  void loadedClass_isHoptracesCopy_notUndertowsJar() {
    URL ours = HostHeaderHandler.class.getProtectionDomain().getCodeSource().getLocation();
    URL undertowJar = Undertow.class.getProtectionDomain().getCodeSource().getLocation();
    URL hoptrace = io.hoptrace.proxy.Main.class.getProtectionDomain().getCodeSource().getLocation();

    assertThat(undertowJar.getPath()).contains("undertow-core");
    assertThat(ours).isNotEqualTo(undertowJar).isEqualTo(hoptrace);
    // what HttpReadListener wraps every request's root handler in
    assertThat(HostHeaderHandler.WRAPPER.wrap(ResponseCodeHandler.HANDLE_200))
        .isExactlyInstanceOf(HostHeaderHandler.class);
  }

  @Test
  void undertowVersion_isTheOnePatched() {
    assertThat(Version.getVersionString())
        .as(
            "io.undertow.server.handlers.HostHeaderHandler in proxy/src/main/java is hoptrace's"
                + " patched copy of Undertow %s's class and replaces the original. For another"
                + " Undertow version: compare the copy with that version's original, port every"
                + " change, then update PATCHED_FOR_UNDERTOW and the enforcer rule in"
                + " proxy/pom.xml.",
            HostHeaderHandler.PATCHED_FOR_UNDERTOW)
        .isEqualTo(HostHeaderHandler.PATCHED_FOR_UNDERTOW);
  }

  @Test
  void wrapper_handsOutOneHandlerPerRootHandler_eachCallingItsOwn() throws Exception {
    // more root handlers than the wrapper keeps, taking turns: each wrap must still call the
    // handler it was given (a kept one when there is one, else a new one)
    List<String> called = new ArrayList<>();
    HttpHandler[] roots = new HttpHandler[HostHeaderHandler.WRAPPERS_KEPT + 2];
    for (int i = 0; i < roots.length; i++) {
      String name = "root" + i;
      roots[i] = exchange -> called.add(name);
    }
    for (int round = 0; round < 3; round++) {
      for (int i = 0; i < roots.length; i++) {
        HttpServerExchange exchange = new HttpServerExchange(null);
        exchange.setProtocol(Protocols.HTTP_1_1);
        exchange.getRequestHeaders().put(Headers.HOST, "127.0.0.1:8080");
        HostHeaderHandler.WRAPPER.wrap(roots[i]).handleRequest(exchange);
        assertThat(called).last().isEqualTo("root" + i);
      }
    }
    assertThat(called).hasSize(3 * roots.length);
    // one listener's root handler, request after request: the same handler (strongly held here)
    HttpHandler first = HostHeaderHandler.WRAPPER.wrap(roots[0]);
    HttpHandler second = HostHeaderHandler.WRAPPER.wrap(roots[1]);
    assertThat(HostHeaderHandler.WRAPPER.wrap(roots[0])).isSameAs(first);
    assertThat(HostHeaderHandler.WRAPPER.wrap(roots[1])).isSameAs(second).isNotSameAs(first);
    assertThat(HostHeaderHandler.WRAPPER.wrap(roots[0])).isSameAs(first);
  }

  @Test
  void isIp4Exact_allStringsOfDigitsAndDotsUpTo7_sameAsTheRegex() {
    // the characters the regex distinguishes: 0 (no leading-zero 3-digit octet), 1, 2, 5 (the
    // 2xx and 25x limits), 6, 9, and the dot; every string of them up to 7 long (~960 k; longer
    // quads: the next test)
    char[] alphabet = {'0', '1', '2', '5', '6', '9', '.'};
    int matched = 0;
    int checked = 0;
    char[] buf = new char[7];
    for (int length = 0; length <= 7; length++) {
      int[] digits = new int[length];
      while (true) {
        for (int i = 0; i < length; i++) buf[i] = alphabet[digits[i]];
        String s = new String(buf, 0, length);
        boolean expected = IP4_EXACT.matcher(s).matches();
        if (HostHeaderHandler.isIp4Exact(s, length) != expected) {
          assertThat(HostHeaderHandler.isIp4Exact(s, length)).as("\"%s\"", s).isEqualTo(expected);
        }
        matched += expected ? 1 : 0;
        checked++;
        int i = length - 1;
        while (i >= 0 && ++digits[i] == alphabet.length) digits[i--] = 0;
        if (i < 0) break;
      }
    }
    assertThat(checked).isGreaterThan(900_000);
    assertThat(matched).as("strings the regex accepts").isGreaterThan(1000);
  }

  @Test
  void isIp4Exact_quadsOfEdgeOctets_sameAsTheRegex() {
    String[] octets = {
      "", "0", "00", "000", "01", "012", "09", "1", "99", "100", "199", "200", "249", "250", "255",
      "256", "260", "300", "0255", "1000", "a", "\uff11", "\u0663"
    };
    List<String> quads = new ArrayList<>();
    for (String a : octets)
      for (String b : octets)
        for (String c : octets) for (String d : octets) quads.add(a + "." + b + "." + c + "." + d);
    quads.addAll(List.of("1.2.3", "1.2.3.4.5", "1.2.3.4.", ".1.2.3.4", "1..2.3", "1.2.3.4\n"));
    for (String s : quads) {
      assertThat(HostHeaderHandler.isIp4Exact(s, s.length()))
          .as("\"%s\"", s)
          .isEqualTo(IP4_EXACT.matcher(s).matches());
      // the host before a port: only value[0, end) counts
      String withPort = s + ":8080";
      assertThat(HostHeaderHandler.isIp4Exact(withPort, s.length()))
          .as("\"%s\" of \"%s\"", s, withPort)
          .isEqualTo(IP4_EXACT.matcher(s).matches());
    }
    assertThat(HostHeaderHandler.isIp4Exact("127.0.0.1", 9)).isTrue();
    assertThat(HostHeaderHandler.isIp4Exact("256.0.0.1", 9)).isFalse();
  }

  /** What 2.4.4 did with the port text: {@code Integer.parseInt}, then 1..65535. */
  static boolean originalPortCheck(String value, int from) {
    try {
      int port = Integer.parseInt(value.substring(from));
      return port > 0 && port <= 65535;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  @Test
  void validPort_allShortStrings_sameAsParseInt() {
    // signs, ASCII digits at the range's edges, a letter, a space, and Unicode digits (parseInt
    // takes any Character.digit: Arabic-Indic three, fullwidth eight); every string up to 5 long
    char[] alphabet = {'0', '1', '5', '6', '9', '+', '-', ' ', 'a', '\u0663', '\uff18'};
    int accepted = 0;
    char[] buf = new char[5];
    for (int length = 0; length <= 5; length++) {
      int[] digits = new int[length];
      while (true) {
        for (int i = 0; i < length; i++) buf[i] = alphabet[digits[i]];
        String port = new String(buf, 0, length);
        String value = "h:" + port;
        boolean expected = originalPortCheck(value, 2);
        if (HostHeaderHandler.validPort(value, 2) != expected) {
          assertThat(HostHeaderHandler.validPort(value, 2)).as("\"%s\"", value).isEqualTo(expected);
        }
        accepted += expected ? 1 : 0;
        int i = length - 1;
        while (i >= 0 && ++digits[i] == alphabet.length) digits[i--] = 0;
        if (i < 0) break;
      }
    }
    assertThat(accepted).as("ports parseInt accepts").isGreaterThan(1_000);
  }

  @Test
  void validPort_everyNumberAroundTheRange_sameAsParseInt() {
    List<String> ports = new ArrayList<>();
    for (int n = -70_000; n <= 70_000; n++) {
      ports.add(Integer.toString(n));
      if (n >= 0) ports.add("+" + n);
      if (n >= 0 && n % 7 == 0) ports.add("000" + n);
    }
    ports.addAll(
        List.of(
            "",
            "+",
            "-",
            "1e3",
            "0x50",
            "80 ",
            " 80",
            "8_0",
            "2147483647",
            "2147483648",
            "-2147483648",
            "4294967376", // 2^32 + 80
            "99999999999999999999",
            "00000000000000000000080",
            "\uff18\uff10",
            "\u0668\u0660",
            "++80",
            "+-80"));
    for (String port : ports) {
      String value = "[::1]:" + port;
      assertThat(HostHeaderHandler.validPort(value, 6))
          .as("\"%s\"", value)
          .isEqualTo(originalPortCheck(value, 6));
    }
  }
}
