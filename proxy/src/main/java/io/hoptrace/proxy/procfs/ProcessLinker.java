package io.hoptrace.proxy.procfs;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;
import org.jspecify.annotations.Nullable;

/**
 * The {@code process} link rule on plain inputs, independent of the correlator's types: given the
 * pid that owns an outbound connection and the in-flight inbound requests with the pids owning
 * their app-side connections, which inbound requests can have caused the call.
 *
 * <ul>
 *   <li>{@link Kind#PROCESS}: exactly one in-flight request is owned by that pid and every other
 *       request's owner is known (to be another process). A sync worker serves one request at a
 *       time, so that request is the cause: exact.
 *   <li>{@link Kind#NARROWED}: the pid owns several (a threaded worker), or owns one while some
 *       owners are unknown: the candidates shrink to the pid's own plus the unknown ones, and the
 *       correlator chooses among those.
 *   <li>{@link Kind#UNCHANGED}: the outbound owner is unknown, or owns none of the in-flight
 *       requests (a background job, a late call after the response, or work handed between
 *       processes): the correlator works on the full set, as without /proc.
 * </ul>
 *
 * <p>Why unknown owners stay in: an owner lookup can time out or race a close, and "exact" must not
 * rest on a lookup that did not happen. Requests owned by other known processes are the only ones
 * ever removed.
 */
public final class ProcessLinker {
  /**
   * The owner to report for a connection no process holds ({@link OwnerLookup.Status#UNOWNED}: in
   * the accept queue, or closed by the app): known, and not the caller, so it is removed like a
   * request owned by another process. Greater than any pid.
   */
  public static final long NOBODY = Long.MAX_VALUE;

  /** How far the candidates shrank. */
  public enum Kind {
    PROCESS,
    NARROWED,
    UNCHANGED
  }

  /** The candidates left for the correlator; for {@link Kind#PROCESS}, the single cause. */
  public static final class Result<R> {
    private final Kind kind;
    private final List<R> candidates;

    Result(Kind kind, List<R> candidates) {
      this.kind = kind;
      this.candidates = candidates;
    }

    public Kind kind() {
      return kind;
    }

    /** The requests still in the running; unmodifiable; for PROCESS exactly one. */
    public List<R> candidates() {
      return candidates;
    }

    /** The single cause when {@link #kind()} is PROCESS. */
    public R single() {
      if (kind != Kind.PROCESS) {
        throw new IllegalStateException("not a process link: " + kind);
      }
      return candidates.get(0);
    }

    @Override
    public String toString() {
      return kind + " " + candidates;
    }
  }

  /**
   * Applies the rule.
   *
   * @param outboundOwnerPid the pid owning the app's outbound connection; {@code <= 0} if unknown
   * @param inFlight the inbound requests in flight (the correlator's candidates)
   * @param ownerPidOf the pid owning a request's app-side connection, {@code <= 0} if unknown,
   *     {@link #NOBODY} if no process holds it; pass a constant function, not a new lambda per call
   */
  public static <R> Result<R> narrow(
      long outboundOwnerPid, Collection<R> inFlight, ToLongFunction<? super R> ownerPidOf) {
    requireNonNull(inFlight, "inFlight");
    requireNonNull(ownerPidOf, "ownerPidOf");
    if (outboundOwnerPid <= 0 || inFlight.isEmpty()) {
      return unchanged(inFlight);
    }
    List<R> own = new ArrayList<>(2);
    List<R> unknown = new ArrayList<>(2);
    for (R r : inFlight) {
      long pid = ownerPidOf.applyAsLong(r);
      if (pid == outboundOwnerPid) {
        own.add(r);
      } else if (pid <= 0) {
        unknown.add(r);
      }
    }
    if (own.isEmpty()) {
      return unchanged(inFlight);
    }
    if (own.size() == 1 && unknown.isEmpty()) {
      return new Result<>(Kind.PROCESS, Collections.singletonList(own.get(0)));
    }
    own.addAll(unknown);
    if (own.size() == inFlight.size()) {
      return unchanged(inFlight);
    }
    return new Result<>(Kind.NARROWED, Collections.unmodifiableList(own));
  }

  /**
   * As {@link #narrow(long, Collection, ToLongFunction)} with owners in a map; a request missing
   * from it, or mapped to null or {@code <= 0}, has an unknown owner.
   */
  public static <R> Result<R> narrow(
      long outboundOwnerPid, Map<R, ? extends @Nullable Long> inboundOwnerPids) {
    requireNonNull(inboundOwnerPids, "inboundOwnerPids");
    return narrow(
        outboundOwnerPid,
        inboundOwnerPids.keySet(),
        r -> {
          Long pid = inboundOwnerPids.get(r);
          return pid == null ? 0 : pid;
        });
  }

  private static <R> Result<R> unchanged(Collection<R> inFlight) {
    return new Result<>(Kind.UNCHANGED, Collections.unmodifiableList(new ArrayList<>(inFlight)));
  }

  private ProcessLinker() {}
}
