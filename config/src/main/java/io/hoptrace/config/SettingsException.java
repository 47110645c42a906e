package io.hoptrace.config;

/**
 * A setting is wrong. The message names the key (without the {@code hoptrace.} root), the value and
 * what was expected: {@code inbound.port: 70000 (expected: 0..65535)}. The CLI exits 2 on it.
 */
public final class SettingsException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final String key;

  SettingsException(String key, String value, String expected) {
    super(key + ": " + value + " (expected: " + expected + ")");
    this.key = key;
  }

  /** The key, e.g. {@code inbound.port}. */
  public String key() {
    return key;
  }
}
