package io.hoptrace.proxy;

import io.hoptrace.config.Settings;
import io.hoptrace.propagation.CompositeExtractor;
import io.hoptrace.propagation.Injector;

/** The extractor and injector a configuration asks for; one of each per process. */
final class Propagators {
  static CompositeExtractor extractor(Settings.Propagation settings) {
    CompositeExtractor.Builder b =
        CompositeExtractor.newBuilder()
            .b3(true) // DESIGN.md: incoming b3 / X-B3-* are always read, in their precedence
            .requestIdHeader(settings.requestIdHeader())
            .tracestateMaxLength(settings.tracestateMaxLength());
    String legacyTrace = settings.legacyTraceId();
    String legacySpan = settings.legacySpanId();
    if (legacyTrace != null && legacySpan != null) b.legacyPair(legacyTrace, legacySpan);
    return b.build();
  }

  static Injector injector(Settings.Propagation settings) {
    Injector.Builder b =
        Injector.newBuilder()
            .b3(
                switch (settings.b3()) {
                  case NONE -> Injector.B3Style.NONE;
                  case SINGLE -> Injector.B3Style.SINGLE;
                  case MULTI -> Injector.B3Style.MULTI;
                })
            .requestIdHeader(settings.requestIdHeader());
    String legacyTrace = settings.legacyTraceId();
    String legacySpan = settings.legacySpanId();
    if (legacyTrace != null && legacySpan != null) b.legacyPair(legacyTrace, legacySpan);
    return b.build();
  }

  private Propagators() {}
}
