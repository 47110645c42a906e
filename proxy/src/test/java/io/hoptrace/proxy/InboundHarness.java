package io.hoptrace.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.config.Settings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** A real app, hoptrace in-process in front of it, and real clients: the inbound tests' stage. */
abstract class InboundHarness {
  static final Pattern TRACEPARENT = Pattern.compile("00-([0-9a-f]{32})-([0-9a-f]{16})-0[0-3]");

  @TempDir Path dir;
  TestUpstream app;
  Hoptrace hoptrace;
  Path spanLog;
  final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeEach
  void startApp() throws IOException {
    app = new TestUpstream();
    spanLog = dir.resolve("spans.log");
  }

  @AfterEach
  void stop() {
    if (hoptrace != null) hoptrace.close();
    app.close();
  }

  /** {@code upstream.client} for the whole class (a subclass runs the tests on the other). */
  @org.jspecify.annotations.Nullable String upstreamClient;

  /** {@code inbound.engine} for the whole class (a subclass runs the tests on the relay). */
  @org.jspecify.annotations.Nullable String inboundEngine;

  Hoptrace start(String... keyValues) throws Exception {
    Map<String, String> overrides = new HashMap<>();
    overrides.put("service", "orders");
    if (upstreamClient != null) overrides.put("upstream.client", upstreamClient);
    if (inboundEngine != null) overrides.put("inbound.engine", inboundEngine);
    overrides.put("inbound.host", "127.0.0.1");
    overrides.put("inbound.port", "0");
    overrides.put("app", "127.0.0.1:" + app.port());
    overrides.put("span-log.path", spanLog.toString());
    overrides.put("span-log.flush-interval", "20ms");
    overrides.put("drain-time", "5s");
    for (int i = 0; i < keyValues.length; i += 2) overrides.put(keyValues[i], keyValues[i + 1]);
    ByteArrayOutputStream announced = new ByteArrayOutputStream();
    hoptrace =
        Hoptrace.start(
            Settings.load(null, Map.of(), overrides),
            new PrintStream(announced, true, StandardCharsets.UTF_8));
    assertThat(announced.toString(StandardCharsets.UTF_8))
        .contains(
            "hoptrace: inbound listening on 127.0.0.1:" + hoptrace.inboundAddress().getPort());
    return hoptrace;
  }

  URI uri(String pathAndQuery) {
    return URI.create("http://127.0.0.1:" + hoptrace.inboundAddress().getPort() + pathAndQuery);
  }

  HttpResponse<String> get(String pathAndQuery, String... headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri(pathAndQuery));
    if (headers.length > 0) request.headers(headers);
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Sends raw bytes on a new connection and reads the whole response (Connection: close). */
  String raw(String request) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(hoptrace.inboundAddress(), 2000);
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = socket.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }
}
