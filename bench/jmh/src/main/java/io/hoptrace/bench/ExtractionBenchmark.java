package io.hoptrace.bench;

import io.hoptrace.context.TraceContext;
import io.hoptrace.propagation.CompositeExtractor;
import io.hoptrace.propagation.Extraction;
import io.hoptrace.propagation.HeaderGetter;
import io.hoptrace.propagation.HeaderSetter;
import io.hoptrace.propagation.Injector;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
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
 * Extraction from a realistic request: 12 headers including traceparent, tracestate and a request
 * id, in a case-insensitive {@link TreeMap} (like a server's header map) and in a {@link HashMap}
 * keyed by the exact names the extractor asks for (the map's own cost, nearly removed).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class ExtractionBenchmark {
  static final HeaderGetter<Map<String, String>> GETTER = ExtractionBenchmark::get;
  static final HeaderSetter<Map<String, String>> SETTER =
      new HeaderSetter<>() {
        @Override
        public void set(Map<String, String> carrier, String name, String value) {
          carrier.put(name, value);
        }

        @Override
        public void remove(Map<String, String> carrier, String name) {
          carrier.remove(name);
        }
      };

  static @Nullable String get(Map<String, String> carrier, String name) {
    return carrier.get(name);
  }

  static final CompositeExtractor EXTRACTOR = CompositeExtractor.newBuilder().build();
  static final Injector INJECTOR = Injector.newBuilder().build();

  Map<String, String> treeMap = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
  Map<String, String> hashMap = new HashMap<>();
  Map<String, String> treeMapNoContext = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
  Map<String, String> treeMapInvalid = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
  TraceContext serverContext;

  public ExtractionBenchmark() {
    Map<String, String> h = new HashMap<>();
    h.put("Host", "orders.internal:8080");
    h.put("User-Agent", "okhttp/4.12.0");
    h.put("Accept", "application/json");
    h.put("Accept-Encoding", "gzip");
    h.put("Content-Type", "application/json; charset=utf-8");
    h.put("Content-Length", "348");
    h.put("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.abc");
    h.put("X-Forwarded-For", "10.1.2.3");
    h.put("Connection", "keep-alive");
    h.put("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    h.put("tracestate", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    h.put("X-Request-Id", "6ba7b810-9dad-41d1-80b4-00c04fd430c8");
    treeMap.putAll(h);
    hashMap.putAll(h);
    treeMapNoContext.putAll(h);
    treeMapNoContext.remove("traceparent");
    treeMapNoContext.remove("tracestate");
    treeMapInvalid.putAll(h);
    treeMapInvalid.put("traceparent", "00-0af7651916cd43dd8448eb211c80319c-00000000000000-01");
    serverContext = EXTRACTOR.extract(hashMap, GETTER, true).newServerContext();
  }

  @Benchmark
  public Extraction extract_traceparent_treeMap() {
    return EXTRACTOR.extract(treeMap, GETTER, true);
  }

  @Benchmark
  public Extraction extract_traceparent_hashMap() {
    return EXTRACTOR.extract(hashMap, GETTER, true);
  }

  @Benchmark
  public Extraction extract_requestIdOnly_treeMap() {
    return EXTRACTOR.extract(treeMapNoContext, GETTER, true);
  }

  @Benchmark
  public Extraction extract_invalid_treeMap() {
    return EXTRACTOR.extract(treeMapInvalid, GETTER, true);
  }

  @Benchmark
  public Map<String, String> inject_hashMap() {
    INJECTOR.inject(serverContext, hashMap, SETTER);
    return hashMap;
  }
}
