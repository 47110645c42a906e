package io.hoptrace.proxy.spanlog;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The writer hands each encoded line to its listener (the exporters, the admin page). */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class SpanLogWriterListenerTest {
  @TempDir Path dir;

  @Test
  void listener_getsEveryLine_asWrittenWithoutTheNewline_eachItsOwnArray() throws Exception {
    Path file = dir.resolve("spans.log");
    List<byte[]> seen = Collections.synchronizedList(new ArrayList<>());
    SpanLogWriter writer =
        new SpanLogWriter(
            SpanLogWriterTest.settings(file.toString(), 0, Duration.ZERO, 10_000), seen::add);
    for (int i = 0; i < 3000; i++) assertThat(writer.offer(SpanLogWriterTest.span(i))).isTrue();
    writer.close();

    List<String> written = Files.readAllLines(file, UTF_8);
    assertThat(seen).hasSize(3000);
    for (int i = 0; i < seen.size(); i++) {
      // Copies, not views of the reused buffer: each still holds its own line after the batch.
      assertThat(new String(seen.get(i), UTF_8)).isEqualTo(written.get(i));
    }
    assertThat(SpanLogWriterTest.name(new String(seen.get(2999), UTF_8))).isEqualTo("get /2999");
  }

  @Test
  void listenerThatThrows_doesNotStopTheSpanLog() throws Exception {
    Path file = dir.resolve("spans.log");
    SpanLogWriter writer =
        new SpanLogWriter(
            SpanLogWriterTest.settings(file.toString(), 0, Duration.ZERO, 100),
            line -> {
              throw new IllegalStateException("listener bug");
            });
    for (int i = 0; i < 10; i++) writer.offer(SpanLogWriterTest.span(i));
    writer.close();
    assertThat(SpanLogWriterTest.names(file)).hasSize(10);
    assertThat(writer.written()).isEqualTo(10);
  }
}
