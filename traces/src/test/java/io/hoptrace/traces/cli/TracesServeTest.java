package io.hoptrace.traces.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.traces.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class TracesServeTest {
  @Test
  void serve_portZero_printsTheUrlAndServesTheApi() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, UTF_8);
    TracesCommand.Environment env =
        new TracesCommand.Environment(() -> 0L, Map.of(), false, System::nanoTime);
    Thread server =
        new Thread(
            () ->
                TracesCommand.run(
                    new String[] {"--serve", "0", Fixtures.logs().toString()}, out, out, env));
    server.start();
    try {
      Pattern url = Pattern.compile("serving (http://127\\.0\\.0\\.1:\\d+/)");
      String base = null;
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (base == null && System.nanoTime() < deadline) {
        Matcher m = url.matcher(bytes.toString(UTF_8));
        if (m.find()) {
          base = m.group(1);
        } else {
          Thread.sleep(20);
        }
      }
      assertThat(base).as("the printed URL").isNotNull();
      HttpResponse<String> r =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(base + "api/traces/" + Fixtures.CHECKOUT))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).contains("\"spanCount\":6");
    } finally {
      server.interrupt();
      server.join(10_000);
    }
    assertThat(server.isAlive()).isFalse();
  }
}
