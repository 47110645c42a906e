package io.hoptrace.traces.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.hoptrace.traces.Fixtures;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ExportCommandTest {
  HttpServer backend;
  final List<byte[]> bodies = new CopyOnWriteArrayList<>();
  final List<String> paths = new CopyOnWriteArrayList<>();
  final AtomicInteger status = new AtomicInteger(202);
  final AtomicInteger failFirst = new AtomicInteger();

  @BeforeEach
  void start() throws IOException {
    backend = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
    backend.createContext(
        "/",
        exchange -> {
          paths.add(exchange.getRequestURI().getPath());
          bodies.add(exchange.getRequestBody().readAllBytes());
          int code = failFirst.getAndDecrement() > 0 ? 503 : status.get();
          exchange.sendResponseHeaders(code, -1);
          exchange.close();
        });
    backend.start();
  }

  @AfterEach
  void stop() {
    backend.stop(0);
  }

  String url() {
    return "http://127.0.0.1:" + backend.getAddress().getPort();
  }

  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        ExportCommand.run(
            args, new PrintStream(out, true, UTF_8), new PrintStream(err, true, UTF_8));
    return new Result(code, out.toString(UTF_8), err.toString(UTF_8));
  }

  @Test
  void zipkin_sendsEverySpanLineUnchangedInBatches() {
    Result r = run("--zipkin", url(), "--batch-size", "3", Fixtures.logs().toString());
    assertThat(r.code()).isZero();
    assertThat(r.out())
        .isEqualTo(
            "exported 8 of 8 spans in 3 batches to "
                + url()
                + "/api/v2/spans; 2 malformed lines skipped\n");
    assertThat(paths).containsOnly("/api/v2/spans");
    String first = new String(bodies.get(0), UTF_8);
    assertThat(first).startsWith("[{\"traceId\":").endsWith("}]");
  }

  @Test
  void zipkin_transientFailure_isRetried() {
    failFirst.set(2);
    Result r = run("--zipkin", url(), "--trace", Fixtures.HEALTH, Fixtures.logs().toString());
    assertThat(r.code()).isZero();
    assertThat(r.out()).startsWith("exported 1 of 1 spans in 1 batch");
    assertThat(bodies).hasSize(3);
  }

  @Test
  void zipkin_refused_exits1AndSaysWhy() {
    status.set(400);
    Result r = run("--zipkin", url(), Fixtures.logs().toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("batch of 8 spans not accepted: HTTP 400");
    assertThat(r.out()).startsWith("exported 0 of 8 spans");
    assertThat(bodies).hasSize(1); // a 4xx is not retried
  }

  @Test
  void otlp_postsAProtobufRequestPerBatch() throws Exception {
    status.set(200);
    Result r = run("--otlp", url(), "--trace", Fixtures.CHECKOUT, Fixtures.logs().toString());
    assertThat(r.code()).isZero();
    assertThat(paths).containsExactly("/v1/traces");
    ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(bodies.get(0));
    int spans = 0;
    for (ResourceSpans rs : request.getResourceSpansList()) {
      spans += rs.getScopeSpans(0).getSpansCount();
    }
    assertThat(spans).isEqualTo(6);
  }

  @Test
  void otlpJson_postsJson() {
    status.set(200);
    Result r = run("--otlp", url() + "/custom/path", "--otlp-json", Fixtures.logs().toString());
    assertThat(r.code()).isZero();
    assertThat(paths).containsExactly("/custom/path");
    assertThat(new String(bodies.get(0), UTF_8)).startsWith("{\"resourceSpans\":[");
  }

  @Test
  void badUsage_exits2() {
    assertThat(run(Fixtures.logs().toString()).err())
        .contains("give exactly one of --zipkin URL or --otlp URL");
    assertThat(run("--zipkin", url()).err()).contains("no span logs given");
    assertThat(run("--zipkin", "ftp://x", "f").code()).isEqualTo(2);
    assertThat(run("--zipkin", "ftp://x", "f").err()).contains("--zipkin: ftp://x (expected:");
    assertThat(run("--zipkin", url(), "--batch-size", "0", "f").err())
        .contains("--batch-size: 0 (expected: 1..100000)");
    assertThat(run("--zipkin", url(), "--bogus").code()).isEqualTo(2);
    assertThat(run("--help").out()).contains("usage: hoptrace export");
  }

  @Test
  void unreachableBackend_exits1AfterRetries() throws Exception {
    int port;
    try (java.net.ServerSocket s =
        new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Result r =
        run(
            "--zipkin",
            "http://127.0.0.1:" + port,
            "--retries",
            "1",
            "--timeout",
            "2s",
            Fixtures.logs().toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("not accepted: ConnectException");
  }
}
