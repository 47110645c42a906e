package io.hoptrace.proxy.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.proxy.tcp.mysql.MysqlClient;
import io.hoptrace.proxy.tcp.mysql.MysqlServerProcess;
import io.hoptrace.proxy.tcp.redis.RedisServerProcess;
import io.hoptrace.proxy.tcp.redis.RespClient;
import io.hoptrace.proxy.testing.Service;
import io.hoptrace.proxy.testing.Service.Forwarding;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The headline ("Beyond HTTP"): an app served through hoptrace whose request does HTTP +
 * Redis + MySQL calls and reports one span of its own yields one trace with all of them, in order,
 * correctly parented. Real servers from Debian's packages (redis-server, mariadb-server) on private
 * ports; the app (a JDK HttpServer) forwards no header and knows nothing of tracing except {@code
 * POST /spans}: every link comes from the correlator.
 */
class FullStackTraceTest {
  static final int REQUESTS = 3;

  /** Between the app's steps, so that their order is unambiguous at millisecond precision. */
  static final long STEP_MILLIS = 3;

  static RedisServerProcess redis;
  static MysqlServerProcess mysql;

  @TempDir Path dir;

  /** {@code outbound.engine}: the relay (the default); a subclass runs the test on undertow. */
  String outboundEngine = "relay";

  @BeforeAll
  static void servers() throws Exception {
    redis = new RedisServerProcess();
    mysql = new MysqlServerProcess();
    try (MysqlClient direct =
        MysqlClient.connect(
            mysql.port, MysqlServerProcess.USER, MysqlServerProcess.PASSWORD, "app", true)) {
      direct.query("CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, item VARCHAR(32))");
    }
  }

  @AfterAll
  static void stopServers() throws Exception {
    if (mysql != null) mysql.close();
    if (redis != null) redis.close();
  }

  /** The app's clients, opened on first use and kept, as a connection pool would. */
  static final class AppClients implements AutoCloseable {
    @Nullable RespClient cache;
    @Nullable MysqlClient db;

    @Override
    public void close() throws java.io.IOException {
      if (cache != null) cache.close();
      if (db != null) db.close();
    }
  }

  @Test
  void request_httpRedisMysqlAndAppSpan_oneTraceInOrder() throws Exception {
    Service[] shopRef = new Service[1];
    try (AppClients clients = new AppClients();
        Service inventory =
            Service.start(
                "inventory",
                Forwarding.NONE,
                (ex, out) -> "7",
                dir,
                Map.of("outbound.engine", outboundEngine));
        Service shop =
            Service.start(
                "shop",
                Forwarding.NONE,
                (ex, out) -> {
                  TcpRelay relay = shopRef[0].hoptrace().tcpRelay();
                  // (a) HTTP through the forward proxy, no header
                  String stock = out.get(inventory.url("/stock/book"));
                  Thread.sleep(STEP_MILLIS);
                  // (b) Redis through the redis route
                  if (clients.cache == null) clients.cache = new RespClient(relay.port("cache"));
                  clients.cache.call("SET", "cart:book", stock);
                  Thread.sleep(STEP_MILLIS);
                  Object cached = clients.cache.call("GET", "cart:book");
                  Thread.sleep(STEP_MILLIS);
                  // (c) MySQL through the mysql route
                  if (clients.db == null) {
                    clients.db =
                        MysqlClient.connect(
                            relay.port("db"),
                            MysqlServerProcess.USER,
                            MysqlServerProcess.PASSWORD,
                            "app",
                            true);
                  }
                  clients.db.query("INSERT INTO orders (item) VALUES ('book')");
                  Thread.sleep(STEP_MILLIS);
                  MysqlClient.Result count = clients.db.query("SELECT COUNT(*) FROM orders");
                  Thread.sleep(STEP_MILLIS);
                  // (d) a step hoptrace cannot see, reported with no trace id
                  long start = System.currentTimeMillis() * 1000L;
                  Thread.sleep(STEP_MILLIS);
                  long duration = System.currentTimeMillis() * 1000L - start;
                  HttpResponse<String> posted =
                      HttpClient.newHttpClient()
                          .send(
                              HttpRequest.newBuilder(
                                      URI.create(
                                          "http://127.0.0.1:"
                                              + shopRef[0].hoptrace().adminAddress().getPort()
                                              + "/spans"))
                                  .POST(
                                      HttpRequest.BodyPublishers.ofString(
                                          "[{\"name\":\"render receipt\",\"timestamp\":"
                                              + start
                                              + ",\"duration\":"
                                              + duration
                                              + ",\"tags\":{\"template\":\"receipt\"}}]"))
                                  .build(),
                              HttpResponse.BodyHandlers.ofString());
                  return stock
                      + " "
                      + new String((byte[]) cached, java.nio.charset.StandardCharsets.UTF_8)
                      + " "
                      + count.rows()
                      + " "
                      + posted.statusCode();
                },
                dir,
                Map.of(
                    "outbound.engine", outboundEngine,
                    "admin.port", "0",
                    "tcp-routes.cache.listen", "0",
                    "tcp-routes.cache.upstream", "127.0.0.1:" + redis.port,
                    "tcp-routes.cache.protocol", "redis",
                    "tcp-routes.db.listen", "0",
                    "tcp-routes.db.upstream", "127.0.0.1:" + mysql.port,
                    "tcp-routes.db.protocol", "mysql"))) {
      shopRef[0] = shop;
      HttpClient caller = HttpClient.newHttpClient();
      for (int i = 0; i < REQUESTS; i++) {
        HttpResponse<String> response =
            caller.send(
                HttpRequest.newBuilder(URI.create(shop.url("/checkout/" + i)))
                    .timeout(Duration.ofSeconds(20))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("7 7 1 202");
      }

      List<Map<String, Object>> shopSpans = shop.spans(7 * REQUESTS);
      List<Map<String, Object>> inventorySpans = inventory.spans(REQUESTS);
      assertThat(shopSpans).hasSize(7 * REQUESTS);
      assertThat(inventorySpans).hasSize(REQUESTS);
      List<Map<String, Object>> all = new ArrayList<>(shopSpans);
      all.addAll(inventorySpans);

      List<Map<String, Object>> roots =
          shopSpans.stream().filter(s -> "SERVER".equals(s.get("kind"))).toList();
      assertThat(roots).hasSize(REQUESTS);
      for (Map<String, Object> root : roots) {
        assertThat(root).doesNotContainKey("parentId");
        String trace = (String) root.get("traceId");
        List<Map<String, Object>> inTrace =
            all.stream().filter(s -> trace.equals(s.get("traceId"))).toList();
        assertThat(inTrace).as("spans of trace %s", trace).hasSize(8);

        List<Map<String, Object>> children =
            inTrace.stream()
                .filter(s -> root.get("id").equals(s.get("parentId")))
                .sorted(Comparator.comparingLong(s -> (Long) s.get("timestamp")))
                .toList();
        assertThat(children)
            .extracting(s -> s.get("name"))
            .containsExactly(
                "get /stock/book",
                "redis set",
                "redis get",
                "mysql insert",
                "mysql select",
                "render receipt");
        assertThat(children)
            .extracting(s -> s.get("kind"))
            .containsExactly("CLIENT", "CLIENT", "CLIENT", "CLIENT", "CLIENT", null);
        long rootStart = (Long) root.get("timestamp");
        long rootEnd = rootStart + (Long) root.get("duration");
        for (Map<String, Object> child : children) {
          assertThat(tags(child))
              .as("%s", child)
              .containsEntry("hoptrace.link", "sole")
              .containsEntry("hoptrace.candidates", "1");
          long start = (Long) child.get("timestamp");
          // 1 ms of slack: the HTTP spans are stamped at millisecond precision
          assertThat(start)
              .as("start of %s", child.get("name"))
              .isBetween(rootStart - 1000, rootEnd);
          assertThat(start + (Long) child.get("duration"))
              .as("end of %s", child.get("name"))
              .isLessThanOrEqualTo(rootEnd + 1000);
        }
        Map<String, Object> httpClient = children.get(0);
        Map<String, Object> downstream =
            inventorySpans.stream()
                .filter(s -> httpClient.get("id").equals(s.get("parentId")))
                .findFirst()
                .orElseThrow();
        assertThat(downstream).containsEntry("kind", "SERVER").containsEntry("traceId", trace);
        assertThat(tags(children.get(1))).containsEntry("db.system", "redis");
        assertThat(tags(children.get(3)))
            .containsEntry("db.system", "mysql")
            .containsEntry("db.name", "app")
            .containsEntry("db.statement", "INSERT INTO orders (item) VALUES (?)");
        assertThat(tags(children.get(5)))
            .containsEntry("hoptrace.source", "app")
            .containsEntry("template", "receipt");
        assertThat(children.get(5)).containsEntry("localEndpoint", Map.of("serviceName", "shop"));
      }
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> tags(Map<String, Object> span) {
    return (Map<String, Object>) span.get("tags");
  }
}
