package io.hoptrace.proxy.outbound;

import io.hoptrace.config.CidrRange;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The outbound hop's per-call steps that session 17 changed, each as it was ({@code before_*}, the
 * old code copied here) and as it is ({@code after_*}), in one run (bench/README.md, "Outbound path
 * (s17)"). Run with {@code -prof gc} for B/op. In this package because the stages' helpers are
 * package-private. The source check's "after" is an attachment lookup on the connection (not
 * benchmarked: it needs a live Undertow connection); its "before" is what it no longer does.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class OutboundPathBenchmark {
  final OutboundTarget target =
      Objects.requireNonNull(OutboundTarget.parseAuthority("127.0.0.1:8080", 0));
  final Set<Integer> ownPortsBefore = ConcurrentHashMap.newKeySet();
  final OwnPorts ownPorts = new OwnPorts();
  // the default outbound.allowed-sources
  final List<CidrRange> allowed =
      List.of(
          Objects.requireNonNull(CidrRange.parse("127.0.0.0/8")),
          Objects.requireNonNull(CidrRange.parse("::1/128")));
  final InetAddress caller = InetAddress.getLoopbackAddress();
  final SpanNames names = new SpanNames();
  final String method = "GET";
  String path = "/r/hoptrace-outbound";

  {
    for (int port : new int[] {15000, 15001, 15002}) {
      ownPortsBefore.add(port);
      ownPorts.add(port);
    }
  }

  /** The loop guard on an address literal: parse it, then ask whether the port is ours. */
  @Benchmark
  public InetAddress before_loopGuardLiteral() throws UnknownHostException {
    InetAddress[] addresses = InetAddress.getAllByName(target.host());
    return ownPortsBefore.contains(target.port()) ? null : addresses[0];
  }

  @Benchmark
  public InetAddress after_loopGuardLiteral() {
    List<InetAddress> addresses = Objects.requireNonNull(target.literalAddresses());
    return ownPorts.contains(target.port()) ? null : addresses.get(0);
  }

  /** The span line's remote address text. */
  @Benchmark
  public String before_addressText() {
    return Objects.requireNonNull(target.literalAddresses()).get(0).getHostAddress();
  }

  @Benchmark
  public String after_addressText() {
    return target.addressText(Objects.requireNonNull(target.literalAddresses()).get(0));
  }

  /** The source check per request, as it was (the ranges tested every time). */
  @Benchmark
  public boolean before_sourceCheck() {
    for (CidrRange range : allowed) {
      if (range.contains(caller)) return true;
    }
    return false;
  }

  /** The CLIENT span's name. */
  @Benchmark
  public String before_spanName() {
    return method.toLowerCase(Locale.ROOT) + " " + path;
  }

  @Benchmark
  public String after_spanName() {
    return names.of(method, path);
  }
}
