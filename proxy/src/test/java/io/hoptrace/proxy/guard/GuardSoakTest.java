package io.hoptrace.proxy.guard;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.proxy.RawUpstream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A soak with the guard in the path: for {@code hoptrace.soak.seconds} (default 8 in the suite;
 * {@code -Dhoptrace.soak.seconds=600} on demand) {@value #CLIENTS} clients send at a fixed rate,
 * each reconnecting every {@value #PER_CONNECTION} requests (keep-alive churn), alternating inbound
 * requests and outbound calls through the forward proxy, one in ten a bad input the guard refuses.
 * Afterwards: span lines == requests served + refusals, and heap (after GC), file descriptors and
 * RSS are flat between the first quarter and the end.
 */
@Timeout(value = 1, unit = TimeUnit.HOURS)
class GuardSoakTest extends GuardHarness {
  static final int CLIENTS = 4;
  static final int PER_SECOND = 50; // per client
  static final int PER_CONNECTION = 20;
  static final String BAD =
      "POST /bad HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n";

  final AtomicLong served = new AtomicLong();
  final AtomicLong refused = new AtomicLong();
  final AtomicLong failed = new AtomicLong();

  @Test
  void fixedRateWithChurnAndBadInput_spansMatch_resourcesFlat() throws Exception {
    long seconds = Long.getLong("hoptrace.soak.seconds", 8);
    start("outbound.port", "0", "limits.idle-timeout", "5s");
    InetSocketAddress proxy = hoptrace.outbound().forwardProxyAddress();
    ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    List<Future<?>> clients = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) clients.add(pool.submit(() -> client(end, proxy)));

    Thread.sleep(TimeUnit.SECONDS.toMillis(seconds) / 4);
    Resources early = Resources.now();
    for (Future<?> f : clients) f.get(seconds + 30, TimeUnit.SECONDS);
    pool.shutdown();
    Thread.sleep(500);
    Resources late = Resources.now();

    long expectedLines = served.get() + refused.get();
    List<String> lines = awaitSpans((int) expectedLines);
    System.out.printf(
        "soak %ds: served %d, refused %d, failed %d, span lines %d; heap %d→%d MiB, fds %d→%d,"
            + " rss %d→%d MiB%n",
        seconds,
        served.get(),
        refused.get(),
        failed.get(),
        lines.size(),
        early.heapMiB,
        late.heapMiB,
        early.fds,
        late.fds,
        early.rssMiB,
        late.rssMiB);
    assertThat(failed.get()).isZero();
    assertThat(served.get()).isGreaterThan(seconds * CLIENTS * PER_SECOND / 2);
    assertThat(lines).hasSize((int) expectedLines);
    assertThat(refusals(RefusalReason.BAD_TRANSFER_ENCODING)).isEqualTo(refused.get());
    assertThat(late.heapMiB).isLessThan(early.heapMiB + 32);
    assertThat(late.fds).isLessThan(early.fds + 20);
    assertThat(late.rssMiB).isLessThan(early.rssMiB + 128);
  }

  private void client(long end, InetSocketAddress proxy) {
    long interval = 1_000_000_000L / PER_SECOND;
    long next = System.nanoTime();
    int n = 0;
    try {
      while (System.nanoTime() < end) {
        try (Socket in = connect(inbound());
            Socket out = connect(proxy)) {
          for (int i = 0; i < PER_CONNECTION && System.nanoTime() < end; i++, n++) {
            long wait = next - System.nanoTime();
            if (wait > 0) Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            next += interval;
            if (n % 10 == 9) {
              Raw bad = Raw.send(inbound(), BAD, 3000);
              if (bad.status() == 400) refused.incrementAndGet();
              else failed.incrementAndGet();
            } else if (n % 2 == 0) {
              exchange(in, "GET /in/" + n + " HTTP/1.1\r\nHost: app\r\n\r\n");
            } else {
              exchange(
                  out,
                  "GET http://127.0.0.1:"
                      + app.port()
                      + "/out/"
                      + n
                      + " HTTP/1.1\r\nHost: 127.0.0.1:"
                      + app.port()
                      + "\r\n\r\n");
            }
          }
        }
      }
    } catch (IOException | InterruptedException e) {
      failed.incrementAndGet();
    }
  }

  private static Socket connect(InetSocketAddress to) throws IOException {
    Socket s = new Socket();
    s.connect(to, 3000);
    s.setSoTimeout(5000);
    return s;
  }

  /** One keep-alive exchange: the app answers 2 bytes with Content-Length. */
  private void exchange(Socket socket, String request) throws IOException {
    OutputStream out = socket.getOutputStream();
    out.write(request.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    String head = RawUpstream.readHead(socket.getInputStream());
    InputStream in = socket.getInputStream();
    int cl = head.toLowerCase(java.util.Locale.ROOT).indexOf("content-length:");
    int length =
        cl < 0 ? 0 : Integer.parseInt(head.substring(cl + 15, head.indexOf("\r\n", cl)).strip());
    byte[] body = in.readNBytes(length);
    if (head.startsWith("HTTP/1.1 200") && body.length == length) {
      served.incrementAndGet();
    } else {
      failed.incrementAndGet();
    }
  }

  record Resources(long heapMiB, long fds, long rssMiB) {
    static Resources now() throws IOException, InterruptedException {
      System.gc();
      Thread.sleep(200);
      long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() >> 20;
      long fds;
      try (var list = Files.list(Path.of("/proc/self/fd"))) {
        fds = list.count();
      }
      long rss = 0;
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) rss = Long.parseLong(line.replaceAll("[^0-9]", "")) >> 10;
      }
      return new Resources(heap, fds, rss);
    }
  }
}
