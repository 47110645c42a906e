package io.hoptrace.proxy.tcp;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hoptrace.config.Settings;
import io.hoptrace.proxy.Hoptrace;
import io.hoptrace.proxy.tcp.redis.RedisServerProcess;
import io.hoptrace.proxy.tcp.redis.RespClient;
import io.hoptrace.proxy.testing.Json;
import io.hoptrace.proxy.testing.RefusedPort;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tcp-routes} in a running hoptrace: startup line, error spans, metrics, shutdown order. */
class TcpRoutesWiringTest {
  @TempDir Path dir;

  Path spanLog() {
    return dir.resolve("spans.jsonl");
  }

  Hoptrace start(Map<String, String> settings, PrintStream announce) throws Exception {
    Map<String, String> all = new HashMap<>();
    all.put("service", "shop");
    all.put("inbound.host", "127.0.0.1");
    all.put("inbound.port", "0");
    all.put("admin.port", "0");
    all.put("app", "127.0.0.1:1");
    all.put("span-log.path", spanLog().toString());
    all.put("span-log.flush-interval", "20ms");
    all.put("drain-time", "1s");
    all.putAll(settings);
    return Hoptrace.start(Settings.load(null, Map.of(), all), announce);
  }

  List<Map<String, Object>> spans(int count) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    List<String> lines = List.of();
    while (System.nanoTime() < deadline) {
      lines = Files.exists(spanLog()) ? Files.readAllLines(spanLog()) : List.of();
      if (lines.size() >= count) break;
      Thread.sleep(20);
    }
    List<Map<String, Object>> out = new ArrayList<>();
    for (String line : lines) out.add(Json.object(line));
    return out;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> tags(Map<String, Object> span) {
    return (Map<String, Object>) span.get("tags");
  }

  @Test
  void route_deadUpstream_printedAtStartup_errorSpan_counted() throws Exception {
    ByteArrayOutputStream announced = new ByteArrayOutputStream();
    try (RefusedPort dead = new RefusedPort();
        Hoptrace hoptrace =
            start(
                Map.of(
                    "tcp-routes.cache.listen",
                    "0",
                    "tcp-routes.cache.upstream",
                    "127.0.0.1:" + dead.port(),
                    "tcp-routes.cache.protocol",
                    "redis"),
                new PrintStream(announced, true, UTF_8))) {
      Matcher line =
          Pattern.compile(
                  "hoptrace: tcp route cache \\(redis\\) listening on 127\\.0\\.0\\.1:(\\d+)")
              .matcher(announced.toString(UTF_8));
      assertThat(line.find()).as(announced.toString(UTF_8)).isTrue();
      int port = Integer.parseInt(line.group(1));
      assertThat(port).isEqualTo(hoptrace.tcpRelay().port("cache"));

      try (Socket app = new Socket(InetAddress.getLoopbackAddress(), port)) {
        app.setSoTimeout(10_000);
        app.getOutputStream().write("*1\r\n$4\r\nPING\r\n".getBytes(US_ASCII));
        InputStream in = app.getInputStream();
        try {
          assertThat(in.read()).as("the app's connection is closed").isEqualTo(-1);
        } catch (SocketException reset) {
          // closed with a reset: also what the app sees without hoptrace
        }
      }

      Map<String, Object> span = spans(1).get(0);
      assertThat(span).containsEntry("name", "redis connect").containsEntry("kind", "CLIENT");
      assertThat((String) tags(span).get("error")).startsWith("connect 127.0.0.1:" + dead.port());
      assertThat(tags(span))
          .containsEntry("hoptrace.link", "root")
          .containsEntry("hoptrace.candidates", "0");

      String metrics =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create(
                              "http://127.0.0.1:" + hoptrace.adminAddress().getPort() + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      assertThat(metrics)
          .contains("hoptrace_tcp_connections ")
          .contains("hoptrace_tcp_buffers ")
          .contains("hoptrace_tcp_observer_failures 0.0")
          .contains("hoptrace_tcp_link_root_total 1.0");
    }
  }

  @Test
  void close_commandAwaitingItsReply_itsSpanReachesTheLog() throws Exception {
    try (RedisServerProcess redis = new RedisServerProcess()) {
      Hoptrace hoptrace =
          start(
              Map.of(
                  "tcp-routes.cache.listen", "0",
                  "tcp-routes.cache.upstream", "127.0.0.1:" + redis.port,
                  "tcp-routes.cache.protocol", "redis"),
              new PrintStream(ByteArrayOutputStream.nullOutputStream(), true, UTF_8));
      try (RespClient app = new RespClient(hoptrace.tcpRelay().port("cache"));
          RespClient direct = new RespClient(redis.port)) {
        app.send("BLPOP", "queue", "0").flush();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!new String((byte[]) direct.call("INFO", "clients"), UTF_8)
                .contains("blocked_clients:1")
            && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }

        hoptrace.close(); // the relay closes before the span log flushes its last lines
      }

      Map<String, Object> span = spans(1).get(0);
      assertThat(span).containsEntry("name", "redis blpop");
      assertThat(tags(span)).containsEntry("error", "hoptrace shutting down");
    }
  }

  @Test
  void start_routePortTaken_failsNamingTheRoute() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      assertThatThrownBy(
              () ->
                  start(
                      Map.of(
                          "tcp-routes.db.listen", Integer.toString(taken.getLocalPort()),
                          "tcp-routes.db.upstream", "127.0.0.1:3306",
                          "tcp-routes.db.protocol", "mysql"),
                      new PrintStream(ByteArrayOutputStream.nullOutputStream(), true, UTF_8)))
          .isInstanceOf(IOException.class)
          .hasMessageStartingWith(
              "tcp-routes.db.listen: cannot bind 127.0.0.1:" + taken.getLocalPort());
    }
  }
}
