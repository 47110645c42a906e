package io.hoptrace.proxy.upstream;

import static java.util.Objects.requireNonNull;

import io.undertow.util.AttachmentKey;

/** A failed forward, attached to the exchange for the span and the metrics. */
public record UpstreamFailure(UpstreamError kind, String message) {
  /** Set on the exchange when forwarding failed. */
  public static final AttachmentKey<UpstreamFailure> KEY =
      AttachmentKey.create(UpstreamFailure.class);

  public UpstreamFailure {
    requireNonNull(kind, "kind");
    requireNonNull(message, "message");
  }

  /** The span's {@code error} tag, e.g. {@code connect: Connection refused}. */
  public String errorTag() {
    return kind.tagValue() + ": " + message;
  }
}
