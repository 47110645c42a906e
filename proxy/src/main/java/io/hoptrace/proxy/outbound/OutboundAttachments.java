package io.hoptrace.proxy.outbound;

import io.hoptrace.proxy.procfs.SocketKey;
import io.undertow.util.AttachmentKey;
import java.net.InetAddress;

/** Per-exchange state of the outbound hop, one typed key per stage that produces it. */
final class OutboundAttachments {
  /** Set by target resolution (absolute-form, CONNECT authority, or route). */
  static final AttachmentKey<OutboundTarget> TARGET = AttachmentKey.create(OutboundTarget.class);

  /** The target's first address, set by the loop guard (which had to resolve it anyway). */
  static final AttachmentKey<InetAddress> TARGET_ADDRESS = AttachmentKey.create(InetAddress.class);

  /** Set by the correlate stage: the CLIENT span's context and the evidence for its parent. */
  static final AttachmentKey<ClientHop> HOP = AttachmentKey.create(ClientHop.class);

  /** The app's side of the connection, set when process links are on ({@link AppSocketHandler}). */
  static final AttachmentKey<SocketKey> APP_SOCKET = AttachmentKey.create(SocketKey.class);

  private OutboundAttachments() {}
}
