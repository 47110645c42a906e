package io.hoptrace.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 1 GiB upload and a 1 GiB download through hoptrace running with a 128 MiB heap: the bodies must
 * stream, not accumulate. Bytes are compared by running CRC32, never buffered.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StreamingGibTest {
  static final long GIB = 1L << 30;

  @TempDir Path dir;

  @Test
  void oneGibUploadAndDownload_withSmallHeap_areByteExact() throws Exception {
    Path spanLog = dir.resolve("spans.log");
    Path gcLog = dir.resolve("gc.log");
    try (TestUpstream app = new TestUpstream();
        ChildHoptrace child =
            new ChildHoptrace(
                List.of("-Xmx128m", "-Xlog:gc:file=" + gcLog),
                Map.of(),
                "run",
                "--inbound",
                "127.0.0.1:0",
                "--app",
                "127.0.0.1:" + app.port(),
                "--span-log",
                spanLog.toString())) {
      int port = child.awaitInboundPort();
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      long expectedCrc = Patterns.crc(GIB);

      long t0 = System.nanoTime();
      HttpResponse<String> upload =
          client.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/sink"))
                  .POST(
                      HttpRequest.BodyPublishers.fromPublisher(
                          HttpRequest.BodyPublishers.ofInputStream(() -> Patterns.stream(GIB)),
                          GIB))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      long uploadMillis = (System.nanoTime() - t0) / 1_000_000;
      assertThat(upload.statusCode()).isEqualTo(200);
      assertThat(upload.body()).isEqualTo(GIB + " " + expectedCrc);

      t0 = System.nanoTime();
      HttpResponse<InputStream> download =
          client.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + port + "/source?bytes=" + GIB))
                  .build(),
              HttpResponse.BodyHandlers.ofInputStream());
      CRC32 crc = new CRC32();
      long received = 0;
      try (InputStream in = download.body()) {
        byte[] buffer = new byte[64 * 1024];
        for (int n; (n = in.read(buffer)) > 0; ) {
          crc.update(buffer, 0, n);
          received += n;
        }
      }
      long downloadMillis = (System.nanoTime() - t0) / 1_000_000;
      assertThat(download.statusCode()).isEqualTo(200);
      assertThat(received).isEqualTo(GIB);
      assertThat(crc.getValue()).isEqualTo(expectedCrc);

      assertThat(child.process.isAlive()).as("hoptrace survived").isTrue();
      assertThat(SpanLines.await(spanLog, 2)).hasSize(2);
      child.sigterm();
      assertThat(child.awaitExit()).isZero();
      List<String> gc = Files.readAllLines(gcLog);
      System.out.printf(
          "1 GiB upload %d ms, download %d ms, -Xmx128m; last GC lines:%n%s%n",
          uploadMillis,
          downloadMillis,
          String.join("\n", gc.subList(Math.max(0, gc.size() - 3), gc.size())));
    }
  }
}
