package io.hoptrace.propagation;

/** What became of the caller's trace context: the SERVER span's {@code hoptrace.context} tag. */
public enum ContextOutcome {
  /** A valid context from a trusted source was continued. */
  EXTRACTED("extracted"),
  /** No context header came: a new trace was started. */
  STARTED("started"),
  /** A context header came but was invalid or untrusted: a new trace was started instead. */
  RESTARTED("restarted");

  private final String tagValue;

  ContextOutcome(String tagValue) {
    this.tagValue = tagValue;
  }

  /** The value of the {@code hoptrace.context} span tag. */
  public String tagValue() {
    return tagValue;
  }
}
