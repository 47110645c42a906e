package io.hoptrace.propagation.b3;

import io.hoptrace.context.TraceContext;
import io.hoptrace.propagation.PropagationContractTest;
import java.util.Map;
import org.jspecify.annotations.Nullable;

class B3SinglePropagationTest extends PropagationContractTest {
  @Override
  protected void inject(TraceContext context, Map<String, String> carrier) {
    carrier.put(B3SingleCodec.NAME, B3SingleCodec.toString(context));
  }

  @Override
  protected @Nullable TraceContext extract(Map<String, String> carrier) {
    String value = carrier.get(B3SingleCodec.NAME);
    return value == null ? null : B3SingleCodec.parse(value);
  }

  @Override
  protected boolean carriesParentId() {
    return true;
  }
}
