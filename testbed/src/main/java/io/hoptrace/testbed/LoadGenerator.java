package io.hoptrace.testbed;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Open-loop Poisson load on the front service: arrivals at exponential intervals whatever the
 * responses do (an overloaded system gets more load, not less), each a request to one of the
 * front's endpoints by weight, with a fresh {@code gt} id. Bounded in count and in time.
 */
final class LoadGenerator {
  /** {@code seconds} of arrivals at {@code rate} per second. */
  record Phase(double rate, double seconds) {}

  private final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private final Random random;
  final AtomicLong sent = new AtomicLong();
  final AtomicLong failed = new AtomicLong();

  LoadGenerator(long seed) {
    this.random = new Random(seed);
  }

  /** {@code count} requests one after the other (closed loop): the serial, all-"sole" case. */
  void runSerial(ToyApp front, int count) throws Exception {
    Topology.Endpoint endpoint = front.def.endpoints().get(0);
    for (int n = 0; n < count; n++) {
      HttpRequest request =
          HttpRequest.newBuilder(URI.create(front.url(target(endpoint, Truth.newGt()))))
              .timeout(Duration.ofSeconds(30))
              .build();
      sent.incrementAndGet();
      if (client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() != 200) {
        failed.incrementAndGet();
      }
    }
  }

  /**
   * The endpoint's path with its {@code {name}} segments drawn from their pools (seeded: the same
   * run draws the same entity ids), and the opaque ground-truth id.
   */
  private String target(Topology.Endpoint endpoint, String gt) {
    return Topology.withGt(Topology.fill(endpoint.path(), java.util.Map.of(), random), gt);
  }

  /** Runs {@code phases} in order against {@code front}; returns when every response is in. */
  void run(ToyApp front, List<Phase> phases, int maxRequests) throws InterruptedException {
    List<Topology.Endpoint> endpoints = front.def.endpoints();
    double weights = 0;
    for (Topology.Endpoint e : endpoints) weights += e.weight();
    List<CompletableFuture<?>> pending = new ArrayList<>();
    long next = System.nanoTime();
    int n = 0;
    for (Phase phase : phases) {
      long end = System.nanoTime() + (long) (phase.seconds() * 1e9);
      while (n < maxRequests) {
        next += (long) (-Math.log(1 - random.nextDouble()) / phase.rate() * 1e9);
        if (next - end > 0) {
          next = end;
          break;
        }
        long wait = next - System.nanoTime();
        if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
        double pick = random.nextDouble() * weights;
        Topology.Endpoint endpoint = endpoints.get(0);
        for (Topology.Endpoint e : endpoints) {
          pick -= e.weight();
          if (pick < 0) {
            endpoint = e;
            break;
          }
        }
        n++;
        HttpRequest request =
            HttpRequest.newBuilder(URI.create(front.url(target(endpoint, Truth.newGt()))))
                .timeout(Duration.ofSeconds(30))
                .build();
        sent.incrementAndGet();
        pending.add(
            client
                .sendAsync(request, HttpResponse.BodyHandlers.discarding())
                .handle(
                    (r, e) -> {
                      if (e != null || r.statusCode() != 200) failed.incrementAndGet();
                      return null;
                    }));
      }
    }
    try {
      CompletableFuture.allOf(pending.toArray(new CompletableFuture<?>[0]))
          .get(60, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      failed.incrementAndGet();
    }
  }
}
