package io.hoptrace.proxy.procfs;

import static java.util.Objects.requireNonNull;

import io.hoptrace.correlation.CandidateFilter;
import io.hoptrace.correlation.InboundRequest;
import io.hoptrace.correlation.OutboundCall;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * The {@code process} evidence as the correlator's {@link CandidateFilter}: one batch lookup of the
 * owner of the app's outbound connection ({@link OutboundCall#connectionKey()}) and of every
 * candidate's app-side connection ({@link InboundRequest#connectionKey()}), both {@link
 * SocketKey}s, then {@link ProcessLinker#narrow}.
 *
 * <p>The inbound hop binds each request's key when Jetty has chosen the connection, before a byte
 * of the request is sent ({@code AppForwardHandler.proxyToServerConnection}); a request whose
 * address cannot be read is bound to {@link #UNKNOWN_CONNECTION}. So a candidate with no key yet is
 * one the app has not received: it cannot have caused the call and counts as owned by {@link
 * ProcessLinker#NOBODY}. Without that, every call made while another request is being connected
 * would lose its exact link.
 *
 * <p>The correlator asks only when it would otherwise infer among two or more requests in flight,
 * so the lookup (bounded by {@code procfs.lookup-budget}) never runs on the header, sole or root
 * paths. It blocks: call it from a worker thread, never an I/O thread. Any failure (timeout,
 * unavailable, a key missing) is "no evidence", never an exception.
 */
public final class ProcessEvidence implements CandidateFilter {
  /** Bound to a request whose connection's addresses could not be read: owner unknown. */
  public static final Object UNKNOWN_CONNECTION =
      new Object() {
        @Override
        public String toString() {
          return "unknown connection";
        }
      };

  private final SocketOwnership ownership;
  private final LongAdder asked = new LongAdder();
  private final LongAdder process = new LongAdder();
  private final LongAdder narrowed = new LongAdder();
  private final LongAdder lookupNanos = new LongAdder();
  private final LongAdder retried = new LongAdder();
  private final LongAdder rechecked = new LongAdder();
  private final LongAdder heldAll = new LongAdder();

  public ProcessEvidence(SocketOwnership ownership) {
    this.ownership = requireNonNull(ownership, "ownership");
  }

  @Override
  public @Nullable Narrowing narrow(OutboundCall call, List<InboundRequest> candidates) {
    if (!(call.connectionKey() instanceof SocketKey outbound)) return null;
    long start = System.nanoTime();
    asked.increment();
    try {
      return narrow(outbound, candidates);
    } catch (RuntimeException e) {
      return null; // evidence is optional: never let it fail a call
    } finally {
      lookupNanos.add(System.nanoTime() - start);
    }
  }

  private @Nullable Narrowing narrow(SocketKey outbound, List<InboundRequest> candidates) {
    int n = candidates.size();
    // Read each key once: the inbound hop may bind one while this runs.
    Object[] bound = new Object[n];
    List<SocketKey> keys = new ArrayList<>(n + 1);
    keys.add(outbound);
    for (int i = 0; i < n; i++) {
      bound[i] = candidates.get(i).connectionKey();
      if (bound[i] instanceof SocketKey k) keys.add(k);
    }
    List<OwnerLookup> owners = retryNotFound(keys, ownership.ownerPids(keys));
    OwnerLookup caller = owners.get(0);
    if (!caller.isFound()) return null;
    Map<InboundRequest, Long> ownerOf = new HashMap<>(); // InboundRequest has identity equality
    int next = 1;
    for (int i = 0; i < n; i++) {
      long pid;
      if (bound[i] instanceof SocketKey) {
        pid = pidOf(owners.get(next++));
      } else if (bound[i] == null) {
        pid = ProcessLinker.NOBODY; // not sent to the app yet (see above)
      } else {
        pid = 0L; // unknown
      }
      ownerOf.put(candidates.get(i), pid);
    }
    ProcessLinker.Result<InboundRequest> result =
        ProcessLinker.narrow(caller.pid(), candidates, r -> ownerOf.getOrDefault(r, 0L));
    if (result.kind() == ProcessLinker.Kind.NARROWED) {
      result = recheckOwn(caller.pid(), candidates, result, ownerOf);
    }
    switch (result.kind()) {
      case PROCESS -> {
        process.increment();
        return Narrowing.exact(result.single());
      }
      case NARROWED -> {
        narrowed.increment();
        return Narrowing.subset(result.candidates());
      }
      default -> {
        if (heldAll(caller.pid(), candidates, ownerOf)) heldAll.increment();
        return null;
      }
    }
  }

  /** Whether the caller holds every candidate (nothing to narrow): a threaded worker took all. */
  private static boolean heldAll(
      long callerPid, List<InboundRequest> candidates, Map<InboundRequest, Long> ownerOf) {
    for (InboundRequest r : candidates) {
      if (ownerOf.getOrDefault(r, 0L) != callerPid) return false;
    }
    return !candidates.isEmpty();
  }

  /**
   * The caller seems to hold several requests: check whether it still holds the connections it was
   * found to own. A cached owner lasts until hoptrace's side of the connection closes, but a sync
   * worker closes its side as soon as it has answered, and takes its next connection while hoptrace
   * may not have read that answer yet (on a loaded machine: up to 9 of 100 calls, each narrowed to
   * the worker's request and its previous, already answered one). The TCP table shows such a
   * connection unowned; it goes to nobody, and the call is exact again. Only this case pays (one
   * read of the TCP tables, no fd scan: a threaded worker's live connections stay cached).
   */
  private ProcessLinker.Result<InboundRequest> recheckOwn(
      long callerPid,
      List<InboundRequest> candidates,
      ProcessLinker.Result<InboundRequest> first,
      Map<InboundRequest, Long> ownerOf) {
    List<InboundRequest> own = new ArrayList<>();
    List<SocketKey> keys = new ArrayList<>();
    for (InboundRequest r : first.candidates()) {
      if (ownerOf.getOrDefault(r, 0L) == callerPid && r.connectionKey() instanceof SocketKey k) {
        own.add(r);
        keys.add(k);
      }
    }
    if (keys.size() < 2) return first;
    rechecked.increment();
    boolean[] released = ownership.released(keys);
    boolean changed = false;
    for (int i = 0; i < own.size(); i++) {
      if (released[i]) {
        ownerOf.put(own.get(i), ProcessLinker.NOBODY);
        changed = true;
      }
    }
    if (!changed) return first;
    return ProcessLinker.narrow(callerPid, candidates, r -> ownerOf.getOrDefault(r, 0L));
  }

  /**
   * Looks up once more the connections no row was found for. The kernel writes /proc/net/tcp a page
   * at a time and resumes each page by position in its hash table, so a row can be skipped when
   * other connections open or close between two pages, which a busy app does all the time. A second
   * read (found owners are cached, so it reads only for the missing ones) recovers most of them;
   * only this case pays for it.
   */
  private List<OwnerLookup> retryNotFound(List<SocketKey> keys, List<OwnerLookup> owners) {
    List<SocketKey> again = new ArrayList<>(2);
    for (int i = 0; i < owners.size(); i++) {
      if (owners.get(i).status() == OwnerLookup.Status.NOT_FOUND) again.add(keys.get(i));
    }
    if (again.isEmpty()) return owners;
    retried.increment();
    List<OwnerLookup> second = ownership.ownerPids(again);
    List<OwnerLookup> merged = new ArrayList<>(owners);
    int j = 0;
    for (int i = 0; i < merged.size(); i++) {
      if (merged.get(i).status() == OwnerLookup.Status.NOT_FOUND) merged.set(i, second.get(j++));
    }
    return merged;
  }

  private static long pidOf(OwnerLookup lookup) {
    return switch (lookup.status()) {
      case FOUND -> lookup.pid();
      case UNOWNED -> ProcessLinker.NOBODY;
      default -> 0L;
    };
  }

  public SocketOwnership ownership() {
    return ownership;
  }

  /** Calls the correlator asked about (two or more in flight, no header naming one). */
  public long asked() {
    return asked.sum();
  }

  /** Calls linked {@code process}. */
  public long processLinks() {
    return process.sum();
  }

  /** Calls whose candidates shrank to the calling worker's. */
  public long narrowedLinks() {
    return narrowed.sum();
  }

  /** Calls whose lookup was repeated for connections with no row found. */
  public long retried() {
    return retried.sum();
  }

  /** Calls whose caller seemed to own several requests, its connections checked still held. */
  public long rechecked() {
    return rechecked.sum();
  }

  /**
   * Calls whose caller held every request in flight: exact evidence, with nothing to narrow (one
   * threaded worker had accepted them all).
   */
  public long heldAll() {
    return heldAll.sum();
  }

  /** Wall time spent in lookups, in total. */
  public long lookupNanos() {
    return lookupNanos.sum();
  }
}
