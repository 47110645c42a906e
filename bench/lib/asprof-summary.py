#!/usr/bin/env python3
"""Summarises an async-profiler collapsed-stack file of a hoptrace sidecar (bench/lib/asprof.sh).

    asprof-summary.py FILE REQUESTS INTERVAL_US [FRAME]

Everything in microseconds per request: samples x INTERVAL_US / REQUESTS. The Undertow I/O
threads (stacks through org.xnio.nio.WorkerThread.run) are split by what their innermost frame
is (kernel, hoptrace, Undertow/XNIO, the JDK's Java code, metrics libraries, native/VM), then
listed by self time, by the innermost hoptrace frame on the stack, and hoptrace's frames by
inclusive time. Frames are exact even when inlined (the sidecar runs with DebugNonSafepoints).
With FRAME (a substring of a frame's name), the time under the innermost frame that matches it,
by the frames it calls (three deep).
"""
import collections
import sys


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    path, requests, interval = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    focus = sys.argv[4] if len(sys.argv) > 4 else None
    us = lambda n: n * interval / requests
    kinds, selfs, ours, inclusive, others, under = (collections.Counter() for _ in range(6))
    io = under_total = 0
    for line in open(path):
        stack, n = line.rstrip("\n").rsplit(" ", 1)
        n = int(n)
        frames = stack.split(";")
        if focus:
            at = max((i for i, f in enumerate(frames) if focus in f), default=None)
            if at is not None:
                under_total += n
                below = frames[at + 1 : at + 4]
                under[" > ".join(f.split("/")[-1][:70] for f in below) or "[self]"] += n
        if not any("WorkerThread.run" in f for f in frames):
            others[frames[0][:50]] += n
            continue
        io += n
        leaf = frames[-1]
        kinds[kind(leaf)] += n
        selfs[leaf] += n
        mine = next((f for f in reversed(frames) if f.startswith("io/hoptrace")), None)
        ours[mine or "[none of ours] " + leaf] += n
        for f in set(frames):
            if f.startswith("io/hoptrace"):
                inclusive[f] += n
    print(f"I/O threads: {us(io):.2f} us/req; other threads {us(sum(others.values())):.2f}")
    listing(None, kinds, None, us)
    listing("self (top 40):", selfs, 40, us)
    listing("by the innermost hoptrace frame (top 40):", ours, 40, us)
    listing("hoptrace frames, inclusive (top 50):", inclusive, 50, us)
    listing("other threads (top 8):", others, 8, us)
    if focus:
        listing(f"under {focus}: {us(under_total):.2f} us/req", under, 30, us)


def listing(title, counter, top, us):
    if title:
        print(title)
    for k, v in counter.most_common(top):
        print(f"  {us(v):7.2f}  {k[:140]}")


def kind(frame):
    if frame.endswith("_[k]"):
        return "kernel"
    if frame.startswith("io/hoptrace"):
        return "hoptrace"
    if frame.startswith(("io/undertow", "org/xnio", "org/eclipse/jetty")):
        return "Undertow / XNIO / Jetty"
    if frame.startswith(("com/codahale", "io/prometheus")):
        return "metrics libraries"
    if frame.startswith(("java/", "sun/", "jdk/")):
        return "JDK (Java code)"
    return "native, stubs, VM"


if __name__ == "__main__":
    main()
