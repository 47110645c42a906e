package io.hoptrace.traces;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Which traces a list shows: by service, minimum duration, status, time window, and a free query
 * that matches a trace id (or its prefix) or a request id. Immutable; build with {@link
 * #newBuilder()}.
 */
public final class TraceFilter {
  /** Status a trace must have to be shown. */
  public enum Status {
    ANY,
    OK,
    ERROR
  }

  public static final TraceFilter ALL = newBuilder().build();

  private final @Nullable String service;
  private final long minDurationMicros;
  private final Status status;
  private final long sinceMicros;
  private final long untilMicros;
  private final @Nullable String query;

  private TraceFilter(Builder b) {
    this.service = b.service;
    this.minDurationMicros = b.minDurationMicros;
    this.status = b.status;
    this.sinceMicros = b.sinceMicros;
    this.untilMicros = b.untilMicros;
    this.query = b.query == null || b.query.isBlank() ? null : b.query.strip();
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  public boolean matches(Trace t) {
    if (service != null && !t.touches(service)) return false;
    if (t.durationMicros() < minDurationMicros) return false;
    if (status == Status.ERROR && t.errorCount() == 0) return false;
    if (status == Status.OK && t.errorCount() > 0) return false;
    if (t.startMicros() < sinceMicros || t.startMicros() > untilMicros) return false;
    if (query != null && !matchesQuery(t, query)) return false;
    return true;
  }

  private static boolean matchesQuery(Trace t, String q) {
    String lower = q.toLowerCase(Locale.ROOT);
    if (t.traceId().startsWith(lower)) return true;
    // A 16-hex trace id from a 64-bit system is stored widened with leading zeros.
    if (lower.length() == 16 && t.traceId().endsWith(lower)) return true;
    for (String rid : t.requestIds()) {
      if (rid.equalsIgnoreCase(q)) return true;
    }
    return false;
  }

  /** Builds a {@link TraceFilter}; every criterion is off until set. */
  public static final class Builder {
    @Nullable String service;
    long minDurationMicros;
    Status status = Status.ANY;
    long sinceMicros = Long.MIN_VALUE;
    long untilMicros = Long.MAX_VALUE;
    @Nullable String query;

    Builder() {}

    public Builder service(@Nullable String service) {
      this.service = service;
      return this;
    }

    public Builder minDurationMicros(long micros) {
      if (micros < 0)
        throw new IllegalArgumentException("minDuration: " + micros + " (expected: >= 0)");
      this.minDurationMicros = micros;
      return this;
    }

    public Builder status(Status status) {
      this.status = status;
      return this;
    }

    /** Traces that started at or after this epoch microsecond. */
    public Builder sinceMicros(long micros) {
      this.sinceMicros = micros;
      return this;
    }

    /** Traces that started at or before this epoch microsecond. */
    public Builder untilMicros(long micros) {
      this.untilMicros = micros;
      return this;
    }

    /** A trace id (or prefix) or a request id. */
    public Builder query(@Nullable String query) {
      this.query = query;
      return this;
    }

    public TraceFilter build() {
      return new TraceFilter(this);
    }
  }
}
