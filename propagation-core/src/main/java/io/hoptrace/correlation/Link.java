package io.hoptrace.correlation;

import java.util.Locale;

/**
 * How a CLIENT span was linked to its cause: the {@code hoptrace.link} tag (DESIGN.md "Span log").
 * Declared from most to least certain.
 */
public enum Link {
  /** The outbound request carried a context or request id naming a known inbound request. */
  HEADER,
  /** The calling worker process holds exactly one inbound request (socket ownership in /proc). */
  PROCESS,
  /** Exactly one inbound request was in flight at the app: exact for synchronous apps. */
  SOLE,
  /** Several were in flight, or one finished moments ago: chosen by a {@link CandidateRule}. */
  INFERRED,
  /** None was in flight or recent: the call starts a new trace. */
  ROOT;

  private final String tagValue = name().toLowerCase(Locale.ROOT);

  /** The tag value: the name in lowercase, e.g. {@code header}. */
  public String tagValue() {
    return tagValue;
  }
}
