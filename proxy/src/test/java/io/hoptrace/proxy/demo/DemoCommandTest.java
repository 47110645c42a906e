package io.hoptrace.proxy.demo;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.proxy.testing.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hoptrace demo} run to completion as a newcomer runs it, its output captured, and the three
 * span logs it leaves read line by line (with the test's own JSON reader, not the traces module the
 * demo uses): every callee's SERVER span is a child of its caller's CLIENT span, each checkout sent
 * alone forms the full tree, and every CLIENT span says how it was linked.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class DemoCommandTest {
  static final Set<String> LINKS = Set.of("header", "process", "sole", "inferred", "root");

  @TempDir Path dir;

  final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
  final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
  final PrintStream out = new PrintStream(outBytes, true, UTF_8);
  final PrintStream err = new PrintStream(errBytes, true, UTF_8);

  @Test
  void demo_runsToCompletion_andItsSpanLogsFormCorrectTrees() throws Exception {
    long start = System.nanoTime();
    int exit = DemoCommand.run(new String[] {"--dir", dir.toString()}, out, err);
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
    String output = outBytes.toString(UTF_8);

    assertThat(exit).as(output + errBytes.toString(UTF_8)).isZero();
    assertThat(errBytes.toString(UTF_8)).isEmpty();
    assertThat(seconds).as("run time").isLessThan(30); // < 15 s on an idle machine
    assertThat(output)
        .contains("sent 40 checkouts (32 one at a time, 8 in rounds of 4 at once): 40 ok")
        .contains("How to read it")
        .contains("Link evidence from this run")
        .contains(dir.resolve("front.spans.jsonl").toString())
        .contains("traces " + dir)
        .contains("done in");

    Map<String, List<Map<String, Object>>> logs = new HashMap<>();
    for (String service : List.of("front", "orders", "inventory")) {
      logs.put(service, spans(dir.resolve(service + ".spans.jsonl")));
    }
    List<Map<String, Object>> front = logs.get("front");
    List<Map<String, Object>> orders = logs.get("orders");
    List<Map<String, Object>> inventory = logs.get("inventory");
    List<Map<String, Object>> health = named(kind(orders, "CLIENT"), "get /health");

    assertThat(kind(front, "SERVER")).hasSize(40);
    assertThat(kind(front, "CLIENT")).hasSize(40);
    assertThat(kind(orders, "SERVER")).hasSize(40);
    assertThat(kind(orders, "CLIENT")).hasSize(80 + health.size());
    assertThat(kind(inventory, "SERVER")).hasSize(80 + health.size());
    assertThat(kind(inventory, "CLIENT")).isEmpty();

    // Every CLIENT span says how it was linked, and how many requests it chose from.
    for (List<Map<String, Object>> log : logs.values()) {
      for (Map<String, Object> client : kind(log, "CLIENT")) {
        assertThat(tags(client).get("hoptrace.link")).as(client.toString()).isIn(LINKS);
        assertThat(tags(client)).as(client.toString()).containsKey("hoptrace.candidates");
        assertThat(tags(client).get("http.status_code")).isEqualTo("200");
      }
    }
    // Every callee SERVER span is a child of a CLIENT span of its caller, in the same trace.
    assertChildrenOfCallerClients(kind(orders, "SERVER"), front);
    assertChildrenOfCallerClients(kind(inventory, "SERVER"), orders);

    // Front was called from outside with no header: each checkout starts a trace.
    for (Map<String, Object> root : kind(front, "SERVER")) {
      assertThat(root).doesNotContainKey("parentId");
      assertThat(tags(root).get("hoptrace.context")).isEqualTo("started");
    }
    // The checkouts sent one at a time: sole links, and the whole tree, ids matching the paths.
    for (int id = 1; id <= 32; id++) {
      Map<String, Object> root = one(named(kind(front, "SERVER"), "get /checkout/" + id));
      Map<String, Object> frontClient = one(childrenOf(kind(front, "CLIENT"), root));
      assertSole(frontClient, "get /orders/" + id);
      Map<String, Object> ordersServer = one(childrenOf(kind(orders, "SERVER"), frontClient));
      assertThat(ordersServer.get("name")).isEqualTo("get /orders/" + id);
      assertThat(tags(ordersServer).get("hoptrace.context")).isEqualTo("extracted");
      List<Map<String, Object>> fanOut = childrenOf(kind(orders, "CLIENT"), ordersServer);
      assertThat(fanOut)
          .extracting(s -> s.get("name"))
          .containsExactlyInAnyOrder("get /stock/" + id, "get /prices/" + id);
      for (Map<String, Object> call : fanOut) {
        assertSole(call, (String) call.get("name"));
        Map<String, Object> callee = one(childrenOf(kind(inventory, "SERVER"), call));
        assertThat(callee.get("name")).isEqualTo(call.get("name"));
      }
      for (Map<String, Object> s :
          List.of(frontClient, ordersServer, fanOut.get(0), fanOut.get(1))) {
        assertThat(s.get("traceId")).isEqualTo(root.get("traceId"));
      }
    }
    // Orders' timer calls with nothing in flight: each starts a trace of its own.
    assertThat(health).isNotEmpty();
    for (Map<String, Object> call : health) {
      assertThat(tags(call).get("hoptrace.link")).as(call.toString()).isEqualTo("root");
      assertThat(tags(call).get("hoptrace.candidates")).isEqualTo("0");
      assertThat(call).doesNotContainKey("parentId");
    }
    // Only the timer's calls are roots: every checkout's call was linked to a request.
    for (List<Map<String, Object>> log : List.of(front, orders)) {
      for (Map<String, Object> client : kind(log, "CLIENT")) {
        if (!client.get("name").equals("get /health")) {
          assertThat(tags(client).get("hoptrace.link")).isIn("sole", "inferred");
        }
      }
    }

    // The waterfall shown is one of the checkouts sent alone, rendered by the traces command.
    Matcher shown =
        Pattern.compile("(?m)^trace ([0-9a-f]{32})  front get /checkout/(\\d+)$").matcher(output);
    assertThat(shown.find()).as(output).isTrue();
    Map<String, Object> shownRoot =
        one(named(kind(front, "SERVER"), "get /checkout/" + shown.group(2)));
    assertThat(shownRoot.get("traceId")).isEqualTo(shown.group(1));
    assertThat(Integer.parseInt(shown.group(2))).isBetween(1, 32);
    assertThat(output).containsPattern("7 spans . front,orders,inventory");
    assertThat(output)
        .containsPattern("orders get /orders/" + shown.group(2) + " +SERVER 200  extracted");
  }

  @Test
  void keepRunning_servesThePage_andTheServicesAnswerCurl() throws Exception {
    List<String> fetched = new ArrayList<>();
    DemoCommand.StopSignal whileUp =
        (stop, stopErr) -> {
          String output = outBytes.toString(UTF_8);
          try {
            fetched.add(get(find(output, "waterfall page +(http://127\\.0\\.0\\.1:\\d+/)")));
            fetched.add(get(find(output, "a checkout +curl (http://\\S+)")));
          } catch (Exception e) {
            fetched.add(e.toString());
          } finally {
            stop.run();
          }
        };
    int exit =
        DemoCommand.run(
            new String[] {"--dir", dir.toString(), "--requests", "5", "--keep-running"},
            out,
            err,
            whileUp,
            false);

    assertThat(exit).as(outBytes.toString(UTF_8) + errBytes.toString(UTF_8)).isZero();
    assertThat(fetched).hasSize(2);
    assertThat(fetched.get(0)).containsIgnoringCase("<html");
    assertThat(fetched.get(1)).startsWith("checkout 42: order 42 (stock");
    assertThat(outBytes.toString(UTF_8)).contains("Still running (--keep-running); Ctrl-C stops.");
  }

  @Test
  void unknownOption_exits2_withUsage() {
    int exit = DemoCommand.run(new String[] {"--request", "5"}, out, err);
    assertThat(exit).isEqualTo(2);
    assertThat(errBytes.toString(UTF_8)).contains("unknown option --request").contains("usage:");
  }

  @Test
  void serveWithoutKeepRunning_exits2() {
    int exit = DemoCommand.run(new String[] {"--serve", "0"}, out, err);
    assertThat(exit).isEqualTo(2);
    assertThat(errBytes.toString(UTF_8)).contains("--serve needs --keep-running");
  }

  static String find(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertThat(m.find()).as(regex + " in\n" + text).isTrue();
    return m.group(1);
  }

  static String get(String url) throws Exception {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> r =
        client.send(
            HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString(UTF_8));
    assertThat(r.statusCode()).as(url + ": " + r.body()).isEqualTo(200);
    return r.body();
  }

  static void assertSole(Map<String, Object> client, String name) {
    assertThat(client.get("name")).isEqualTo(name);
    assertThat(tags(client).get("hoptrace.link")).as(client.toString()).isEqualTo("sole");
    assertThat(tags(client).get("hoptrace.candidates")).isEqualTo("1");
  }

  static void assertChildrenOfCallerClients(
      List<Map<String, Object>> servers, List<Map<String, Object>> callerLog) {
    Map<Object, Map<String, Object>> clients = new HashMap<>();
    for (Map<String, Object> c : kind(callerLog, "CLIENT")) clients.put(c.get("id"), c);
    for (Map<String, Object> server : servers) {
      Map<String, Object> parent = clients.get(server.get("parentId"));
      assertThat(parent).as("the caller's CLIENT span for %s", server).isNotNull();
      assertThat(server.get("traceId")).isEqualTo(parent.get("traceId"));
      assertThat(server.get("name")).isEqualTo(parent.get("name"));
    }
  }

  static List<Map<String, Object>> spans(Path log) throws Exception {
    List<Map<String, Object>> out = new ArrayList<>();
    for (String line : Files.readAllLines(log, UTF_8)) {
      if (!line.isBlank()) out.add(Json.object(line));
    }
    return out;
  }

  static List<Map<String, Object>> kind(List<Map<String, Object>> spans, String kind) {
    return spans.stream().filter(s -> kind.equals(s.get("kind"))).toList();
  }

  static List<Map<String, Object>> named(List<Map<String, Object>> spans, String name) {
    return spans.stream().filter(s -> name.equals(s.get("name"))).toList();
  }

  static List<Map<String, Object>> childrenOf(
      List<Map<String, Object>> spans, Map<String, Object> parent) {
    return spans.stream().filter(s -> parent.get("id").equals(s.get("parentId"))).toList();
  }

  static Map<String, Object> one(List<Map<String, Object>> spans) {
    assertThat(spans).hasSize(1);
    return spans.get(0);
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> tags(Map<String, Object> span) {
    return (Map<String, Object>) span.get("tags");
  }
}
