package io.undertow.server.handlers;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.Protocols;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Undertow's Host check on a request that passes it, as Undertow 2.4.4 ships it ({@code original},
 * the class read from the undertow-core jar given by {@code -p undertowJar=...}) and as hoptrace's
 * patched copy does it ({@code patched}, the class in this jar): bench/README.md, "Host header
 * check (s17)". Run with {@code -prof gc} for B/op. The exchange has no connection (the passing
 * path never touches it); the next handler does nothing.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class HostHeaderHandlerBenchmark {
  @Param({"127.0.0.1:8080", "app.example.com", "[::1]:8080"})
  public String host;

  @Param({
    "${user.home}/.m2/repository/io/undertow/undertow-core/2.4.4.Final/undertow-core-2.4.4.Final.jar"
  })
  public String undertowJar;

  HttpServerExchange exchange;
  HttpHandler original;
  HttpHandler patched;

  /** Defines Undertow's own HostHeaderHandler classes from the jar; everything else from ours. */
  static final class OriginalLoader extends ClassLoader {
    final String jar;

    OriginalLoader(String jar, ClassLoader parent) {
      super(parent);
      this.jar = jar;
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      if (!name.startsWith(HostHeaderHandler.class.getName()))
        return super.loadClass(name, resolve);
      synchronized (getClassLoadingLock(name)) {
        Class<?> loaded = findLoadedClass(name);
        if (loaded != null) return loaded;
        String entry = "jar:file:" + jar + "!/" + name.replace('.', '/') + ".class";
        try (InputStream in = new URL(entry).openStream()) {
          byte[] bytes = in.readAllBytes();
          return defineClass(name, bytes, 0, bytes.length);
        } catch (IOException e) {
          throw new ClassNotFoundException(entry, e);
        }
      }
    }
  }

  @Setup
  public void setUp() throws Exception {
    HttpHandler next = exchange -> {};
    String jar = undertowJar.replace("${user.home}", System.getProperty("user.home"));
    Class<?> originalClass =
        new OriginalLoader(jar, HostHeaderHandlerBenchmark.class.getClassLoader())
            .loadClass(HostHeaderHandler.class.getName());
    for (java.lang.reflect.Field field : originalClass.getDeclaredFields()) {
      if (field.getName().equals("PATCHED_FOR_UNDERTOW"))
        throw new IllegalStateException("not Undertow's class: " + jar);
    }
    original = (HttpHandler) originalClass.getConstructor(HttpHandler.class).newInstance(next);
    patched = new HostHeaderHandler(next);
    exchange = new HttpServerExchange(null);
    exchange.setProtocol(Protocols.HTTP_1_1);
    exchange.getRequestHeaders().put(Headers.HOST, host);
  }

  @Benchmark
  public HttpServerExchange original() throws Exception {
    original.handleRequest(exchange);
    return exchange;
  }

  @Benchmark
  public HttpServerExchange patched() throws Exception {
    patched.handleRequest(exchange);
    return exchange;
  }
}
