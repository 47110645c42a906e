package io.hoptrace.proxy.outbound;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.correlation.InboundRegistry;
import io.hoptrace.proxy.testing.EchoServer;
import io.hoptrace.proxy.testing.Service;
import io.hoptrace.proxy.testing.Service.Forwarding;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memory stays bounded whatever the app and its callers do. For {@code hoptrace.soak.seconds}
 * (default 60; run longer with {@code -Dhoptrace.soak.seconds=600}) a real hoptrace serves a steady
 * stream of requests, each with a unique X-Request-Id and each making one outbound call, while
 * {@value #HANGING} requests are held open and never answered. The ring advances every second and
 * keeps 3 generations, so its horizon is 3 s: after it the hanging requests have aged out of the
 * in-flight set (while their sockets are still open), and the registry's size and the heap after a
 * forced GC stay flat.
 */
class OutboundSoakTest {
  static final int HANGING = 50;
  static final int CLIENTS = 6;
  static final int PER_CLIENT_PER_SECOND = 40;

  @TempDir Path dir;

  @Test
  void uniqueRequestIdsAndRequestsThatNeverFinish_ringAndHeapStayFlat() throws Exception {
    long seconds = Long.getLong("hoptrace.soak.seconds", 60);
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    try (EchoServer callee = new EchoServer(false);
        Service app =
            Service.start(
                "soak",
                Forwarding.NONE,
                (exchange, out) -> {
                  if (exchange.getRequestURI().getPath().equals("/hang")) return null; // never

                  return out.get("http://127.0.0.1:" + callee.port() + "/work");
                },
                dir,
                Map.of(
                    "ring.generations", "3",
                    "ring.period", "1s",
                    "correlator.grace", "500ms",
                    "upstream.response-timeout", "1h",
                    "upstream.idle-timeout", "1h",
                    "span-log.path", dir.resolve("soak.spans.jsonl").toString()))) {
      InboundRegistry registry = app.hoptrace().registry();
      List<Socket> hanging = new ArrayList<>();
      ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
      AtomicLong ok = new AtomicLong();
      AtomicLong failed = new AtomicLong();
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      try {
        int port = app.hoptrace().inboundAddress().getPort();
        for (int i = 0; i < HANGING; i++) hanging.add(hang(port));
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<Future<?>> running = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
          running.add(
              clients.submit(
                  () -> {
                    long intervalNanos = TimeUnit.SECONDS.toNanos(1) / PER_CLIENT_PER_SECOND;
                    long next = System.nanoTime();
                    while (System.nanoTime() < end && !Thread.currentThread().isInterrupted()) {
                      try {
                        HttpResponse<String> r =
                            http.send(
                                HttpRequest.newBuilder(URI.create(app.url("/req")))
                                    .header("X-Request-Id", UUID.randomUUID().toString())
                                    .timeout(Duration.ofSeconds(10))
                                    .build(),
                                HttpResponse.BodyHandlers.ofString());
                        (r.statusCode() == 200 ? ok : failed).incrementAndGet();
                      } catch (Exception e) {
                        failed.incrementAndGet();
                      }
                      next += intervalNanos;
                      long sleep = next - System.nanoTime();
                      if (sleep > 0) TimeUnit.NANOSECONDS.sleep(sleep);
                    }
                    return null;
                  }));
        }

        // Sample every 2 s after a warm-up longer than the ring's horizon (3 s) and the JIT's.
        long warmupSeconds = Math.min(15, seconds / 3);
        Thread.sleep(TimeUnit.SECONDS.toMillis(warmupSeconds));
        int inFlightAfterHorizon = registry.inFlightCount();
        assertThat(inFlightAfterHorizon)
            .as("hanging requests aged out of the in-flight set after the horizon")
            .isLessThanOrEqualTo(CLIENTS);
        List<Long> held = new ArrayList<>();
        List<Long> heapMiB = new ArrayList<>();
        while (System.nanoTime() < end - TimeUnit.SECONDS.toNanos(2)) {
          System.gc();
          heapMiB.add(memory.getHeapMemoryUsage().getUsed() >> 20);
          held.add(registry.heldEntries());
          Thread.sleep(2000);
        }
        System.out.printf(
            "soak: %ds, ok=%d failed=%d, hanging=%d (in flight after the horizon: %d),"
                + " ringCapacity=%d, refused=%d%n"
                + "soak: held entries %s%nsoak: heap MiB after GC %s%n",
            seconds,
            ok.get(),
            failed.get(),
            HANGING,
            inFlightAfterHorizon,
            registry.ringCapacity(),
            registry.refusedCount(),
            held,
            heapMiB);

        for (Future<?> f : running) f.get(20, TimeUnit.SECONDS);
        assertThat(failed.get()).isZero();
        // Not a throughput test (the machine is shared): only enough traffic to fill the ring.
        assertThat(ok.get()).isGreaterThan(seconds * 5);
        for (Socket s : hanging) {
          assertThat(s.isClosed()).isFalse();
          int available = s.getInputStream().available();
          String answer =
              available == 0
                  ? ""
                  : new String(s.getInputStream().readNBytes(available), StandardCharsets.UTF_8);
          assertThat(answer).as("never answered").isEmpty();
        }
        // Flat: the ring holds at most (generations x entries per period) per index, so its size
        // stays within a band set by the request rate, never growing with time.
        long maxHeld = held.stream().mapToLong(Long::longValue).max().orElseThrow();
        long perSecond = (long) CLIENTS * PER_CLIENT_PER_SECOND;
        assertThat(maxHeld).isLessThan(4 * 3 * perSecond + 1000);
        assertThat(thirdMean(held, 2)).isLessThan(thirdMean(held, 0) * 1.5 + 100);
        assertThat(thirdMean(heapMiB, 2))
            .as("heap after GC, last third vs first third (MiB)")
            .isLessThan(thirdMean(heapMiB, 0) + 16);
      } finally {
        clients.shutdownNow();
        clients.awaitTermination(15, TimeUnit.SECONDS);
        for (Socket s : hanging) s.close();
      }
    }
  }

  /** A request that is sent and never answered: its connection stays open until the test ends. */
  static Socket hang(int port) throws Exception {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
    OutputStream out = socket.getOutputStream();
    out.write(
        ("GET /hang HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: " + UUID.randomUUID() + "\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    InputStream unused = socket.getInputStream();
    return socket;
  }

  /** Mean of the {@code which}-th third (0, 1, 2) of the samples. */
  static double thirdMean(List<Long> samples, int which) {
    int n = samples.size() / 3;
    return samples.subList(which * n, (which + 1) * n).stream()
        .mapToLong(Long::longValue)
        .average()
        .orElse(0);
  }
}
