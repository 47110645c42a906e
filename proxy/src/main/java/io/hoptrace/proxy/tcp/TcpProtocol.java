package io.hoptrace.proxy.tcp;

import java.util.Locale;

/** What a TCP route carries, and so which observer times it. */
public enum TcpProtocol {
  /** Opaque bytes: one CLIENT span per connection. */
  TCP,
  /** RESP2/RESP3: one CLIENT span per command. */
  REDIS,
  /** The MySQL client/server protocol: one CLIENT span per query or statement execute. */
  MYSQL;

  /**
   * The protocol named {@code value} (case-insensitive); throws {@link IllegalArgumentException}
   * naming {@code key} otherwise (a bad setting fails at startup).
   */
  public static TcpProtocol fromSetting(String key, String value) {
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "tcp" -> TCP;
      case "redis" -> REDIS;
      case "mysql" -> MYSQL;
      default ->
          throw new IllegalArgumentException(
              key + ": " + value + " (expected: one of redis, mysql, tcp)");
    };
  }

  /** The setting's spelling: {@code redis}, {@code mysql} or {@code tcp}. */
  public String settingName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
