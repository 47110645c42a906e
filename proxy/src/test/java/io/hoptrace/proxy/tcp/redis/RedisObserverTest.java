package io.hoptrace.proxy.tcp.redis;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.proxy.tcp.CollectingSink;
import io.hoptrace.proxy.tcp.Recorders;
import io.hoptrace.proxy.tcp.RelayHarness;
import io.hoptrace.span.Kind;
import io.hoptrace.span.Span;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/**
 * The Redis observer fed bytes directly, no socket: each conversation is replayed whole, split at
 * every byte, and split at random, and must give the same spans every time.
 */
class RedisObserverTest {
  final CollectingSink sink = new CollectingSink();

  /** One side's bytes, in the order they crossed the relay. */
  static final class Chunk {
    final boolean fromClient;
    final byte[] bytes;

    Chunk(boolean fromClient, byte[] bytes) {
      this.fromClient = fromClient;
      this.bytes = bytes;
    }
  }

  final List<Chunk> conversation = new ArrayList<>();

  RedisObserverTest client(byte[] bytes) {
    conversation.add(new Chunk(true, bytes));
    return this;
  }

  RedisObserverTest client(String text) {
    return client(text.getBytes(US_ASCII));
  }

  RedisObserverTest server(String text) {
    conversation.add(new Chunk(false, text.getBytes(US_ASCII)));
    return this;
  }

  static byte[] cmd(String... args) {
    StringBuilder s = new StringBuilder("*").append(args.length).append("\r\n");
    for (String a : args) s.append('$').append(a.length()).append("\r\n").append(a).append("\r\n");
    return s.toString().getBytes(US_ASCII);
  }

  RedisObserver newObserver() {
    return new RedisObserver(Recorders.recorder(Recorders.REDIS_ROUTE, RelayHarness.SOLE, sink));
  }

  /** Replays the conversation in chunks of at most {@code maxChunk} bytes; returns the spans. */
  List<Span> replay(int maxChunk, boolean close) {
    sink.clear();
    RedisObserver observer = newObserver();
    Random random = new Random(maxChunk);
    for (Chunk c : conversation) {
      int i = 0;
      while (i < c.bytes.length) {
        int n = maxChunk <= 0 ? 1 + random.nextInt(7) : Math.min(maxChunk, c.bytes.length - i);
        n = Math.min(n, c.bytes.length - i);
        ByteBuffer view = ByteBuffer.wrap(c.bytes, i, n).asReadOnlyBuffer();
        if (c.fromClient) observer.onClientBytes(view);
        else observer.onServerBytes(view);
        i += n;
      }
    }
    if (close) observer.onClose(null);
    return sink.spans();
  }

  /** Replays whole, byte by byte and in random small pieces; asserts all agree. */
  List<Span> spans() {
    List<Span> whole = replay(Integer.MAX_VALUE, true);
    assertThat(describe(replay(1, true))).as("split at every byte").isEqualTo(describe(whole));
    assertThat(describe(replay(0, true))).as("split at random").isEqualTo(describe(whole));
    return whole;
  }

  static List<String> describe(List<Span> spans) {
    List<String> out = new ArrayList<>();
    for (Span s : spans) {
      StringBuilder b = new StringBuilder(s.name());
      for (int i = 0; i < s.tagCount(); i++) {
        b.append(' ').append(s.tagKey(i)).append('=').append(s.tagValue(i));
      }
      out.add(b.toString());
    }
    return out;
  }

  @Test
  void get_bulkReply_oneSpan() {
    client(cmd("GET", "user:1")).server("$5\r\nalice\r\n");
    List<Span> spans = spans();
    assertThat(spans).hasSize(1);
    Span span = spans.get(0);
    assertThat(span.kind()).isEqualTo(Kind.CLIENT);
    assertThat(span.name()).isEqualTo("redis get");
    assertThat(span.tag("db.system")).isEqualTo("redis");
    assertThat(span.tag("db.operation")).isEqualTo("GET");
    assertThat(span.tag("db.redis.key_count")).isEqualTo("1");
    assertThat(span.tag("db.redis.reply_type")).isEqualTo("bulk_string");
    assertThat(span.tag("error")).isNull();
    assertThat(span.tag("hoptrace.link")).isEqualTo("sole");
    assertThat(span.parentId()).isEqualTo(RelayHarness.INBOUND.spanId());
    assertThat(span.remotePort()).isEqualTo(6379);
  }

  @Test
  void values_neverRecorded() {
    client(cmd("SET", "secret-key", "secret-value"))
        .server("+OK\r\n")
        .client(cmd("NOSUCH", "secret-arg"))
        .server("-ERR unknown command 'NOSUCH', with args beginning with: 'secret-arg' \r\n");
    List<String> described = describe(spans());
    assertThat(described).hasSize(2);
    assertThat(String.join("\n", described)).doesNotContain("secret");
  }

  @Test
  void errorReply_quotedPartsRedacted() {
    client(cmd("NOSUCH")).server("-ERR unknown command 'NOSUCH', with args beginning with: \r\n");
    Span span = spans().get(0);
    assertThat(span.name()).isEqualTo("redis nosuch");
    assertThat(span.tag("error")).isEqualTo("ERR unknown command ?, with args beginning with:");
    assertThat(span.tag("db.redis.reply_type")).isEqualTo("error");
  }

  @Test
  void wrongType_errorKeptWhole() {
    client(cmd("LPUSH", "k", "v"))
        .server("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assertThat(spans().get(0).tag("error"))
        .isEqualTo("WRONGTYPE Operation against a key holding the wrong kind of value");
  }

  @Test
  void pipelined_repliesMatchedInOrder() {
    ByteArrayOutputStream pipeline = new ByteArrayOutputStream();
    pipeline.writeBytes(cmd("SET", "a", "1"));
    pipeline.writeBytes(cmd("INCR", "a"));
    pipeline.writeBytes(cmd("MGET", "a", "b", "c"));
    pipeline.writeBytes(cmd("DEL", "a", "b"));
    pipeline.writeBytes(cmd("HGETALL", "h"));
    client(pipeline.toByteArray())
        .server("+OK\r\n:2\r\n*3\r\n$1\r\n2\r\n$-1\r\n$-1\r\n:1\r\n*0\r\n");
    assertThat(describe(spans()))
        .extracting(s -> s.substring(0, s.indexOf(" hoptrace.link")))
        .containsExactly(
            "redis set db.system=redis db.operation=SET db.redis.key_count=1"
                + " db.redis.reply_type=simple_string",
            "redis incr db.system=redis db.operation=INCR db.redis.key_count=1"
                + " db.redis.reply_type=integer",
            "redis mget db.system=redis db.operation=MGET db.redis.key_count=3"
                + " db.redis.reply_type=array",
            "redis del db.system=redis db.operation=DEL db.redis.key_count=2"
                + " db.redis.reply_type=integer",
            "redis hgetall db.system=redis db.operation=HGETALL db.redis.key_count=1"
                + " db.redis.reply_type=array");
  }

  @Test
  void pipelineInOneChunk_linkerAskedOnce() {
    java.util.concurrent.atomic.AtomicInteger asked =
        new java.util.concurrent.atomic.AtomicInteger();
    RedisObserver observer =
        new RedisObserver(
            Recorders.recorder(
                Recorders.REDIS_ROUTE,
                (route, app, proxy, startNanos) -> {
                  asked.incrementAndGet();
                  return io.hoptrace.proxy.tcp.TcpLink.root();
                },
                sink));
    ByteArrayOutputStream pipeline = new ByteArrayOutputStream();
    for (int i = 0; i < 3; i++) pipeline.writeBytes(cmd("INCR", "a"));
    observer.onClientBytes(ByteBuffer.wrap(pipeline.toByteArray()));
    observer.onServerBytes(ByteBuffer.wrap(":1\r\n:2\r\n:3\r\n".getBytes(US_ASCII)));
    assertThat(sink.spans()).hasSize(3);
    assertThat(asked).hasValue(1);
  }

  @Test
  void keyCount_msetPairs_evalNumkeys_blpopTimeout() {
    client(cmd("MSET", "a", "1", "b", "2"))
        .server("+OK\r\n")
        .client(cmd("EVAL", "return 1", "2", "k1", "k2", "arg"))
        .server(":1\r\n")
        .client(cmd("BLPOP", "q1", "q2", "0"))
        .server("*-1\r\n")
        .client(cmd("ZUNIONSTORE", "dest", "2", "z1", "z2"))
        .server(":0\r\n")
        .client(cmd("PING"))
        .server("+PONG\r\n");
    List<Span> spans = spans();
    assertThat(spans)
        .extracting(s -> s.tag("db.redis.key_count"))
        .containsExactly("2", "2", "2", "3", "0");
    assertThat(spans.get(2).tag("db.redis.reply_type")).isEqualTo("null");
  }

  @Test
  void inlineCommand_parsed() {
    client("PING\r\n").server("+PONG\r\n").client("get  k\r\n").server("$-1\r\n");
    assertThat(spans()).extracting(Span::name).containsExactly("redis ping", "redis get");
  }

  @Test
  void multiExec_queuedRepliesAndExecArray_noDesync() {
    client(cmd("MULTI"))
        .server("+OK\r\n")
        .client(cmd("SET", "a", "1"))
        .server("+QUEUED\r\n")
        .client(cmd("INCR", "a"))
        .server("+QUEUED\r\n")
        .client(cmd("EXEC"))
        .server("*2\r\n+OK\r\n:2\r\n")
        .client(cmd("GET", "a"))
        .server("$1\r\n2\r\n");
    List<Span> spans = spans();
    assertThat(spans)
        .extracting(Span::name)
        .containsExactly("redis multi", "redis set", "redis incr", "redis exec", "redis get");
    assertThat(spans.get(1).tag("db.redis.transaction")).isEqualTo("queued");
    assertThat(spans.get(3).tag("db.redis.reply_type")).isEqualTo("array");
    assertThat(spans.get(4).tag("db.redis.reply_type")).isEqualTo("bulk_string");
  }

  @Test
  void resp3_typesPushesAndAttributes_noDesync() {
    client(cmd("HELLO", "3"))
        .server("%2\r\n+server\r\n+redis\r\n+proto\r\n:3\r\n")
        .client(cmd("CLIENT", "TRACKING", "on"))
        .server("+OK\r\n")
        .client(cmd("GET", "a"))
        // An invalidation push arrives before GET's reply: it answers nothing.
        .server(">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\na\r\n")
        .server("_\r\n")
        .client(cmd("SMEMBERS", "s"))
        .server("~2\r\n$1\r\nx\r\n$1\r\ny\r\n")
        .client(cmd("ZSCORE", "z", "m"))
        .server(",3.5\r\n")
        .client(cmd("EXISTS", "a"))
        .server("#f\r\n")
        .client(cmd("OBJECT", "FREQ", "k"))
        // An attribute decorates the reply that follows it.
        .server("|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n:7\r\n")
        .client(cmd("INCRBY", "big", "1"))
        .server("(3492890328409238509324850943850943825024385\r\n")
        .client(cmd("INFO"))
        .server("=15\r\ntxt:Some string\r\n")
        .client(cmd("FOO"))
        .server("!21\r\nSYNTAX invalid syntax\r\n");
    List<Span> spans = spans();
    assertThat(spans)
        .extracting(s -> s.name() + " " + s.tag("db.redis.reply_type"))
        .containsExactly(
            "redis hello map",
            "redis client simple_string",
            "redis get null",
            "redis smembers set",
            "redis zscore double",
            "redis exists boolean",
            "redis object integer",
            "redis incrby big_number",
            "redis info verbatim_string",
            "redis foo bulk_error");
    assertThat(spans.get(9).tag("error")).isEqualTo("SYNTAX invalid syntax");
  }

  @Test
  void nestedArrays_oneReply() {
    client(cmd("XRANGE", "s", "-", "+"))
        .server("*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n")
        .client(cmd("PING"))
        .server("+PONG\r\n");
    assertThat(spans()).extracting(Span::name).containsExactly("redis xrange", "redis ping");
  }

  @Test
  void largeBulkString_skippedByCounting() {
    int size = 10 * 1024 * 1024;
    byte[] value = new byte[size];
    java.util.Arrays.fill(value, (byte) '\n'); // newlines inside a bulk must not confuse the parser
    ByteArrayOutputStream set = new ByteArrayOutputStream();
    set.writeBytes(("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$" + size + "\r\n").getBytes(US_ASCII));
    set.writeBytes(value);
    set.writeBytes("\r\n".getBytes(US_ASCII));
    ByteArrayOutputStream reply = new ByteArrayOutputStream();
    reply.writeBytes(("$" + size + "\r\n").getBytes(US_ASCII));
    reply.writeBytes(value);
    reply.writeBytes("\r\n".getBytes(US_ASCII));
    client(set.toByteArray()).server("+OK\r\n").client(cmd("GET", "big"));
    conversation.add(new Chunk(false, reply.toByteArray()));
    List<Span> spans = replay(64 * 1024, true);
    assertThat(spans).extracting(Span::name).containsExactly("redis set", "redis get");
    assertThat(spans).allSatisfy(s -> assertThat(s.tag("error")).isNull());
  }

  @Test
  void subscribe_fallsBackToOneConnectionSpan() {
    client(cmd("GET", "a"))
        .client(cmd("SUBSCRIBE", "news"))
        .server("$-1\r\n")
        .server("*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n")
        .server("*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n")
        .client(cmd("PING"))
        .server("*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    List<Span> spans = spans();
    assertThat(spans).extracting(Span::name).containsExactly("redis get", "redis subscribe");
    Span subscription = spans.get(1);
    assertThat(subscription.tag("db.operation")).isEqualTo("SUBSCRIBE");
    assertThat(subscription.tag("error")).isNull();
    assertThat(Long.parseLong(subscription.tag("net.bytes_received"))).isPositive();
  }

  @Test
  void resp3Subscribe_pushConfirms() {
    client(cmd("SUBSCRIBE", "news"))
        .server(">3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n")
        .server(">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n");
    assertThat(spans()).extracting(Span::name).containsExactly("redis subscribe");
  }

  @Test
  void monitor_fallsBackToOneConnectionSpan() {
    client(cmd("MONITOR"))
        .server("+OK\r\n")
        .server("+1339518083.107412 [0 127.0.0.1:60866] \"keys\" \"*\"\r\n");
    assertThat(spans()).extracting(Span::name).containsExactly("redis monitor");
  }

  @Test
  void clientReplyOff_fallsBack() {
    client(cmd("CLIENT", "REPLY", "OFF")).client(cmd("SET", "a", "1"));
    List<Span> spans = spans();
    assertThat(spans).extracting(Span::name).containsExactly("redis client");
    assertThat(spans.get(0).tag("db.operation")).isEqualTo("CLIENT");
  }

  @Test
  void serverEnds_pendingCommandsGetErrors() {
    client(cmd("SET", "a", "1")).client(cmd("BLPOP", "q", "0")).server("+OK\r\n");
    RedisObserver observer = newObserver();
    for (Chunk c : conversation) {
      if (c.fromClient) observer.onClientBytes(ByteBuffer.wrap(c.bytes));
      else observer.onServerBytes(ByteBuffer.wrap(c.bytes));
    }
    observer.onServerEnd();
    List<Span> spans = sink.spans();
    assertThat(spans).extracting(Span::name).containsExactly("redis set", "redis blpop");
    assertThat(spans.get(1).tag("error")).isEqualTo("server closed the connection before replying");
    observer.onClose(null);
    assertThat(sink.spans()).hasSize(2);
  }

  @Test
  void closedMidCommand_spanWithError() {
    byte[] set = cmd("SET", "key", "value");
    client(java.util.Arrays.copyOf(set, set.length - 4));
    List<Span> spans = replay(Integer.MAX_VALUE, false);
    assertThat(spans).isEmpty();
    RedisObserver observer = newObserver();
    observer.onClientBytes(ByteBuffer.wrap(set, 0, set.length - 4));
    observer.onClose("client: Connection reset by peer");
    Span span = sink.spans().get(0);
    assertThat(span.name()).isEqualTo("redis set");
    assertThat(span.tag("error"))
        .isEqualTo("connection closed mid-command: client: Connection reset by peer");
  }

  @Test
  void garbageReply_fallsBackWithoutThrowing() {
    client(cmd("GET", "a")).server("?what\r\n").client(cmd("GET", "b")).server("$1\r\nx\r\n");
    List<Span> spans = spans();
    assertThat(spans).extracting(Span::name).containsExactly("redis connection");
    assertThat(spans.get(0).tag("hoptrace.tcp.fallback")).isEqualTo("unparsable reply");
  }

  @Test
  void unknownCommandName_withNonNameBytes_isUnknown() {
    client(cmd("GET{secret}")).server("-ERR unknown command\r\n");
    assertThat(spans().get(0).name()).isEqualTo("redis unknown");
  }

  @Test
  void connectRefused_beforeAnyByte_connectSpanWithError() {
    RedisObserver observer = newObserver();
    observer.onClose("connect 127.0.0.1:6379: Connection refused");
    Span span = sink.spans().get(0);
    assertThat(span.name()).isEqualTo("redis connect");
    assertThat(span.tag("error")).isEqualTo("connect 127.0.0.1:6379: Connection refused");
  }

  @Property(tries = 300)
  void anyBytes_neverThrow(
      @ForAll @Size(max = 200) byte[] fromClient, @ForAll @Size(max = 200) byte[] fromServer) {
    RedisObserver observer = newObserver();
    observer.onClientBytes(ByteBuffer.wrap(fromClient));
    observer.onServerBytes(ByteBuffer.wrap(fromServer));
    observer.onServerEnd();
    observer.onClose(null);
  }
}
