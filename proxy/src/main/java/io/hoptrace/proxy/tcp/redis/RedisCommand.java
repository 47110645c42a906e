package io.hoptrace.proxy.tcp.redis;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What hoptrace knows about a Redis command: its span name and where its keys are, following the
 * first-key / last-key / step rule of Redis's {@code COMMAND INFO} (a negative last key counts from
 * the end), or a {@code numkeys} argument for EVAL, ZUNIONSTORE and the like. Only the number of
 * keys is ever recorded, never a key or a value.
 */
final class RedisCommand {
  /** First key, last key, step: {@code 1 1 1} one key; {@code 1 -1 2} MSET's key, value pairs. */
  private static final String[] KEY_SPECS = {
    // One key.
    "1 1 1 GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX APPEND STRLEN INCR DECR INCRBY DECRBY"
        + " INCRBYFLOAT GETRANGE SETRANGE SUBSTR GETBIT SETBIT BITCOUNT BITPOS BITFIELD BITFIELD_RO"
        + " EXPIRE PEXPIRE EXPIREAT PEXPIREAT EXPIRETIME PEXPIRETIME TTL PTTL PERSIST TYPE DUMP"
        + " RESTORE LCS HGET HSET HSETNX HMSET HMGET HDEL HLEN HKEYS HVALS HGETALL HEXISTS HINCRBY"
        + " HINCRBYFLOAT HSTRLEN HSCAN HRANDFIELD LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE"
        + " LINDEX LSET LREM LTRIM LINSERT LPOS SADD SREM SCARD SMEMBERS SISMEMBER SMISMEMBER SPOP"
        + " SRANDMEMBER SSCAN ZADD ZREM ZCARD ZSCORE ZMSCORE ZINCRBY ZRANGE ZREVRANGE"
        + " ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX ZRANK ZREVRANK ZCOUNT"
        + " ZLEXCOUNT ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX ZPOPMIN ZPOPMAX ZSCAN"
        + " ZRANDMEMBER PFADD XADD XLEN XRANGE XREVRANGE XDEL XTRIM XACK XCLAIM XAUTOCLAIM XPENDING"
        + " XSETID GEOADD GEODIST GEOHASH GEOPOS GEOSEARCH GEORADIUS_RO GEORADIUSBYMEMBER_RO"
        + " SORT_RO",
    // Every argument is a key.
    "1 -1 1 MGET DEL UNLINK EXISTS TOUCH WATCH SINTER SUNION SDIFF SINTERSTORE SUNIONSTORE"
        + " SDIFFSTORE PFCOUNT PFMERGE",
    "1 -1 2 MSET MSETNX",
    "1 2 1 RENAME RENAMENX RPOPLPUSH SMOVE LMOVE COPY GEOSEARCHSTORE ZRANGESTORE",
    "2 -1 1 BITOP",
    // Every argument but the trailing timeout.
    "1 -2 1 BLPOP BRPOP BZPOPMIN BZPOPMAX",
    "1 2 1 BRPOPLPUSH BLMOVE",
    // No key.
    "0 0 0 PING ECHO AUTH SELECT INFO DBSIZE FLUSHDB FLUSHALL MULTI EXEC DISCARD UNWATCH HELLO"
        + " CLIENT CONFIG TIME SCAN KEYS RANDOMKEY SCRIPT PUBLISH SPUBLISH QUIT RESET COMMAND SAVE"
        + " BGSAVE BGREWRITEAOF LASTSAVE ROLE WAIT WAITAOF SWAPDB LOLWUT MEMORY LATENCY SLOWLOG"
        + " DEBUG CLUSTER READONLY READWRITE ASKING FUNCTION ACL MODULE SHUTDOWN REPLICAOF SLAVEOF"
        + " FAILOVER OBJECT PUBSUB XINFO XGROUP XREAD XREADGROUP SORT GEORADIUS GEORADIUSBYMEMBER"
        + " MIGRATE MOVE",
  };

  /** Name, index of the numkeys argument, keys before it. */
  private static final String[] NUMKEYS_SPECS = {
    "EVAL 2 0",
    "EVALSHA 2 0",
    "EVAL_RO 2 0",
    "EVALSHA_RO 2 0",
    "FCALL 2 0",
    "FCALL_RO 2 0",
    "ZUNIONSTORE 2 1",
    "ZINTERSTORE 2 1",
    "ZDIFFSTORE 2 1",
    "ZUNION 1 0",
    "ZINTER 1 0",
    "ZDIFF 1 0",
    "ZINTERCARD 1 0",
    "SINTERCARD 1 0",
    "LMPOP 1 0",
    "ZMPOP 1 0",
    "BLMPOP 2 0",
    "BZMPOP 2 0",
  };

  /**
   * Commands after which the connection no longer alternates command and reply: pushed messages
   * (pub/sub), a stream of monitored commands, a replication stream. The connection falls back to
   * one span from there.
   */
  private static final String[] CONNECTION_MODE = {
    "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "MONITOR", "SYNC", "PSYNC"
  };

  static final Map<String, RedisCommand> KNOWN = new HashMap<>();

  static {
    for (String spec : KEY_SPECS) {
      String[] parts = spec.split(" ");
      int first = Integer.parseInt(parts[0]);
      int last = Integer.parseInt(parts[1]);
      int step = Integer.parseInt(parts[2]);
      for (int i = 3; i < parts.length; i++) {
        KNOWN.put(parts[i], new RedisCommand(parts[i], first, last, step, 0, 0, false));
      }
    }
    for (String spec : NUMKEYS_SPECS) {
      String[] parts = spec.split(" ");
      int index = Integer.parseInt(parts[1]);
      int before = Integer.parseInt(parts[2]);
      KNOWN.put(parts[0], new RedisCommand(parts[0], 0, 0, 0, index, before, false));
    }
    for (String name : CONNECTION_MODE) {
      KNOWN.put(name, new RedisCommand(name, -1, 0, 0, 0, 0, true));
    }
  }

  static final int TABLE_MASK = 1023;
  static final RedisCommand[] TABLE = new RedisCommand[TABLE_MASK + 1];

  static {
    for (RedisCommand c : KNOWN.values()) {
      int slot = c.name.hashCode() & TABLE_MASK; // String.hashCode is 31 * h + c over the chars
      while (TABLE[slot] != null) slot = (slot + 1) & TABLE_MASK;
      TABLE[slot] = c;
    }
  }

  static final RedisCommand UNKNOWN = new RedisCommand("UNKNOWN", -1, 0, 0, 0, 0, false);

  final String name;
  final String spanName;
  final int firstKey; // 0 no keys, -1 unknown
  final int lastKey;
  final int step;
  final int numkeysIndex; // 0: none
  final int keysBeforeNumkeys;
  final boolean connectionMode;

  RedisCommand(
      String name,
      int firstKey,
      int lastKey,
      int step,
      int numkeysIndex,
      int keysBeforeNumkeys,
      boolean connectionMode) {
    this.name = name;
    this.spanName = "redis " + name.toLowerCase(Locale.ROOT);
    this.firstKey = firstKey;
    this.lastKey = lastKey;
    this.step = step;
    this.numkeysIndex = numkeysIndex;
    this.keysBeforeNumkeys = keysBeforeNumkeys;
    this.connectionMode = connectionMode;
  }

  /**
   * The command named by {@code length} bytes of {@code name}, case-insensitive. A name hoptrace
   * does not know is kept only when it looks like a command name (letters, digits, {@code ._|-}, at
   * most 32 bytes, e.g. a module's {@code JSON.SET}); anything else becomes {@code UNKNOWN}, so a
   * client sending garbage cannot put a value into a span.
   */
  static RedisCommand of(byte[] name, int length, boolean truncated) {
    if (length == 0 || truncated) return UNKNOWN;
    int hash = 0;
    for (int i = 0; i < length; i++) {
      int c = name[i] & 0xff;
      if (c >= 'a' && c <= 'z') c -= 'a' - 'A';
      boolean ok =
          (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '.'
              || c == '_'
              || c == '|'
              || c == '-';
      if (!ok) return UNKNOWN;
      hash = 31 * hash + c;
    }
    // Known commands without allocating: an open-addressing table keyed by the uppercase bytes.
    for (int slot = hash & TABLE_MASK; TABLE[slot] != null; slot = (slot + 1) & TABLE_MASK) {
      if (TABLE[slot].matches(name, length)) return TABLE[slot];
    }
    char[] upper = new char[length];
    for (int i = 0; i < length; i++) {
      int c = name[i] & 0xff;
      upper[i] = (char) (c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c);
    }
    return new RedisCommand(new String(upper), -1, 0, 0, 0, 0, false);
  }

  /** True when {@code length} bytes of {@code name} spell this command, in any case. */
  boolean matches(byte[] name, int length) {
    if (length != this.name.length()) return false;
    for (int i = 0; i < length; i++) {
      int c = name[i] & 0xff;
      if (c >= 'a' && c <= 'z') c -= 'a' - 'A';
      if (c != this.name.charAt(i)) return false;
    }
    return true;
  }

  /**
   * How many keys a call with {@code argCount} arguments (the name included) names; {@code numkeys}
   * is the numkeys argument's value (or -1 when absent or not a number). Returns -1 when unknown.
   */
  int keyCount(long argCount, long numkeys) {
    if (numkeysIndex > 0) {
      if (numkeys < 0 || numkeysIndex + numkeys >= argCount) return -1;
      return (int) numkeys + keysBeforeNumkeys;
    }
    if (firstKey <= 0) return firstKey;
    long last = lastKey >= 0 ? lastKey : argCount + lastKey;
    if (last >= argCount) last = argCount - 1;
    if (last < firstKey) return 0;
    return (int) Math.min(Integer.MAX_VALUE, (last - firstKey) / step + 1);
  }

  @Override
  public String toString() {
    return name;
  }

  static @Nullable RedisCommand known(String name) {
    return KNOWN.get(name);
  }
}
