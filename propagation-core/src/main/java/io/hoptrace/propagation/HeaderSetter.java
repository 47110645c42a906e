package io.hoptrace.propagation;

/**
 * Writes headers to a carrier. Implementations are {@code static final} constants.
 *
 * @param <C> the carrier type
 */
public interface HeaderSetter<C> {
  /** Replaces every existing value of {@code name} with {@code value}. */
  void set(C carrier, String name, String value);

  /** Removes every value of {@code name}; no-op when absent. */
  void remove(C carrier, String name);
}
