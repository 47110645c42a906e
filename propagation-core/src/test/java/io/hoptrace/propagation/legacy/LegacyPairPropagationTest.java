package io.hoptrace.propagation.legacy;

import io.hoptrace.context.TraceContext;
import io.hoptrace.propagation.MapCarrier;
import io.hoptrace.propagation.PropagationContractTest;
import java.util.Map;
import org.jspecify.annotations.Nullable;

class LegacyPairPropagationTest extends PropagationContractTest {
  static final LegacyPairCodec CODEC = LegacyPairCodec.of("X-Trace-Id", "X-Span-Id");

  @Override
  protected void inject(TraceContext context, Map<String, String> carrier) {
    CODEC.inject(context, carrier, MapCarrier.SETTER);
  }

  @Override
  protected @Nullable TraceContext extract(Map<String, String> carrier) {
    return LegacyPairCodec.parse(carrier.get("x-trace-id"), carrier.get("x-span-id"));
  }

  @Override
  protected boolean carriesSampled() {
    return false;
  }
}
