package io.hoptrace.proxy.procfs;

/**
 * The answer to "which of the app's processes owns this connection?": a pid, or why there is none.
 * Every answer but {@link Status#FOUND} is a shared constant, and found answers are cached, so a
 * repeated lookup allocates nothing.
 */
public final class OwnerLookup {
  /** Why a lookup ended. */
  public enum Status {
    /** Exactly one of the app's processes holds the socket: {@link #pid()}. */
    FOUND,
    /**
     * No app process holds it: the connection is gone, or its socket belongs to a process outside
     * the app (or to one not yet in the app's process list).
     */
    NOT_FOUND,
    /**
     * The connection exists but no process holds its socket: it is still in the app's accept queue,
     * or the app has closed it (the kernel finishes it alone). Known not to be any process's now.
     */
    UNOWNED,
    /** Several app processes hold it (an fd inherited across fork): no exact owner. */
    AMBIGUOUS,
    /** The time budget ran out first. */
    TIMED_OUT,
    /** Socket ownership cannot be read here (see {@link SocketOwnership#availability()}). */
    UNAVAILABLE
  }

  public static final OwnerLookup NOT_FOUND = new OwnerLookup(Status.NOT_FOUND, 0);
  public static final OwnerLookup UNOWNED = new OwnerLookup(Status.UNOWNED, 0);
  public static final OwnerLookup AMBIGUOUS = new OwnerLookup(Status.AMBIGUOUS, 0);
  public static final OwnerLookup TIMED_OUT = new OwnerLookup(Status.TIMED_OUT, 0);
  public static final OwnerLookup UNAVAILABLE = new OwnerLookup(Status.UNAVAILABLE, 0);

  private final Status status;
  private final long pid;

  private OwnerLookup(Status status, long pid) {
    this.status = status;
    this.pid = pid;
  }

  static OwnerLookup found(long pid) {
    return new OwnerLookup(Status.FOUND, pid);
  }

  public Status status() {
    return status;
  }

  public boolean isFound() {
    return status == Status.FOUND;
  }

  /** The owner's pid when {@link #isFound()}, else 0. */
  public long pid() {
    return pid;
  }

  @Override
  public String toString() {
    return isFound() ? "FOUND(" + pid + ")" : status.name();
  }
}
