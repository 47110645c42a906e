package io.hoptrace.span;

import static java.util.Objects.requireNonNull;

import io.hoptrace.context.TraceContext;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * One hop, as written to the span log (DESIGN.md "Span log"). Immutable. Tags keep their insertion
 * order (the attribution tags read best last) and are held in a flat array: a span has a dozen tags
 * at most, so a map would cost more than it saves.
 */
public final class Span {
  final long traceIdHigh;
  final long traceIdLow;
  final long id;
  final long parentId;
  final Kind kind;
  final String name;
  final long timestampMicros;
  final long durationMicros;
  final String serviceName;
  final @Nullable String remoteIp;
  final int remotePort;
  final String[] tags; // key, value, key, value, ...

  Span(Builder b) {
    this.traceIdHigh = b.traceIdHigh;
    this.traceIdLow = b.traceIdLow;
    this.id = b.id;
    this.parentId = b.parentId;
    this.kind = requireNonNull(b.kind, "kind");
    this.name = requireNonNull(b.name, "name");
    this.timestampMicros = b.timestampMicros;
    this.durationMicros = b.durationMicros;
    this.serviceName = requireNonNull(b.serviceName, "serviceName");
    this.remoteIp = b.remoteIp;
    this.remotePort = b.remotePort;
    this.tags = Arrays.copyOf(b.tags, b.tagCount * 2);
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  public long traceIdHigh() {
    return traceIdHigh;
  }

  public long traceIdLow() {
    return traceIdLow;
  }

  public long id() {
    return id;
  }

  /** Zero for a root span. */
  public long parentId() {
    return parentId;
  }

  public Kind kind() {
    return kind;
  }

  /** Lowercase method and path without query, e.g. {@code get /orders/42}. */
  public String name() {
    return name;
  }

  public long timestampMicros() {
    return timestampMicros;
  }

  public long durationMicros() {
    return durationMicros;
  }

  public String serviceName() {
    return serviceName;
  }

  /** The peer's address literal (IPv4 or IPv6), or null when unknown. */
  public @Nullable String remoteIp() {
    return remoteIp;
  }

  /** The peer's port, or zero when unknown. */
  public int remotePort() {
    return remotePort;
  }

  public int tagCount() {
    return tags.length / 2;
  }

  public String tagKey(int i) {
    return tags[i * 2];
  }

  public String tagValue(int i) {
    return tags[i * 2 + 1];
  }

  /** The value of tag {@code key}, or null. */
  public @Nullable String tag(String key) {
    for (int i = 0; i < tags.length; i += 2) {
      if (tags[i].equals(key)) return tags[i + 1];
    }
    return null;
  }

  @Override
  public String toString() {
    return kind + " " + name + " " + Long.toHexString(id);
  }

  /** Builds a {@link Span}. Reusable: {@link #build()} copies the tags. */
  public static final class Builder {
    long traceIdHigh;
    long traceIdLow;
    long id;
    long parentId;
    @Nullable Kind kind;
    @Nullable String name;
    long timestampMicros;
    long durationMicros;
    @Nullable String serviceName;
    @Nullable String remoteIp;
    int remotePort;
    String[] tags = new String[32];
    int tagCount;

    Builder() {}

    /** Trace id, span id and parent id from a context. */
    public Builder context(TraceContext context) {
      this.traceIdHigh = context.traceIdHigh();
      this.traceIdLow = context.traceIdLow();
      this.id = context.spanId();
      this.parentId = context.parentId();
      return this;
    }

    public Builder traceId(long high, long low) {
      this.traceIdHigh = high;
      this.traceIdLow = low;
      return this;
    }

    public Builder id(long id) {
      this.id = id;
      return this;
    }

    public Builder parentId(long parentId) {
      this.parentId = parentId;
      return this;
    }

    public Builder kind(Kind kind) {
      this.kind = kind;
      return this;
    }

    public Builder name(String name) {
      this.name = name;
      return this;
    }

    public Builder timestampMicros(long timestampMicros) {
      this.timestampMicros = timestampMicros;
      return this;
    }

    public Builder durationMicros(long durationMicros) {
      this.durationMicros = durationMicros;
      return this;
    }

    public Builder serviceName(String serviceName) {
      this.serviceName = serviceName;
      return this;
    }

    public Builder remoteEndpoint(@Nullable String ip, int port) {
      this.remoteIp = ip;
      this.remotePort = port;
      return this;
    }

    /** Adds a tag, or replaces the value of an existing one. */
    public Builder tag(String key, String value) {
      requireNonNull(key, "key");
      requireNonNull(value, "value");
      for (int i = 0; i < tagCount * 2; i += 2) {
        if (tags[i].equals(key)) {
          tags[i + 1] = value;
          return this;
        }
      }
      if (tagCount * 2 == tags.length) tags = Arrays.copyOf(tags, tags.length * 2);
      tags[tagCount * 2] = key;
      tags[tagCount * 2 + 1] = value;
      tagCount++;
      return this;
    }

    /**
     * Empties the builder for the next span, as {@link Span#newBuilder()} would return it, keeping
     * its tag array: the request path reuses one builder per thread instead of allocating ~230
     * bytes per span (bench/README.md, "Request path CPU (s16)"). The tag slots used are cleared,
     * so a reused builder holds no request's strings.
     */
    public Builder reset() {
      traceIdHigh = 0L;
      traceIdLow = 0L;
      id = 0L;
      parentId = 0L;
      kind = null;
      name = null;
      timestampMicros = 0L;
      durationMicros = 0L;
      serviceName = null;
      remoteIp = null;
      remotePort = 0;
      Arrays.fill(tags, 0, tagCount * 2, null);
      tagCount = 0;
      return this;
    }

    /**
     * Builds the value; throws {@link IllegalArgumentException} when the trace id or span id is
     * zero.
     */
    public Span build() {
      check();
      return new Span(this);
    }

    /** Throws what {@link #build()} throws for ids it refuses. */
    void check() {
      if (traceIdHigh == 0L && traceIdLow == 0L) {
        throw new IllegalArgumentException("traceId: 0 (expected: non-zero)");
      }
      if (id == 0L) throw new IllegalArgumentException("id: 0 (expected: non-zero)");
    }
  }
}
