package io.hoptrace.proxy.tcp;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One TCP route, standalone, for {@code bench/redis.sh}: {@code java -cp hoptrace.jar
 * io.hoptrace.proxy.tcp.RelayBenchMain PROTOCOL UPSTREAM_HOST:PORT}. Listens on an ephemeral
 * loopback port and prints {@code listening <port>}; every span is built (context, link tags) and
 * counted, none is written, so what is measured is the relay and the observer. Prints the span
 * count when stopped (SIGTERM).
 */
public final class RelayBenchMain {
  private RelayBenchMain() {}

  public static void main(String[] args) throws IOException, InterruptedException {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    if (args.length != 2) {
      out.println("usage: RelayBenchMain redis|mysql|tcp UPSTREAM_HOST:PORT");
      System.exit(2);
    }
    TcpProtocol protocol = TcpProtocol.fromSetting("protocol", args[0]);
    TcpRoute route = TcpRoute.of("bench", "127.0.0.1", 0, args[1], protocol);
    AtomicLong spans = new AtomicLong();
    TcpRelay relay =
        TcpRelay.start(
            "bench",
            List.of(route),
            (r, app, proxy, t) -> TcpLink.root(),
            s -> spans.incrementAndGet());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  relay.close();
                  out.println("spans " + spans.get());
                  stopped.countDown();
                }));
    out.println("listening " + relay.port("bench"));
    stopped.await();
  }
}
