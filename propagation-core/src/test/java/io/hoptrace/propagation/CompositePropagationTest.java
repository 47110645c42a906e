package io.hoptrace.propagation;

import io.hoptrace.context.TraceContext;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** The injector and the composite extractor together, as the proxy uses them between hops. */
class CompositePropagationTest extends PropagationContractTest {
  static final Injector INJECTOR = Injector.newBuilder().b3(Injector.B3Style.MULTI).build();
  static final CompositeExtractor EXTRACTOR = CompositeExtractor.newBuilder().build();

  @Override
  protected void inject(TraceContext context, Map<String, String> carrier) {
    INJECTOR.inject(context, carrier, MapCarrier.SETTER);
  }

  @Override
  protected @Nullable TraceContext extract(Map<String, String> carrier) {
    return EXTRACTOR.extract(carrier, MapCarrier.GETTER, true).parent();
  }
}
