package io.undertow.server.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import io.undertow.PatchedLoaders;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * hoptrace's {@code HostHeaderHandler} against Undertow 2.4.4's original, over real sockets: two
 * plain Undertow servers (no hoptrace, no head guard, so every Host value reaches the handler),
 * each in its own class loader over the same jars — one with Undertow's jar alone (the original
 * class), one with proxy/target/classes in front (ours) — answer 200 to whatever the handler lets
 * through. Every request of the corpus goes to both; the status line and the response headers
 * (without Date) must be the same.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HostHeaderHandlerDifferentialTest {
  static PatchedLoaders loaders;
  static Server original;
  static Server ours;

  /** An Undertow server in {@code loader}, found and driven by reflection. */
  record Server(Object undertow, InetSocketAddress address) {
    static Server start(ClassLoader loader) throws Exception {
      Class<?> undertowClass = loader.loadClass("io.undertow.Undertow");
      Object builder = undertowClass.getMethod("builder").invoke(null);
      Class<?> builderClass = builder.getClass();
      builderClass
          .getMethod("addHttpListener", int.class, String.class)
          .invoke(builder, 0, "127.0.0.1");
      builderClass.getMethod("setIoThreads", int.class).invoke(builder, 1);
      builderClass.getMethod("setWorkerThreads", int.class).invoke(builder, 1);
      Object ok =
          loader
              .loadClass("io.undertow.server.handlers.ResponseCodeHandler")
              .getField("HANDLE_200");
      builderClass
          .getMethod("setHandler", loader.loadClass("io.undertow.server.HttpHandler"))
          .invoke(builder, ((java.lang.reflect.Field) ok).get(null));
      Object undertow = builderClass.getMethod("build").invoke(builder);
      undertowClass.getMethod("start").invoke(undertow);
      Object listener =
          ((List<?>) undertowClass.getMethod("getListenerInfo").invoke(undertow)).get(0);
      InetSocketAddress address =
          (InetSocketAddress) listener.getClass().getMethod("getAddress").invoke(listener);
      return new Server(undertow, address);
    }

    void stop() throws Exception {
      undertow.getClass().getMethod("stop").invoke(undertow);
    }
  }

  @BeforeAll
  static void startBoth() throws Exception {
    loaders = PatchedLoaders.of(HostHeaderHandler.class);
    original = Server.start(loaders.original());
    ours = Server.start(loaders.ours());
  }

  @AfterAll
  static void stopBoth() throws Exception {
    if (original != null) original.stop();
    if (ours != null) ours.stop();
    if (loaders != null) loaders.close();
  }

  static String get(String host) {
    return "GET /p HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
  }

  static final List<String> HOSTS =
      List.of(
          // names
          "app",
          "app.example.com",
          "a-b_c~d",
          "xn--caf-dma.example",
          "a!$&'()*+,;=b",
          "APP.Example.COM",
          "app.",
          ".",
          "-",
          "app:8080",
          "app.example.com:443",
          "localhost:1",
          // IPv4, with and without a port, and what only looks like one
          "127.0.0.1",
          "127.0.0.1:8080",
          "0.0.0.0",
          "255.255.255.255",
          "255.255.255.255:65535",
          "01.02.03.04",
          "001.2.3.4",
          "012.0.0.1",
          "256.1.1.1",
          "1.2.3.256",
          "300.1.1.1:80",
          "1.2.3",
          "1.2.3.4.5",
          "1.2.3.4.",
          ".1.2.3.4",
          "1..2.3",
          "1.2.3.4:",
          "1.2.3.4::80",
          "1.2.3.4:80:80",
          "-1.2.3.4",
          "1.2.3.4a",
          // ports
          "app:",
          "app:0",
          "app:1",
          "app:00080",
          "app:65535",
          "app:65536",
          "app:99999",
          "app:+1",
          "app:-1",
          "app:-0",
          "app:1e3",
          "app:0x50",
          "app:80a",
          "app:2147483648",
          "app:99999999999999999999",
          ":80",
          ":",
          // IP literals
          "[::1]",
          "[::1]:8080",
          "[::]",
          "[2001:db8::1]",
          "[2001:DB8:0:0:0:0:0:1]:443",
          "[::ffff:192.0.2.1]",
          "[::ffff:192.0.2.256]",
          "[1.2.3.4]",
          "[12345::1]",
          "[:::]",
          "[::1",
          "[::1:80",
          "::1]",
          "::1]:80",
          "[::1]]",
          "[::1]x",
          "[::1]x:80",
          "[::1]:",
          "[::1]:0",
          "[::1]:65536",
          "x[::1]",
          "[]",
          "[]:80",
          "[v1.a]",
          "[v1.a:b]",
          "[vF.x]:80",
          "[v.a]",
          "[v1.]",
          "[vz.a]",
          "[v1.a b]",
          "[v1.%]",
          "[",
          "]",
          "][",
          // percent-encoding and other characters
          "a%41b",
          "a%4",
          "a%",
          "%",
          "%%",
          "%zz",
          "a%4g",
          "%41:80",
          "a%41b:80",
          "user@app",
          "app/x",
          "app?x",
          "app#x",
          "a\"b",
          "a<b",
          "a\\b",
          "a^b",
          "a{b",
          "a|b",
          "a b",
          // empty
          "",
          " ",
          "  app  ");

  static final List<String> REQUESTS = requests();

  static List<String> requests() {
    List<String> requests = new ArrayList<>();
    for (String host : HOSTS) requests.add(get(host));
    requests.addAll(
        List.of(
            // no Host, two Hosts, HTTP/1.0 with and without
            "GET /p HTTP/1.1\r\n\r\n",
            "GET /p HTTP/1.1\r\nHost: app\r\nHost: app\r\n\r\n",
            "GET /p HTTP/1.1\r\nHost: app\r\nHost: other\r\n\r\n",
            "GET /p HTTP/1.1\r\nHost: app, other\r\n\r\n",
            "GET /p HTTP/1.0\r\n\r\n",
            "GET /p HTTP/1.0\r\nHost: app\r\n\r\n",
            "GET /p HTTP/1.0\r\nHost: app:0\r\n\r\n",
            "GET /p HTTP/1.0\r\nHost: app\r\nHost: app\r\n\r\n",
            "GET /p HTTP/1.0\r\nHost: \r\n\r\n",
            "GET /p HTTP/0.9\r\n\r\n",
            "GET /p HTTP/2.0\r\nHost: app\r\n\r\n",
            // absolute-form: the Host must be part of the target
            "GET http://app:8080/p HTTP/1.1\r\nHost: app:8080\r\n\r\n",
            "GET http://app:8080/p HTTP/1.1\r\nHost: app\r\n\r\n",
            "GET http://app/p HTTP/1.1\r\nHost: app:8080\r\n\r\n",
            "GET http://app/p HTTP/1.1\r\nHost: other\r\n\r\n",
            "GET http://app/p HTTP/1.1\r\nHost: \r\n\r\n",
            "GET http://app/p HTTP/1.1\r\nHost: pp\r\n\r\n",
            "GET http://app/p HTTP/1.1\r\nHost: http://app/p/x\r\n\r\n",
            "GET http://[::1]:80/p HTTP/1.1\r\nHost: [::1]:80\r\n\r\n",
            "GET http://[::1]:80/p HTTP/1.1\r\nHost: [::2]:80\r\n\r\n",
            "GET http://127.0.0.1:80/p HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n",
            "GET http://127.0.0.1/p HTTP/1.1\r\nHost: 127.0.0.10\r\n\r\n",
            "GET http://a%41b/p HTTP/1.1\r\nHost: a%41b\r\n\r\n",
            "CONNECT app:443 HTTP/1.1\r\nHost: app:443\r\n\r\n",
            "CONNECT app:443 HTTP/1.1\r\nHost: other:443\r\n\r\n",
            "OPTIONS * HTTP/1.1\r\nHost: app\r\n\r\n"));
    return requests;
  }

  /** The response head without its Date line, or how the connection ended without one. */
  static String answer(InetSocketAddress to, byte[] request) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(to, 3000);
      socket.setSoTimeout(1000);
      try {
        socket.getOutputStream().write(request);
        socket.getOutputStream().flush();
      } catch (IOException e) {
        // closed before reading everything: read what it answered
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      InputStream in = socket.getInputStream();
      byte[] buf = new byte[4096];
      String end = "closed"; // before a complete head
      try {
        for (int n; (n = in.read(buf)) > 0; ) {
          out.write(buf, 0, n);
          if (out.toString(StandardCharsets.ISO_8859_1).contains("\r\n\r\n")) {
            end = "head";
            break;
          }
        }
      } catch (SocketTimeoutException e) {
        end = "no complete head";
      } catch (IOException e) {
        end = "reset";
      }
      String text = out.toString(StandardCharsets.ISO_8859_1);
      int head = text.indexOf("\r\n\r\n");
      if (head >= 0) text = text.substring(0, head);
      return text.lines()
              .filter(line -> !line.regionMatches(true, 0, "Date:", 0, 5))
              .collect(Collectors.joining(" | "))
          + " ["
          + end
          + "]";
    }
  }

  static void assertSame(byte[] request, String label) throws IOException {
    String theirs = answer(original.address(), request);
    String mine = answer(ours.address(), request);
    assertThat(mine).as(label).isEqualTo(theirs);
  }

  @Test
  void corpus_sameAnswerAsUndertows() throws IOException {
    Set<String> statusLines = new TreeSet<>();
    for (String request : REQUESTS) {
      byte[] bytes = request.getBytes(StandardCharsets.ISO_8859_1);
      assertSame(bytes, request.replace("\r\n", "\\r\\n"));
      statusLines.add(answer(original.address(), bytes).split(" \\| ", -1)[0]);
    }
    // the corpus reaches every outcome of the handler (or the test would prove little)
    assertThat(String.join("\n", statusLines))
        .contains("200 OK")
        .contains("400 " + HostHeaderHandler.STATUS_NO_HOST_HEADER)
        .contains("400 " + HostHeaderHandler.STATUS_TOO_MANY_HOST_HEADERS)
        .contains("400 " + HostHeaderHandler.STATUS_MALFORMED_PORT)
        .contains("400 " + HostHeaderHandler.STATUS_MALFORMED_IP_LITERAL)
        .contains("400 " + HostHeaderHandler.STATUS_MALFORMED_IP_LITERAL_BAD_CHARS)
        .contains("400 " + HostHeaderHandler.STATUS_HOST_NO_MATCH);
  }

  @Test
  void nonAsciiHosts_sameAnswerAsUndertows() throws IOException {
    // sent as UTF-8 and as Latin-1 bytes: whatever Undertow's parser makes of them
    for (String host :
        List.of(
            "caf\u00e9",
            "caf\u00e9:80",
            "\u00e9",
            "app:\u0663",
            "app:\uff18\uff10",
            "\u0661.\u0662.\u0663.\u0664",
            "\u4e2d\u6587",
            "[::1\u00e9]",
            "a%4\u00e9")) {
      assertSame(get(host).getBytes(StandardCharsets.UTF_8), "UTF-8 " + host);
      assertSame(get(host).getBytes(StandardCharsets.ISO_8859_1), "Latin-1 " + host);
    }
  }

  @Test
  void randomHosts_sameAnswerAsUndertows() throws IOException {
    // 1,500 Hosts of up to 12 characters drawn from the ones the handler's branches turn on
    String alphabet = "0123456789..::[]%vVaAfFgz-_~+@ ";
    Random random = new Random(20261126L);
    for (int n = 0; n < 1_500; n++) {
      int length = random.nextInt(13);
      StringBuilder host = new StringBuilder();
      for (int i = 0; i < length; i++)
        host.append(alphabet.charAt(random.nextInt(alphabet.length())));
      if (n % 3 == 0) host.append(":").append(random.nextInt(70_000));
      String request =
          n % 5 == 0
              ? "GET http://" + host + "/p HTTP/1.1\r\nHost: " + host + "\r\n\r\n"
              : get(host.toString());
      assertSame(request.getBytes(StandardCharsets.ISO_8859_1), "\"" + host + "\"");
    }
  }
}
