package io.hoptrace.propagation.w3c;

import io.hoptrace.context.TraceContext;
import io.hoptrace.propagation.PropagationContractTest;
import java.util.Map;
import org.jspecify.annotations.Nullable;

class TraceparentPropagationTest extends PropagationContractTest {
  @Override
  protected void inject(TraceContext context, Map<String, String> carrier) {
    carrier.put(TraceparentCodec.NAME, TraceparentCodec.toString(context));
  }

  @Override
  protected @Nullable TraceContext extract(Map<String, String> carrier) {
    String value = carrier.get(TraceparentCodec.NAME);
    return value == null ? null : TraceparentCodec.parse(value);
  }
}
