package io.hoptrace.proxy.appspans;

import io.hoptrace.span.Kind;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One span as the app reported it, validated. {@code traceIdHigh == traceIdLow == 0} means the app
 * gave no trace id: the correlator picks the parent. {@code id == 0} means none was given (allowed
 * only then).
 *
 * @param tags key, value, key, value, ... in the order given
 */
record AppSpan(
    long traceIdHigh,
    long traceIdLow,
    long id,
    long parentId,
    Kind kind,
    String name,
    long timestampMicros,
    long durationMicros,
    @Nullable String serviceName,
    @Nullable String remoteIp,
    int remotePort,
    List<String> tags) {

  boolean hasTraceId() {
    return traceIdHigh != 0L || traceIdLow != 0L;
  }
}
