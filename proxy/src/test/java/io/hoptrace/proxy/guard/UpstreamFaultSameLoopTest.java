package io.hoptrace.proxy.guard;

/** Every {@link UpstreamFaultTest} case again with {@code upstream.client = same-loop}. */
class UpstreamFaultSameLoopTest extends UpstreamFaultTest {
  UpstreamFaultSameLoopTest() {
    upstreamClient = "same-loop";
  }
}
