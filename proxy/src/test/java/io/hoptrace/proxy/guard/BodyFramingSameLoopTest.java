package io.hoptrace.proxy.guard;

/** Every {@link BodyFramingTest} case again with {@code upstream.client = same-loop}. */
class BodyFramingSameLoopTest extends BodyFramingTest {
  BodyFramingSameLoopTest() {
    upstreamClient = "same-loop";
  }
}
