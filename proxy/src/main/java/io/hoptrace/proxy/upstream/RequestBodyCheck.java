package io.hoptrace.proxy.upstream;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;
import org.jspecify.annotations.Nullable;

/**
 * A check on the request body's framing that may refuse the request after forwarding has begun (the
 * guard's strict chunk check), attached to the exchange under {@link #KEY} when there is one.
 *
 * <p>A read that fails below Undertow's chunk decoder makes the decoder close the connection at
 * once, leaving no way to answer. So while the forwarder is the body's reader the check is
 * <em>armed</em>: a violation ends the body early instead (the bytes before it are delivered, the
 * reads after it return nothing and read nothing), the forwarder aborts the upstream request, and,
 * if no response has started towards the client, answers the refusal ({@link #refuse}). Disarmed
 * (anyone else reading, e.g. Undertow discarding the rest of a body once the exchange ended), a
 * violation fails the read and the connection is cut.
 *
 * <p>Everything here is called on the exchange's IO thread only.
 */
public interface RequestBodyCheck {
  AttachmentKey<RequestBodyCheck> KEY = AttachmentKey.create(RequestBodyCheck.class);

  /** Arms (the forwarder reads the body and will answer a violation) or disarms the check. */
  void armed(boolean armed);

  /** What broke the framing, e.g. {@code bad chunk size}; null while the body is well-formed. */
  @Nullable String violation();

  /**
   * The refusal as the span's {@code error} tag has it after {@code refused: }, e.g. {@code
   * bad_chunked_body: bad chunk size}. Only once {@link #violation()} is not null.
   */
  String refusal();

  /**
   * Answers the refusal: its status, {@code Connection: close}, {@code Proxy-Status} and the
   * one-line body, as every refusal is answered; the exchange ends (and the connection closes) once
   * it is written. Only before any response has started. Counts nothing and writes no span: the
   * violation was counted when found, and the exchange's span carries the refusal.
   */
  void refuse(HttpServerExchange exchange);
}
