package io.hoptrace.proxy.appspans;

/**
 * Why a {@code POST /spans} was refused: the HTTP status, the reason the caller reads ({@code
 * spans[3].id: "xyz" (expected: 16 lowercase hex)}) and the metric it is counted under. None of the
 * request's spans is kept.
 */
final class AppSpanRejection extends Exception {
  private static final long serialVersionUID = 1L;

  /** Metric names ({@code hoptrace_appspans_refused_<reason>_total}). */
  static final String BAD_JSON = "bad_json";

  static final String BAD_FIELD = "bad_field";
  static final String TOO_LARGE = "too_large";
  static final String RATE = "rate";

  final int status;
  final String reason;

  AppSpanRejection(int status, String reason, String message) {
    super(message, null, false, false); // no stack trace: wire input, not a bug
    this.status = status;
    this.reason = reason;
  }

  static AppSpanRejection badField(String key, String value, String expected) {
    return new AppSpanRejection(
        400, BAD_FIELD, key + ": " + value + " (expected: " + expected + ")");
  }
}
