package io.hoptrace.testbed;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.jspecify.annotations.Nullable;

/**
 * The ground truth, as the apps record it: never from hoptrace's logs. Each app records every
 * inbound request it served (the load generator's or its caller's id from the {@code gt} query
 * parameter, which hoptrace does not use, and the trace and span ids it was handed) and every call
 * it made (for which inbound request, or none for a timer; how many requests it was serving then).
 */
final class Truth {
  /** An inbound request as the app saw it. */
  record Inbound(String service, String gt, String traceId, String spanId, boolean measured) {}

  /**
   * A call the app made: {@code callerGt} is the inbound request it was made for (null for a
   * background timer), {@code gt} the id the callee will record. For the timing-only ceiling
   * ({@link Ceiling}): {@code atNanos} when the app made it ({@link System#nanoTime}), and the
   * phase of the request that ended in this call — it began at {@code phaseStartNanos} (the
   * request's start, or the answer to its previous step) and its duration was drawn with mean
   * {@code phaseMeanMillis}; 0 for a call made together with the previous one (a parallel step),
   * negative for a timer's call (no request, no phase).
   */
  record Call(
      String caller,
      @Nullable String callerGt,
      String gt,
      String callee,
      int inFlight,
      boolean measured,
      String calleePath,
      long atNanos,
      long phaseStartNanos,
      double phaseMeanMillis) {
    boolean background() {
      return callerGt == null;
    }

    /** The kind of call: its caller and where it goes. */
    String kind() {
      return caller + " " + callee + " " + calleePath;
    }
  }

  /**
   * A fresh ground-truth id: 64 random bits in hex, unrelated to any other id (the caller's
   * included), so that a correlator that learns which inbound values reappear in outbound calls
   * cannot learn the ground truth itself. Which call each id belongs to is kept here, in {@link
   * Call#callerGt} → {@link Call#gt}, and the scorer joins on that.
   */
  static String newGt() {
    return String.format(
        java.util.Locale.ROOT,
        "%016x",
        java.util.concurrent.ThreadLocalRandom.current().nextLong());
  }

  final ConcurrentLinkedQueue<Inbound> inbound = new ConcurrentLinkedQueue<>();
  final ConcurrentLinkedQueue<Call> calls = new ConcurrentLinkedQueue<>();

  List<Inbound> inbound() {
    return new ArrayList<>(inbound);
  }

  List<Call> calls() {
    return new ArrayList<>(calls);
  }

  /** Writes {@code truth.jsonl}: one object per inbound request and per call, for a re-score. */
  void write(Path file) throws IOException {
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      for (Inbound i : inbound) {
        w.write(
            String.format(
                "{\"type\":\"inbound\",\"service\":\"%s\",\"gt\":\"%s\",\"traceId\":\"%s\","
                    + "\"spanId\":\"%s\",\"measured\":%s}%n",
                i.service(), i.gt(), i.traceId(), i.spanId(), i.measured()));
      }
      for (Call c : calls) {
        w.write(
            String.format(
                java.util.Locale.ROOT,
                "{\"type\":\"call\",\"caller\":\"%s\",\"callerGt\":%s,\"gt\":\"%s\","
                    + "\"callee\":\"%s\",\"inFlight\":%d,\"measured\":%s,"
                    + "\"calleePath\":\"%s\",\"atNanos\":%d,\"phaseStartNanos\":%d,"
                    + "\"phaseMeanMillis\":%s}%n",
                c.caller(),
                c.callerGt() == null ? "null" : "\"" + c.callerGt() + "\"",
                c.gt(),
                c.callee(),
                c.inFlight(),
                c.measured(),
                c.calleePath(),
                c.atNanos(),
                c.phaseStartNanos(),
                c.phaseMeanMillis()));
      }
    }
  }
}
