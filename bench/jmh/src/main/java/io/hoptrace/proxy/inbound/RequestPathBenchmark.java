package io.hoptrace.proxy.inbound;

import com.codahale.metrics.LockFreeExponentiallyDecayingReservoir;
import com.codahale.metrics.Meter;
import com.codahale.metrics.SlidingWindowReservoir;
import com.codahale.metrics.Timer;
import io.hoptrace.context.TraceContext;
import io.hoptrace.propagation.HeaderSetter;
import io.hoptrace.propagation.Injector;
import io.hoptrace.propagation.requestid.RequestIdCodec;
import io.hoptrace.propagation.w3c.TraceparentCodec;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.proxy.upstream.Carriers;
import io.hoptrace.proxy.upstream.HopByHop;
import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import java.util.Locale;
import java.util.Set;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * The per-request steps of the header/id path that session 14 changed, each as it was ({@code
 * before_*}, the old code copied here) and as it is ({@code after_*}), in one run (bench/README.md,
 * "Allocation per request (s14)"). Run with {@code -prof gc} for B/op. In this package because
 * {@link RouteKeys} is package-private.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class RequestPathBenchmark {
  /** The header names of a typical request and response, as a proxy checks them. */
  static final String[] HEADER_NAMES = {
    "Host", "User-Agent", "Accept", "Accept-Encoding", "traceparent", "tracestate",
    "X-Request-Id", "Content-Type", "Content-Length", "Connection", "Date", "Server"
  };

  static final Set<String> OLD_FIELDS =
      Set.of(
          "connection",
          "http2-settings",
          "keep-alive",
          "proxy-connection",
          "proxy-authenticate",
          "proxy-authorization",
          "te",
          "trailer",
          "transfer-encoding",
          "upgrade");

  final TraceContext context = TraceContext.newRoot(null);
  final RouteKeys routeKeys = new RouteKeys();
  final String[] oldRouteSlots = new String[256];
  final ProxyMetrics metrics = new ProxyMetrics();
  final Timer slidingWindowTimer = new Timer(new SlidingWindowReservoir(1028));
  final Timer lockFreeTimer = new Timer(LockFreeExponentiallyDecayingReservoir.builder().build());
  final Meter meter = new Meter();
  long high = 0x0af7651916cd43ddL;
  long low = 0x8448eb211c80319cL;
  String method = "GET";
  // A new path String per request, as Undertow's parser makes one.
  String pathTemplate = "/r/hoptrace-inbound";

  // --- request id: 36-char lowercase UUID text

  @Benchmark
  public String before_requestId() {
    char[] hex = new char[32];
    writeHexLong(high, hex, 0);
    writeHexLong(low, hex, 16);
    char[] out = new char[36];
    int o = 0;
    for (int i = 0; i < 32; i++) {
      if (i == 8 || i == 12 || i == 16 || i == 20) out[o++] = '-';
      out[o++] = hex[i];
    }
    return new String(out);
  }

  @Benchmark
  public String after_requestId() {
    return RequestIdCodec.toUuid(high, low);
  }

  // --- traceparent header value

  @Benchmark
  public String before_traceparent() {
    char[] buf = new char[TraceparentCodec.FORMAT_LENGTH];
    TraceparentCodec.write(context, buf);
    return new String(buf);
  }

  @Benchmark
  public String after_traceparent() {
    return TraceparentCodec.toString(context);
  }

  // --- hop-by-hop check of every header name of a request and a response

  @Benchmark
  public void before_hopByHop(Blackhole bh) {
    Set<String> tokens = oldConnectionTokens("keep-alive");
    for (String name : HEADER_NAMES) {
      String lower = name.toLowerCase(Locale.ROOT);
      bh.consume(OLD_FIELDS.contains(lower) || tokens.contains(lower));
    }
  }

  @Benchmark
  public void after_hopByHop(Blackhole bh) {
    Set<String> tokens = HopByHop.connectionTokens("keep-alive");
    for (String name : HEADER_NAMES) bh.consume(HopByHop.isHopByHop(name, tokens));
  }

  // --- route key and SERVER span name

  @Benchmark
  public void before_routeAndSpanName(Blackhole bh) {
    String path = new String(pathTemplate); // a fresh String per request, as parsed
    String key = method.toUpperCase(Locale.ROOT) + " " + path;
    int slot = key.hashCode() & 255;
    String cached = oldRouteSlots[slot];
    if (!key.equals(cached)) oldRouteSlots[slot] = key;
    else key = cached;
    bh.consume(key);
    bh.consume(method.toLowerCase(Locale.ROOT) + " " + path);
  }

  @Benchmark
  public void after_routeAndSpanName(Blackhole bh) {
    String path = new String(pathTemplate);
    RouteKeys.Route route = routeKeys.of(method, path);
    bh.consume(route.key());
    bh.consume(route.is(method, path) ? route.spanName() : RouteKeys.spanName(method, path));
  }

  // --- request metrics (unchanged: ProxyMetrics.requestDone, a Meter and a Timer with
  // Dropwizard's default ExponentiallyDecayingReservoir; the alternatives for comparison)

  // --- s16: the injector on the upstream request's headers (~9 managed names removed, then set)
  static final HeaderSetter<HeaderMap> OLD_SETTER =
      new HeaderSetter<>() {
        @Override
        public void set(HeaderMap carrier, String name, String value) {
          Carriers.UNDERTOW_SETTER.set(carrier, name, value);
        }

        @Override
        public void remove(HeaderMap carrier, String name) {
          carrier.remove(name); // hashes the name's characters on every call
        }
      };

  final Injector injector = Injector.newBuilder().build();

  /** The upstream request's headers as copied from a wrk request, before the injector runs. */
  static HeaderMap upstreamHeaders() {
    HeaderMap h = new HeaderMap();
    h.put(Headers.HOST, "127.0.0.1:8080");
    h.put(Headers.USER_AGENT, "wrk");
    h.put(Headers.ACCEPT, "*/*");
    return h;
  }

  @Benchmark
  public HeaderMap before_inject() {
    HeaderMap h = upstreamHeaders();
    injector.inject(context, h, OLD_SETTER);
    return h;
  }

  @Benchmark
  public HeaderMap after_inject() {
    HeaderMap h = upstreamHeaders();
    injector.inject(context, h, Carriers.UNDERTOW_SETTER);
    return h;
  }

  @Benchmark
  public void metrics_requestDone_edr() {
    metrics.requestDone(ProxyMetrics.Hop.INBOUND, 1_234_567L);
  }

  @Benchmark
  public void metrics_meterAndTimer_slidingWindow() {
    meter.mark();
    slidingWindowTimer.update(1_234_567L, TimeUnit.NANOSECONDS);
  }

  @Benchmark
  public void metrics_meterAndTimer_lockFreeEdr() {
    meter.mark();
    lockFreeTimer.update(1_234_567L, TimeUnit.NANOSECONDS);
  }

  static Set<String> oldConnectionTokens(String connection) {
    String[] parts = connection.split(",", -1);
    String[] names = new String[parts.length];
    int n = 0;
    for (String part : parts) {
      String token = part.strip().toLowerCase(Locale.ROOT);
      if (!token.isEmpty()) names[n++] = token;
    }
    return Set.of(java.util.Arrays.stream(names, 0, n).distinct().toArray(String[]::new));
  }

  static void writeHexLong(long v, char[] dst, int pos) {
    for (int i = 15; i >= 0; i--) {
      dst[pos + i] = "0123456789abcdef".charAt((int) (v & 0xf));
      v >>>= 4;
    }
  }
}
