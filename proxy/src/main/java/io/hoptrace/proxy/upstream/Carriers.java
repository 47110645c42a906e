package io.hoptrace.proxy.upstream;

import io.hoptrace.propagation.HeaderGetter;
import io.hoptrace.propagation.HeaderSetter;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.HttpString;
import org.jspecify.annotations.Nullable;

/** The constant header getters and setters for the carriers proxy code uses. */
public final class Carriers {
  /** Reads Undertow request or response headers; several lines of one field are comma-joined. */
  public static final HeaderGetter<HeaderMap> UNDERTOW_GETTER =
      new HeaderGetter<>() {
        @Override
        public @Nullable String get(HeaderMap carrier, String name) {
          HeaderValues values = carrier.get(name);
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
          carrier.put(HttpString.tryFromString(name), value);
        }

        @Override
        public void remove(HeaderMap carrier, String name) {
          carrier.remove(name);
        }

        @Override
        public String toString() {
          return "UNDERTOW_SETTER";
        }
      };

  private Carriers() {}
}
