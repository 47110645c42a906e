package io.hoptrace.proxy.outbound;

import static java.util.Objects.requireNonNull;

import io.hoptrace.proxy.guard.Refusals;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.net.InetAddress;
import java.util.List;

/**
 * Stage 3: refuses a target that is one of this hoptrace's own listeners. An app whose proxy
 * settings also cover its own sidecar (or a mistyped route) would otherwise send each request round
 * the loop until something runs out.
 *
 * <p>Resolves the target's name, so for a name it runs on a worker thread (the chain is dispatched
 * before it); an address literal needs no lookup and stays on the I/O thread. A name that does not
 * resolve passes: the upstream answers 502 for it.
 */
final class LoopGuardHandler implements HttpHandler {
  private final OwnPorts ownPorts;
  private final Refusals refusals;
  private final HttpHandler next;

  LoopGuardHandler(OwnPorts ownPorts, Refusals refusals, HttpHandler next) {
    this.ownPorts = requireNonNull(ownPorts, "ownPorts");
    this.refusals = requireNonNull(refusals, "refusals");
    this.next = next;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    OutboundTarget target = exchange.getAttachment(OutboundAttachments.TARGET);
    if (target == null) throw new IllegalStateException("no target: composition error");
    // An address literal's were parsed once, with the target; a name is resolved each time.
    List<InetAddress> addresses = target.addresses();
    if (!addresses.isEmpty()) {
      exchange.putAttachment(OutboundAttachments.TARGET_ADDRESS, addresses.get(0));
    }
    if (ownPorts.isOwn(target.port(), addresses)) {
      refusals.refuse(exchange, Refusal.LOOP, target.authority());
      return;
    }
    next.handleRequest(exchange);
  }
}
