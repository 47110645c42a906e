package io.hoptrace.propagation.b3;

import io.hoptrace.context.TraceContext;
import io.hoptrace.propagation.MapCarrier;
import io.hoptrace.propagation.PropagationContractTest;
import java.util.Map;
import org.jspecify.annotations.Nullable;

class B3MultiPropagationTest extends PropagationContractTest {
  @Override
  protected void inject(TraceContext context, Map<String, String> carrier) {
    B3MultiCodec.inject(context, carrier, MapCarrier.SETTER);
  }

  @Override
  protected @Nullable TraceContext extract(Map<String, String> carrier) {
    return B3MultiCodec.parse(
        carrier.get(B3MultiCodec.TRACE_ID),
        carrier.get(B3MultiCodec.SPAN_ID),
        carrier.get(B3MultiCodec.PARENT_SPAN_ID),
        carrier.get(B3MultiCodec.SAMPLED),
        carrier.get(B3MultiCodec.FLAGS));
  }

  @Override
  protected boolean carriesParentId() {
    return true;
  }
}
