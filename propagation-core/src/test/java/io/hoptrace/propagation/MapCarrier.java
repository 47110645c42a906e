package io.hoptrace.propagation;

import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/** A header map for tests: names match case-insensitively, as in HTTP. */
public final class MapCarrier {
  public static final HeaderGetter<Map<String, String>> GETTER = MapCarrier::get;

  public static final HeaderSetter<Map<String, String>> SETTER =
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

  /** A mutable case-insensitive map of the given name, value pairs. */
  public static Map<String, String> of(String... namesAndValues) {
    Map<String, String> map = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    for (int i = 0; i < namesAndValues.length; i += 2) {
      map.put(namesAndValues[i], namesAndValues[i + 1]);
    }
    return map;
  }

  private MapCarrier() {}
}
