package io.undertow.client.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.undertow.PatchedLoaders;
import io.undertow.Version;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * hoptrace's {@code HttpRequestConduit} against Undertow 2.4.4's original: each loaded in its own
 * class loader over the test class path's jars — one with Undertow's jar alone (the original
 * class), one with proxy/target/classes in front (ours) — and driven by reflection as {@code
 * HttpClientConnection} and a caller of the request channel drive it. Each request (methods, paths
 * with queries, header maps with repeated names, empty and emptied fields, values longer than a
 * buffer) is written through a buffer pool of 16 to 16,384 bytes into a sink that takes a few bytes
 * per write and now and then none (a seeded schedule, the same for both), by flushes alone, by
 * writes of a body in one buffer or two, after a shutdown, or cut short by a truncation. After
 * every call its result or exception, the calls it made on the sink and the pool, the bytes the
 * sink took and the conduit's state (state word, character index, pending text, header name, buffer
 * held and its position and limit) must be the same for both.
 */
class HttpRequestConduitDifferentialTest {
  static PatchedLoaders loaders;
  static Writer original;
  static Writer ours;

  /** One loader's classes, by reflection. */
  record Writer(
      ClassLoader loader,
      Constructor<?> conduit,
      Class<?> sinkConduit,
      Class<?> bufferPool,
      Class<?> pooledBuffer,
      Constructor<?> clientRequest,
      Constructor<?> httpString,
      Method fromCache,
      Field state,
      Field charIndex,
      Field string,
      Field headerName,
      Field pooled,
      Method truncateWrites,
      Method freeBuffers,
      Method terminateWrites,
      Method write,
      Method writeArray,
      Method flush) {
    static Writer of(ClassLoader loader) throws Exception {
      Class<?> conduit = loader.loadClass("io.undertow.client.http.HttpRequestConduit");
      Class<?> sink = loader.loadClass("org.xnio.conduits.StreamSinkConduit");
      Class<?> pool = loader.loadClass("io.undertow.connector.ByteBufferPool");
      Class<?> request = loader.loadClass("io.undertow.client.ClientRequest");
      Class<?> httpString = loader.loadClass("io.undertow.util.HttpString");
      Constructor<?> make = conduit.getDeclaredConstructor(sink, pool, request);
      make.setAccessible(true);
      List<Field> fields = new ArrayList<>();
      for (String name : List.of("state", "charIndex", "string", "headerName", "pooledBuffer")) {
        Field f = conduit.getDeclaredField(name);
        f.setAccessible(true);
        fields.add(f);
      }
      return new Writer(
          loader,
          make,
          sink,
          pool,
          loader.loadClass("io.undertow.connector.PooledByteBuffer"),
          request.getConstructor(),
          httpString.getConstructor(String.class),
          loader.loadClass("io.undertow.util.Headers").getMethod("fromCache", String.class),
          fields.get(0),
          fields.get(1),
          fields.get(2),
          fields.get(3),
          fields.get(4),
          accessible(conduit.getMethod("truncateWrites")),
          accessible(conduit.getMethod("freeBuffers")),
          accessible(conduit.getMethod("terminateWrites")),
          accessible(conduit.getMethod("write", ByteBuffer.class)),
          accessible(conduit.getMethod("write", ByteBuffer[].class, int.class, int.class)),
          accessible(conduit.getMethod("flush")));
    }

    // the class is package-private (and in another loader's package): its public methods too
    static Method accessible(Method m) {
      m.setAccessible(true);
      return m;
    }

    Object httpString(String s) throws Exception {
      Object cached = fromCache.invoke(null, s);
      return cached != null ? cached : httpString.newInstance(s);
    }

    /** The request in this loader's classes. */
    Object request(Req r) throws Exception {
      Object request = clientRequest.newInstance();
      Class<?> c = request.getClass();
      Class<?> hs = httpString.getDeclaringClass();
      c.getMethod("setMethod", hs).invoke(request, httpString(r.method));
      c.getMethod("setPath", String.class).invoke(request, r.path);
      c.getMethod("setProtocol", hs).invoke(request, httpString(r.protocol));
      Object headers = c.getMethod("getRequestHeaders").invoke(request);
      Method add = headers.getClass().getMethod("add", hs, String.class);
      Method get = headers.getClass().getMethod("get", hs);
      Method remove = headers.getClass().getMethod("remove", hs);
      for (String[] field : r.fields) {
        Object name = httpString(field[0]);
        if (field[1] == null) {
          remove.invoke(headers, name); // leaves a hole in its table row
        } else if (field[1].equals("\0clear")) {
          Object values = get.invoke(headers, name);
          if (values != null) values.getClass().getMethod("clear").invoke(values);
        } else {
          add.invoke(headers, name, field[1]);
        }
      }
      return request;
    }

    /** Writes {@code r} as {@code how} says; everything seen, as text. */
    String run(Req r, How how) throws Exception {
      Sink sink = new Sink(how.seed, how.maxPerWrite);
      StringBuilder out = sink.log;
      Object pool =
          Proxy.newProxyInstance(
              loader, new Class<?>[] {bufferPool}, new Pool(how.bufferSize, out));
      Object next = Proxy.newProxyInstance(loader, new Class<?>[] {sinkConduit}, sink);
      Object conduit;
      try {
        conduit = this.conduit.newInstance(next, pool, request(r));
      } catch (InvocationTargetException e) {
        return out.append("new: ").append(e.getCause()).toString();
      }
      ByteBuffer[] body = how.body(); // this loader's own, the same bytes
      int calls = 0;
      boolean flushed = false;
      int step = 0;
      while (calls++ < 100_000) {
        Object result;
        String op;
        try {
          if (how.op == Op.TRUNCATE && step == how.truncateAfter) {
            op = "truncateWrites";
            result = truncateWrites.invoke(conduit);
          } else if (how.op == Op.FREE && step == how.truncateAfter) {
            op = "freeBuffers";
            result = freeBuffers.invoke(conduit);
          } else if (how.op == Op.SHUTDOWN && step == 0) {
            op = "terminateWrites";
            result = terminateWrites.invoke(conduit);
          } else if (how.op == Op.WRITE && body[0].hasRemaining()) {
            op = "write";
            result = write.invoke(conduit, body[0]);
          } else if (how.op == Op.WRITE_ARRAY
              && (body[0].hasRemaining() || body[1].hasRemaining())) {
            op = "write[]";
            result = writeArray.invoke(conduit, body, 0, 2);
          } else {
            op = "flush";
            result = flush.invoke(conduit);
            flushed = Boolean.TRUE.equals(result);
          }
        } catch (InvocationTargetException e) {
          Throwable t = e.getCause();
          out.append("! ")
              .append(t.getClass().getName())
              .append(": ")
              .append(t.getMessage())
              .append('\n');
          state(conduit, out);
          break;
        }
        step++;
        out.append(op).append(" -> ").append(result).append('\n');
        state(conduit, out);
        if (flushed) break;
      }
      out.append("wire:\n")
          .append(new String(sink.wire.toByteArray(), StandardCharsets.ISO_8859_1));
      return out.toString();
    }

    // a value may be 20 kB, printed after every call: its length and hash stand for it
    static String text(@Nullable Object s) {
      return s == null ? "null" : ((String) s).length() + "#" + s.hashCode();
    }

    void state(Object conduit, StringBuilder out) throws Exception {
      Object buffer = pooled.get(conduit);
      ByteBuffer b =
          buffer == null ? null : (ByteBuffer) pooledBuffer.getMethod("getBuffer").invoke(buffer);
      out.append("  state ")
          .append(Integer.toHexString(state.getInt(conduit)))
          .append(" char ")
          .append(charIndex.getInt(conduit))
          .append(" string ")
          .append(text(string.get(conduit)))
          .append(" name ")
          .append(headerName.get(conduit))
          .append(" buffer ")
          .append(b == null ? "none" : b.position() + "/" + b.limit() + "/" + b.capacity())
          .append('\n');
    }
  }

  /** The next conduit: takes up to a few bytes per write, now and then none, as scheduled. */
  static final class Sink implements InvocationHandler {
    final Random schedule;
    final int maxPerWrite;
    final StringBuilder log = new StringBuilder();
    final ByteArrayOutputStream wire = new ByteArrayOutputStream();

    Sink(long seed, int maxPerWrite) {
      this.schedule = new Random(seed);
      this.maxPerWrite = maxPerWrite;
    }

    int allowance() {
      // one write in four takes nothing; the others 1..maxPerWrite bytes
      return schedule.nextInt(4) == 0 ? 0 : 1 + schedule.nextInt(maxPerWrite);
    }

    long take(ByteBuffer[] srcs, int offset, int length) {
      int allowed = allowance();
      long taken = 0;
      for (int i = offset; i < offset + length && allowed > 0; i++) {
        ByteBuffer src = srcs[i];
        while (src.hasRemaining() && allowed > 0) {
          wire.write(src.get());
          allowed--;
          taken++;
        }
      }
      return taken;
    }

    @Override
    public @Nullable Object invoke(Object proxy, Method method, Object @Nullable [] args) {
      String name = method.getName();
      Class<?>[] types = method.getParameterTypes();
      Object result;
      if ((name.equals("write") || name.equals("writeFinal")) && types.length == 1) {
        result = (int) take(new ByteBuffer[] {(ByteBuffer) args[0]}, 0, 1);
      } else if ((name.equals("write") || name.equals("writeFinal")) && types.length == 3) {
        result = take((ByteBuffer[]) args[0], (Integer) args[1], (Integer) args[2]);
      } else if (name.equals("flush")) {
        result = true;
      } else if (name.equals("toString")) {
        return "sink";
      } else if (name.equals("hashCode")) {
        return 0;
      } else if (method.getReturnType() == boolean.class) {
        result = false;
      } else if (method.getReturnType() == long.class) {
        result = 0L;
      } else if (method.getReturnType() == int.class) {
        result = 0;
      } else {
        result = null;
      }
      log.append("  sink.").append(name).append(" -> ").append(result).append('\n');
      return result;
    }
  }

  /** A pool of heap buffers of one size that logs what it hands out and what comes back. */
  static final class Pool implements InvocationHandler {
    final int size;
    final StringBuilder log;
    int allocated;

    Pool(int size, StringBuilder log) {
      this.size = size;
      this.log = log;
    }

    @Override
    public @Nullable Object invoke(Object proxy, Method method, Object @Nullable [] args) {
      return switch (method.getName()) {
        case "allocate" -> allocate(method.getReturnType());
        case "getBufferSize" -> size;
        case "isDirect" -> false;
        case "hashCode" -> 0;
        case "toString" -> "pool";
        default -> null;
      };
    }

    Object allocate(Class<?> pooled) {
      int id = ++allocated;
      log.append("  pool.allocate #").append(id).append('\n');
      ByteBuffer buffer = ByteBuffer.allocate(size);
      return Proxy.newProxyInstance(
          pooled.getClassLoader(),
          new Class<?>[] {pooled},
          (p, m, a) ->
              switch (m.getName()) {
                case "getBuffer" -> buffer;
                case "close" -> {
                  log.append("  pool.close #").append(id).append('\n');
                  yield null;
                }
                case "isOpen" -> true;
                case "equals" -> p == a[0];
                case "hashCode" -> id;
                default -> "buffer #" + id;
              });
    }
  }

  /** A request: method, path, protocol, and fields added in order (null value: removed). */
  record Req(String method, String path, String protocol, List<String[]> fields) {
    @Override
    public String toString() {
      StringBuilder b = new StringBuilder(method + " " + path + " " + protocol);
      for (String[] f : fields) b.append(" | ").append(f[0]).append('=').append(f[1]);
      return b.length() > 300 ? b.substring(0, 300) + "…" : b.toString();
    }
  }

  enum Op {
    FLUSH,
    WRITE,
    WRITE_ARRAY,
    SHUTDOWN,
    TRUNCATE,
    FREE
  }

  /** How a request is written: pool size, the sink's schedule, and which calls. */
  record How(Op op, int bufferSize, long seed, int maxPerWrite, int bodyLength, int truncateAfter) {
    ByteBuffer[] body() {
      byte[] bytes = new byte[bodyLength];
      for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) ('a' + i % 26);
      int half = bodyLength / 2;
      return new ByteBuffer[] {
        ByteBuffer.wrap(bytes, 0, half).slice(), ByteBuffer.wrap(bytes, half, bodyLength - half)
      };
    }
  }

  @BeforeAll
  static void loadBoth() throws Exception {
    loaders = PatchedLoaders.of(HttpRequestConduit.class);
    original = Writer.of(loaders.original());
    ours = Writer.of(loaders.ours());
  }

  @AfterAll
  static void closeBoth() throws Exception {
    loaders.close();
  }

  static String[] f(String name, @Nullable String value) {
    return new String[] {name, value};
  }

  static String repeat(char c, int n) {
    return String.valueOf(c).repeat(n);
  }

  static List<Req> corpus() {
    List<Req> c = new ArrayList<>();
    // what the same-loop transport sends
    c.add(
        new Req(
            "GET",
            "/index.html?a=1&b=2",
            "HTTP/1.1",
            List.<String[]>of(
                f("Host", "127.0.0.1:8081"),
                f("User-Agent", "wrk"),
                f("Accept", "*/*"),
                f("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
                f("X-Forwarded-For", "127.0.0.1"))));
    c.add(new Req("GET", "/", "HTTP/1.1", List.of()));
    c.add(new Req("HEAD", "/", "HTTP/1.0", List.<String[]>of(f("Host", "h"))));
    c.add(
        new Req(
            "POST",
            "/upload?x=" + repeat('q', 40),
            "HTTP/1.1",
            List.<String[]>of(
                f("Host", "h"), f("Content-Length", "10"), f("Content-Type", "text/plain"))));
    c.add(
        new Req(
            "PUT",
            "/chunks",
            "HTTP/1.1",
            List.<String[]>of(f("Host", "h"), f("Transfer-Encoding", "chunked"))));
    // repeated names, several values each, interleaved with others
    c.add(
        new Req(
            "GET",
            "/multi",
            "HTTP/1.1",
            List.<String[]>of(
                f("Accept", "a"),
                f("X-A", "1"),
                f("Accept", "b"),
                f("X-A", "2"),
                f("Accept", "c"),
                f("Cookie", "x=1"),
                f("Cookie", "y=2"),
                f("X-A", "3"))));
    // empty values, a value longer than any buffer, a name longer than a small one
    c.add(
        new Req(
            "GET",
            "/long",
            "HTTP/1.1",
            List.<String[]>of(
                f("X-Empty", ""),
                f("X-Long", repeat('v', 20_000)),
                f("X-" + repeat('n', 70), "after"),
                f("X-Empty", ""),
                f("X-Last", ""))));
    // a removed field (a hole in its table row) and an emptied one (2.4.4 fails on it)
    c.add(
        new Req(
            "GET",
            "/holes",
            "HTTP/1.1",
            List.<String[]>of(f("A", "1"), f("B", "2"), f("C", "3"), f("B", null))));
    c.add(
        new Req(
            "GET",
            "/emptied",
            "HTTP/1.1",
            List.<String[]>of(f("A", "1"), f("B", "2"), f("B", "\0clear"), f("C", "3"))));
    c.add(
        new Req(
            "GET", "/only-emptied", "HTTP/1.1", List.<String[]>of(f("B", "2"), f("B", "\0clear"))));
    // a request line longer than a buffer, Latin-1 and wider characters (written as their low
    // byte), a long custom method
    c.add(
        new Req(
            "PROPFIND-" + repeat('M', 30),
            "/" + repeat('p', 5_000) + "?q=" + repeat('v', 300),
            "HTTP/1.1",
            List.<String[]>of(
                f("Host", "h"), f("X-Latin", "caf\u00e9 \u00ff"), f("X-Wide", "\u20ac\u0100"))));
    return c;
  }

  static Req random(Random random) {
    String[] names = {
      "Host", "Accept", "accept", "User-Agent", "Content-Length", "Cookie", "X-Forwarded-For",
      "traceparent", "tracestate", "b3", "X-B3-TraceId", "Via", "Connection", "X-Custom",
      "x-custom-2", "A", "Z", "Content-Type", "Transfer-Encoding", "X-" + repeat('l', 30)
    };
    String[] methods = {"GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "M"};
    int n = random.nextInt(41);
    List<String[]> fields = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String name =
          random.nextInt(5) == 0
              ? "X-F" + random.nextInt(100)
              : names[random.nextInt(names.length)];
      int kind = random.nextInt(20);
      String value;
      if (kind == 0) {
        value = "";
      } else if (kind == 1) {
        value = repeat((char) ('a' + random.nextInt(26)), 100 + random.nextInt(3_000));
      } else if (kind == 2) {
        value = null; // remove
      } else if (kind == 3 && random.nextInt(4) == 0) {
        value = "\0clear";
      } else {
        value = "v" + random.nextInt(1_000_000) + (random.nextBoolean() ? " ; q=0.5" : "");
      }
      fields.add(f(name, value));
    }
    String path = "/" + repeat('p', random.nextInt(random.nextInt(8) == 0 ? 600 : 40));
    if (random.nextBoolean()) path += "?k=" + random.nextInt(1000) + "&z";
    return new Req(
        methods[random.nextInt(methods.length)],
        path,
        random.nextInt(6) == 0 ? "HTTP/1.0" : "HTTP/1.1",
        fields);
  }

  static final int[] SIZES = {16, 17, 48, 64, 100, 256, 1024, 16_384};

  static int compare(Req r, How how) throws Exception {
    String theirs = original.run(r, how);
    String mine = ours.run(r, how);
    assertThat(mine).as("%s written as %s", r, how).isEqualTo(theirs);
    return 1;
  }

  @Test
  void patchedFor_isTheUndertowOnTheClassPath() {
    assertThat(HttpRequestConduit.PATCHED_FOR_UNDERTOW).isEqualTo(Version.getVersionString());
  }

  @Test
  void corpus_writesTheSameBytesCallsAndStates_forEveryPoolSizeSinkAndWay() throws Exception {
    int compared = 0;
    long seed = 1;
    for (Req r : corpus()) {
      for (int size : SIZES) {
        for (Op op : Op.values()) {
          for (int maxPerWrite : new int[] {1, 7, 1 << 20}) {
            int body = op == Op.WRITE || op == Op.WRITE_ARRAY ? 37 : 0;
            compared += compare(r, new How(op, size, seed++, maxPerWrite, body, 3));
          }
        }
      }
    }
    assertThat(compared).isEqualTo(corpus().size() * SIZES.length * Op.values().length * 3);
  }

  @Test
  void randomRequests_writeTheSameBytesCallsAndStates() throws Exception {
    Random random = new Random(20_261_126);
    for (int i = 0; i < 400; i++) {
      Req r = random(random);
      Op op = Op.values()[random.nextInt(Op.values().length)];
      int body = random.nextInt(3) == 0 ? 0 : random.nextInt(5_000);
      How how =
          new How(
              op,
              SIZES[random.nextInt(SIZES.length)],
              random.nextLong(),
              random.nextBoolean() ? 1 + random.nextInt(10) : 1 + random.nextInt(100_000),
              body,
              random.nextInt(50));
      compare(r, how);
    }
  }

  @Test
  void sameLoopRequest_withAWholeSink_isTheHeadAsSent() throws Exception {
    // A check of the harness itself: what the sink received is the request head, byte for byte.
    Req r = corpus().get(0);
    String wire = ours.run(r, new How(Op.FLUSH, 16_384, 7, 1 << 20, 0, 0));
    assertThat(wire.substring(wire.indexOf("wire:\n") + 6))
        .startsWith("GET /index.html?a=1&b=2 HTTP/1.1\r\n")
        .contains("\r\nHost: 127.0.0.1:8081\r\n")
        .contains("\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n")
        .endsWith("\r\n\r\n");
  }
}
