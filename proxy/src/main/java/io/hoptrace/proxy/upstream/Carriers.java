package io.hoptrace.proxy.upstream;

import io.hoptrace.propagation.HeaderGetter;
import io.hoptrace.propagation.HeaderSetter;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.HttpString;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/** The constant header getters and setters for the carriers proxy code uses. */
public final class Carriers {
  /** Reads Undertow request or response headers; several lines of one field are comma-joined. */
  public static final HeaderGetter<HeaderMap> UNDERTOW_GETTER =
      new HeaderGetter<>() {
        @Override
        public @Nullable String get(HeaderMap carrier, String name) {
          HttpString key = httpString(name);
          HeaderValues values = key != null ? carrier.get(key) : carrier.get(name);
          if (values == null || values.isEmpty()) return null;
          if (values.size() == 1) return values.getFirst();
          return String.join(",", values);
        }

        @Override
        public String toString() {
          return "UNDERTOW_GETTER";
        }
      };

  /** Writes Undertow headers (the caller's response: traceresponse, the request id). */
  public static final HeaderSetter<HeaderMap> UNDERTOW_SETTER =
      new HeaderSetter<>() {
        @Override
        public void set(HeaderMap carrier, String name, String value) {
          HttpString key = httpString(name);
          carrier.put(key != null ? key : HttpString.tryFromString(name), value);
        }

        @Override
        public void remove(HeaderMap carrier, String name) {
          // The injector removes each of its ~9 managed names from every request it forwards:
          // by the kept HttpString (its hash computed once), not by hashing the String's
          // characters in HeaderMap.remove(String) each time (bench/README.md, "Request path CPU
          // (s16)"). Both match any case.
          HttpString key = httpString(name);
          if (key != null) {
            carrier.remove(key);
          } else {
            carrier.remove(name);
          }
        }

        @Override
        public String toString() {
          return "UNDERTOW_SETTER";
        }
      };

  private static final int MAX_NAMES = 256;
  private static final ConcurrentHashMap<String, HttpString> NAMES = new ConcurrentHashMap<>();

  /**
   * The {@link HttpString} of a header name, kept: the codecs ask for the same few constant names
   * on every request, and {@link HeaderMap#get(String)} turns the name into bytes to hash it each
   * time (bench/README.md, "Allocation per request (s14)"). Null for a name Undertow refuses, or
   * once {@value #MAX_NAMES} names are kept (then the caller uses the String as before).
   */
  static @Nullable HttpString httpString(String name) {
    HttpString kept = NAMES.get(name);
    if (kept != null) return kept;
    if (NAMES.size() >= MAX_NAMES) return null;
    HttpString made;
    try {
      made = HttpString.tryFromString(name);
    } catch (IllegalArgumentException e) {
      return null;
    }
    NAMES.putIfAbsent(name, made);
    return made;
  }

  private Carriers() {}
}
