package io.hoptrace.proxy.tcp.redis;

import static io.hoptrace.proxy.tcp.RelayHarness.INBOUND;
import static io.hoptrace.proxy.tcp.RelayHarness.SOLE;
import static io.hoptrace.proxy.tcp.RelayHarness.assertNoLeak;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hoptrace.proxy.tcp.CollectingSink;
import io.hoptrace.proxy.tcp.TcpProtocol;
import io.hoptrace.proxy.tcp.TcpRelay;
import io.hoptrace.proxy.tcp.TcpRoute;
import io.hoptrace.span.Span;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A real redis-server behind the relay: replies unchanged, one span per command. */
@Timeout(60)
class RedisRelayTest {
  final CollectingSink sink = new CollectingSink();
  RedisServerProcess redis;
  TcpRelay relay;
  int port;

  @BeforeEach
  void setUp() throws Exception {
    redis = new RedisServerProcess();
    TcpRoute route =
        TcpRoute.of("cache", "127.0.0.1", 0, "127.0.0.1:" + redis.port, TcpProtocol.REDIS);
    relay = TcpRelay.start("svc", List.of(route), SOLE, sink);
    port = relay.port("cache");
  }

  @AfterEach
  void tearDown() throws Exception {
    if (relay != null) relay.close();
    if (redis != null) redis.close();
  }

  @Test
  void commands_repliesUnchanged_oneSpanEach() throws Exception {
    try (RespClient app = new RespClient(port)) {
      assertThat(app.call("SET", "greeting", "hello")).isEqualTo("OK");
      assertThat(app.call("GET", "greeting")).isEqualTo("hello".getBytes(UTF8));
      assertThat(app.call("INCR", "counter")).isEqualTo(1L);
      assertThat(app.call("LPUSH", "greeting", "x")).isInstanceOf(RespClient.ErrorReply.class);
      assertThat(app.call("DEL", "greeting", "counter", "nothing")).isEqualTo(2L);
    }
    List<Span> spans = sink.await(5, Duration.ofSeconds(5));
    assertThat(spans)
        .extracting(Span::name)
        .containsExactly("redis set", "redis get", "redis incr", "redis lpush", "redis del");
    Span lpush = spans.get(3);
    assertThat(lpush.tag("error")).startsWith("WRONGTYPE");
    assertThat(spans.get(4).tag("db.redis.key_count")).isEqualTo("3");
    for (Span s : spans) {
      assertThat(s.tag("db.system")).isEqualTo("redis");
      assertThat(s.parentId()).isEqualTo(INBOUND.spanId());
      assertThat(s.remotePort()).isEqualTo(redis.port);
      assertThat(s.durationMicros()).isNotNegative();
      assertThat(s.toString()).doesNotContain("hello");
    }
    assertNoLeak(relay);
  }

  @Test
  void pipelined_thousandCommands_matchedInOrder() throws Exception {
    int n = 1000;
    try (RespClient app = new RespClient(port)) {
      for (int i = 0; i < n; i++) {
        if (i % 10 == 9) app.send("GET", "missing");
        else app.send("INCR", "c");
      }
      app.flush();
      long incr = 0;
      for (int i = 0; i < n; i++) {
        Object reply = app.read();
        if (i % 10 == 9) assertThat(reply).isNull();
        else assertThat(reply).isEqualTo(++incr);
      }
    }
    List<Span> spans = sink.await(n, Duration.ofSeconds(10));
    assertThat(spans).hasSize(n);
    for (int i = 0; i < n; i++) {
      Span s = spans.get(i);
      if (i % 10 == 9) {
        assertThat(s.name()).isEqualTo("redis get");
        assertThat(s.tag("db.redis.reply_type")).isEqualTo("null");
      } else {
        assertThat(s.name()).isEqualTo("redis incr");
        assertThat(s.tag("db.redis.reply_type")).isEqualTo("integer");
      }
    }
    assertNoLeak(relay);
  }

  @Test
  void tenMebibyteValue_roundTripsUnchanged() throws Exception {
    byte[] value = new byte[10 * 1024 * 1024];
    new Random(7).nextBytes(value);
    try (RespClient app = new RespClient(port)) {
      assertThat(app.call("SET", "big", value)).isEqualTo("OK");
      assertThat((byte[]) app.call("GET", "big")).isEqualTo(value);
      assertThat(app.call("STRLEN", "big")).isEqualTo((long) value.length);
    }
    List<Span> spans = sink.await(3, Duration.ofSeconds(5));
    assertThat(spans)
        .extracting(Span::name)
        .containsExactly("redis set", "redis get", "redis strlen");
    assertThat(spans).allSatisfy(s -> assertThat(s.tag("error")).isNull());
    assertNoLeak(relay);
  }

  @Test
  void multiExec_noDesync() throws Exception {
    try (RespClient app = new RespClient(port)) {
      assertThat(app.call("MULTI")).isEqualTo("OK");
      assertThat(app.call("SET", "a", "1")).isEqualTo("QUEUED");
      assertThat(app.call("INCR", "a")).isEqualTo("QUEUED");
      assertThat(list(app.call("EXEC"))).containsExactly("OK", 2L);
      assertThat(app.call("GET", "a")).isEqualTo("2".getBytes(UTF8));
    }
    assertThat(sink.await(5, Duration.ofSeconds(5)))
        .extracting(Span::name)
        .containsExactly("redis multi", "redis set", "redis incr", "redis exec", "redis get");
  }

  @Test
  void resp3_invalidationPushesBetweenReplies_noDesync() throws Exception {
    try (RespClient app = new RespClient(port);
        RespClient other = new RespClient(redis.port)) {
      assertThat(app.call("HELLO", "3")).isInstanceOf(List.class);
      assertThat(app.call("CLIENT", "TRACKING", "on")).isEqualTo("OK");
      assertThat(app.call("GET", "k")).isNull();
      assertThat(other.call("SET", "k", "v")).isEqualTo("OK"); // invalidates k: a push to app
      Object next = app.call("PING");
      if (next instanceof List<?>) next = app.read(); // the push came first
      assertThat(next).isEqualTo("PONG");
    }
    assertThat(sink.await(4, Duration.ofSeconds(5)))
        .extracting(Span::name)
        .containsExactly("redis hello", "redis client", "redis get", "redis ping");
  }

  @Test
  void subscribe_connectionSpanWhenDone() throws Exception {
    try (RespClient subscriber = new RespClient(port);
        RespClient publisher = new RespClient(redis.port)) {
      assertThat(list(subscriber.call("SUBSCRIBE", "news"))).hasSize(3);
      assertThat(publisher.call("PUBLISH", "news", "hi")).isEqualTo(1L);
      assertThat(list(subscriber.read())).hasSize(3);
    }
    Span span = sink.await(1, Duration.ofSeconds(5)).get(0);
    assertThat(span.name()).isEqualTo("redis subscribe");
    assertThat(span.tag("db.operation")).isEqualTo("SUBSCRIBE");
    assertNoLeak(relay);
  }

  @Test
  void serverKilledMidCommand_spanWithError_noLeak() throws Exception {
    try (RespClient app = new RespClient(port)) {
      assertThat(app.call("PING")).isEqualTo("PONG");
      app.send("BLPOP", "queue", "0").flush(); // blocks until killed
      Thread.sleep(100);
      redis.kill();
      assertThatThrownBy(app::read).isInstanceOf(IOException.class);
    }
    List<Span> spans = sink.await(2, Duration.ofSeconds(5));
    assertThat(spans).extracting(Span::name).containsExactly("redis ping", "redis blpop");
    assertThat(spans.get(1).tag("error")).isNotNull();
    assertNoLeak(relay);
  }

  @Test
  void appDisconnectsMidCommand_spanWithError_serverUnharmed() throws Exception {
    RespClient app = new RespClient(port);
    app.send("BLPOP", "queue", "0").flush();
    Thread.sleep(100);
    app.abort();
    Span span = sink.await(1, Duration.ofSeconds(5)).get(0);
    assertThat(span.name()).isEqualTo("redis blpop");
    assertThat(span.tag("error")).isNotNull();
    assertNoLeak(relay);
    try (RespClient again = new RespClient(port)) {
      assertThat(again.call("PING")).isEqualTo("PONG");
    }
  }

  @Test
  void upstreamDown_connectSpanWithError() throws Exception {
    redis.kill();
    try (RespClient app = new RespClient(port)) {
      assertThatThrownBy(() -> app.call("PING")).isInstanceOf(IOException.class);
    }
    Span span = sink.await(1, Duration.ofSeconds(5)).get(0);
    assertThat(span.name()).isEqualTo("redis connect");
    assertThat(span.tag("error")).startsWith("connect 127.0.0.1:" + redis.port);
    assertNoLeak(relay);
  }

  @Test
  void concurrentClients_randomPipelinesAndAborts_noDesyncNoLeak() throws Exception {
    int threads = 6;
    int connectionsPerThread = 40;
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(threads);
    java.util.concurrent.atomic.AtomicLong answered = new java.util.concurrent.atomic.AtomicLong();
    List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int seed = t;
      done.add(
          pool.submit(
              () -> {
                Random random = new Random(seed);
                for (int c = 0; c < connectionsPerThread; c++) {
                  try (RespClient app = new RespClient(port)) {
                    int n = 1 + random.nextInt(20);
                    byte[] value = new byte[random.nextInt(100_000)];
                    for (int i = 0; i < n; i++) {
                      switch (random.nextInt(4)) {
                        case 0 -> app.send("SET", "k" + seed, value);
                        case 1 -> app.send("GET", "k" + seed);
                        case 2 -> app.send("INCR", "n" + seed);
                        default -> app.send("MGET", "k" + seed, "n" + seed, "x");
                      }
                    }
                    app.flush();
                    if (random.nextInt(10) == 0) {
                      app.abort(); // gone with replies unread
                      continue;
                    }
                    for (int i = 0; i < n; i++) {
                      Object reply = app.read(); // null for a missing key
                      assertThat(reply instanceof RespClient.ErrorReply).as("%s", reply).isFalse();
                      answered.incrementAndGet();
                    }
                  }
                }
                return null;
              }));
    }
    for (java.util.concurrent.Future<?> f : done) f.get(60, java.util.concurrent.TimeUnit.SECONDS);
    pool.shutdown();
    assertNoLeak(relay);
    List<Span> spans = sink.spans();
    long ok = spans.stream().filter(s -> s.tag("error") == null).count();
    assertThat(ok).as("spans without error").isGreaterThanOrEqualTo(answered.get());
    assertThat(spans).allSatisfy(s -> assertThat(s.tag("hoptrace.tcp.fallback")).isNull());
  }

  static List<Object> list(@Nullable Object reply) {
    assertThat(reply).isInstanceOf(List.class);
    return new java.util.ArrayList<>((List<?>) reply);
  }

  static final java.nio.charset.Charset UTF8 = java.nio.charset.StandardCharsets.UTF_8;
}
