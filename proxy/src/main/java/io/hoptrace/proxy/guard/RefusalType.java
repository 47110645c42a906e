package io.hoptrace.proxy.guard;

import java.util.Locale;

/**
 * What {@link Refusals} needs to know about a kind of refusal: the status it answers, the RFC 9209
 * {@code Proxy-Status} error type, the reason in the span's {@code error} tag, its counter and the
 * one-line text of the answer. The guard's {@link RefusalReason}s and the outbound hop's own
 * refusals are both answered, counted and recorded the same way.
 */
public interface RefusalType {
  int status();

  /** The {@code error} parameter of the {@code Proxy-Status} response header (RFC 9209). */
  String proxyStatusError();

  /** The constant's name: the refusal kinds are enums. */
  String name();

  /** The lowercase reason, as in the span's {@code error} tag ({@code refused: <reason>: ...}). */
  default String tagValue() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The Dropwizard counter's name. */
  String metricName();

  /** The answer's one-line text. */
  String description();

  /**
   * Whether the answer's body also carries the detail (the refused value). Only where the peer is
   * the local app, which needs it to see what hoptrace objected to; never towards callers, whose
   * input is not echoed back.
   */
  default boolean detailInBody() {
    return false;
  }
}
