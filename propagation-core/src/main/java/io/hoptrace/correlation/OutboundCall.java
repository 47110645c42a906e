package io.hoptrace.correlation;

import static java.util.Objects.requireNonNull;

import io.hoptrace.context.TraceContext;
import org.jspecify.annotations.Nullable;

/**
 * What the proxy saw on one of the app's outbound requests, already parsed: the context and request
 * id the app forwarded (if any), where the call goes, and when it started. Immutable.
 */
public final class OutboundCall {
  final @Nullable TraceContext forwardedContext;
  final @Nullable String forwardedRequestId;
  final String authority;
  final String method;
  final String path;
  final @Nullable String query;
  final long startNanos;
  final @Nullable Object connectionKey;

  private OutboundCall(
      @Nullable TraceContext forwardedContext,
      @Nullable String forwardedRequestId,
      String authority,
      String method,
      String path,
      @Nullable String query,
      long startNanos,
      @Nullable Object connectionKey) {
    this.forwardedContext = forwardedContext;
    this.forwardedRequestId = forwardedRequestId;
    this.authority = requireNonNull(authority, "authority");
    this.method = requireNonNull(method, "method");
    this.path = requireNonNull(path, "path");
    this.query = query == null || query.isEmpty() ? null : query;
    this.startNanos = startNanos;
    this.connectionKey = connectionKey;
  }

  /**
   * The call with every field given: what {@link #newBuilder()} builds, without a builder per call
   * (the outbound hop makes one per request). {@code query} without {@code ?}; null or empty: none.
   */
  public static OutboundCall of(
      @Nullable TraceContext forwardedContext,
      @Nullable String forwardedRequestId,
      String authority,
      String method,
      String path,
      @Nullable String query,
      long startNanos,
      @Nullable Object connectionKey) {
    return new OutboundCall(
        forwardedContext,
        forwardedRequestId,
        authority,
        method,
        path,
        query,
        startNanos,
        connectionKey);
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /**
   * The context parsed from the app's traceparent / b3 / legacy headers, or null. When the app
   * forwards the traceparent hoptrace gave it, its span id is the inbound SERVER span id.
   */
  public @Nullable TraceContext forwardedContext() {
    return forwardedContext;
  }

  /** The app's X-Request-Id, or null. */
  public @Nullable String forwardedRequestId() {
    return forwardedRequestId;
  }

  /** The destination, {@code host:port}. */
  public String authority() {
    return authority;
  }

  public String method() {
    return method;
  }

  /** The path, without the query. */
  public String path() {
    return path;
  }

  /** The query string without {@code ?}, or null. */
  public @Nullable String query() {
    return query;
  }

  /** Ticker reading when the proxy received the request from the app. */
  public long startNanos() {
    return startNanos;
  }

  /** The app's outbound connection (for /proc socket ownership), or null. */
  public @Nullable Object connectionKey() {
    return connectionKey;
  }

  @Override
  public String toString() {
    return "OutboundCall(" + method + " " + authority + path + ")";
  }

  /** Builds an {@link OutboundCall}. */
  public static final class Builder {
    @Nullable TraceContext forwardedContext;
    @Nullable String forwardedRequestId;
    String authority = "";
    String method = "GET";
    String path = "/";
    @Nullable String query;
    long startNanos;
    @Nullable Object connectionKey;

    Builder() {}

    public Builder forwardedContext(@Nullable TraceContext forwardedContext) {
      this.forwardedContext = forwardedContext;
      return this;
    }

    public Builder forwardedRequestId(@Nullable String forwardedRequestId) {
      this.forwardedRequestId = forwardedRequestId;
      return this;
    }

    public Builder authority(String authority) {
      this.authority = requireNonNull(authority, "authority");
      return this;
    }

    public Builder method(String method) {
      this.method = requireNonNull(method, "method");
      return this;
    }

    public Builder path(String path) {
      this.path = requireNonNull(path, "path");
      return this;
    }

    /** The query string, without {@code ?} (null or empty: none). */
    public Builder query(@Nullable String query) {
      this.query = query == null || query.isEmpty() ? null : query;
      return this;
    }

    public Builder startNanos(long startNanos) {
      this.startNanos = startNanos;
      return this;
    }

    public Builder connectionKey(@Nullable Object connectionKey) {
      this.connectionKey = connectionKey;
      return this;
    }

    public OutboundCall build() {
      return new OutboundCall(
          forwardedContext,
          forwardedRequestId,
          authority,
          method,
          path,
          query,
          startNanos,
          connectionKey);
    }
  }
}
