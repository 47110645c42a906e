package io.hoptrace.proxy.guard;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the head guard adds per request: one scan of a typical request head (and of a request with a
 * 1 KiB Content-Length body) in a direct buffer, as Undertow reads into one. The baseline is the
 * least any HTTP/1.1 reader does with the same bytes: find the end of the head (CRLF CRLF). In this
 * package because the scanner is package-private. Run with {@code -prof gc}: 0 B/op is the claim.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
@SuppressWarnings("StringConcatToTextBlock") // raw CRLF requests read better as lines
public class HeadScannerBenchmark {
  static final String HEAD =
      "GET /api/v1/orders/42?include=items&currency=EUR HTTP/1.1\r\n"
          + "Host: orders.internal:8080\r\n"
          + "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36\r\n"
          + "Accept: application/json, text/plain, */*\r\n"
          + "Accept-Encoding: gzip, deflate, br\r\n"
          + "Accept-Language: en-US,en;q=0.9\r\n"
          + "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"
          + "tracestate: rojo=00f067aa0ba902b7,congo=t61rcWkgMzE\r\n"
          + "X-Request-Id: 7f2c1e9a-4b1d-4c8e-9f3a-2d6b8e1c0a57\r\n"
          + "Cookie: session=3b1f0c2a9e8d7c6b5a4f3e2d1c0b9a8f; theme=dark\r\n"
          + "\r\n";
  static final String POST =
      "POST /api/v1/orders HTTP/1.1\r\nHost: orders.internal:8080\r\n"
          + "Content-Type: application/json\r\nContent-Length: 1024\r\n\r\n"
          + "x".repeat(1024);

  ByteBuffer head;
  ByteBuffer post;
  HeadScanner scanner;

  @Setup
  public void setUp() {
    head = direct(HEAD);
    post = direct(POST);
    scanner = new HeadScanner(8192, 32768, 100);
  }

  private static ByteBuffer direct(String s) {
    byte[] bytes = s.getBytes(StandardCharsets.ISO_8859_1);
    ByteBuffer b = ByteBuffer.allocateDirect(bytes.length);
    b.put(bytes).flip();
    return b;
  }

  /** One head; the scanner ends ready for the next one, as on a kept-alive connection. */
  @Benchmark
  public int scan_head() {
    return scanner.scan(head, 0, head.limit());
  }

  @Benchmark
  public int scan_postWith1KiBBody() {
    return scanner.scan(post, 0, post.limit());
  }

  /** The baseline: the index after CRLF CRLF, byte by byte. */
  @Benchmark
  public int baseline_findEndOfHead() {
    ByteBuffer b = head;
    int n = b.limit();
    int state = 0;
    for (int i = 0; i < n; i++) {
      byte c = b.get(i);
      if (c == '\r') {
        state = state == 2 ? 3 : 1;
      } else if (c == '\n' && (state == 1 || state == 3)) {
        if (state == 3) return i + 1;
        state = 2;
      } else {
        state = 0;
      }
    }
    return -1;
  }
}
