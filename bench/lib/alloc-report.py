#!/usr/bin/env python3
"""Allocation and CPU per request from a JFR recording (bench/lib/alloc.sh).

  alloc-report.py RECORDING.jfr REQUESTS [TOP]

Per thread: bytes allocated during the recording (jdk.ThreadAllocationStatistics, first and last
value of each thread) / requests. Per site: jdk.ObjectAllocationSample weights (an estimate of the
bytes each sample stands for) summed by the first frame outside java.*/jdk.*/sun.* and by the
allocating frame, per request. CPU: jdk.ExecutionSample counts by top frame, as shares.
"""
import collections
import json
import subprocess
import sys


def events(jfr, names):
    out = subprocess.run(
        ["jfr", "print", "--json", "--events", ",".join(names), jfr],
        check=True, capture_output=True, text=True).stdout
    return json.loads(out)["recording"]["events"]


def frame_name(f):
    m = f["method"]
    return f'{m["type"]["name"]}.{m["name"]}:{f.get("lineNumber", "?")}'


def is_platform(f):
    t = f["method"]["type"]["name"].replace("/", ".")
    return t.startswith(("java.", "jdk.", "sun."))


def lib(frames):
    for f in frames:
        t = f["method"]["type"]["name"].replace("/", ".")
        for prefix in ("io.undertow", "org.xnio", "org.eclipse.jetty", "com.codahale"):
            if t.startswith(prefix):
                return prefix
    return "jdk"


def thread_name(e):
    t = e.get("eventThread") or e.get("thread") or e.get("sampledThread")
    return (t or {}).get("javaName") or (t or {}).get("osName") or "?"


def main():
    jfr, requests = sys.argv[1], int(sys.argv[2])
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    stats = collections.defaultdict(list)
    for e in events(jfr, ["jdk.ThreadAllocationStatistics"]):
        stats[e["values"]["thread"]["javaName"] if e["values"].get("thread") else "?"].append(
            e["values"]["allocated"])
    print(f"bytes allocated per request, by thread ({requests} requests):")
    total = 0
    for name, vals in sorted(stats.items(), key=lambda kv: -(max(kv[1]) - min(kv[1]))):
        b = (max(vals) - min(vals)) / requests
        total += b
        if b >= 1:
            print(f"  {name:<28} {b:9.0f} B/req")
    print(f"  {'all threads':<28} {total:9.0f} B/req")

    samples = events(jfr, ["jdk.ObjectAllocationSample"])
    by_site = collections.Counter()
    by_class = collections.Counter()
    by_ours = collections.Counter()
    by_thread = collections.Counter()
    weight_total = 0
    # The first sample of each thread carries everything the thread allocated before the
    # recording began: skip it.
    seen = set()
    samples.sort(key=lambda e: e["values"]["startTime"])
    kept = []
    for e in samples:
        t = thread_name(e["values"])
        if t in seen:
            kept.append(e)
        seen.add(t)
    samples = kept
    for e in samples:
        v = e["values"]
        w = v["weight"]
        weight_total += w
        frames = (v.get("stackTrace") or {}).get("frames") or []
        ours = next((f for f in frames if f["method"]["type"]["name"].startswith("io/hoptrace")
                     or f["method"]["type"]["name"].startswith("io.hoptrace")), None)
        if ours is None:
            ours = next((f for f in frames if not is_platform(f)), None)
        alloc = frame_name(frames[0]) if frames else "?"
        site = frame_name(ours) if ours else "?"
        by_site[(site, alloc)] += w
        by_ours[site.rsplit(":", 1)[0] if ours else "(no hoptrace frame) " + lib(frames)] += w
        by_class[v["objectClass"]["name"]] += w
        by_thread[thread_name(v)] += w
    print(f"\nallocation samples: {len(samples)}, weight {weight_total / requests:.0f} B/req")
    print("by thread (sampled):")
    for name, w in by_thread.most_common(6):
        print(f"  {name:<28} {w / requests:9.0f} B/req")
    print("by class:")
    for name, w in by_class.most_common(top):
        print(f"  {w / requests:7.0f} B/req  {name}")
    print("by innermost hoptrace method on the stack (else the library that allocated):")
    for name, w in by_ours.most_common(top * 2):
        print(f"  {w / requests:7.0f} B/req  {name}")
    print("by site (innermost hoptrace frame, else first non-JDK frame  <-  allocating frame):")
    for (site, alloc), w in by_site.most_common(top * 2):
        print(f"  {w / requests:7.0f} B/req  {site}  <-  {alloc}")

    cpu = collections.Counter()
    ours_cpu = collections.Counter()
    n = 0
    for e in events(jfr, ["jdk.ExecutionSample"]):
        frames = (e["values"].get("stackTrace") or {}).get("frames") or []
        if not frames:
            continue
        n += 1
        cpu[frame_name(frames[0]).rsplit(":", 1)[0]] += 1
        ours = next((f for f in frames if f["method"]["type"]["name"].startswith("io.hoptrace")), None)
        if ours:
            ours_cpu[frame_name(ours).rsplit(":", 1)[0]] += 1
    print(f"\nexecution samples: {n}; top frames:")
    for name, c in cpu.most_common(top):
        print(f"  {100 * c / max(n, 1):5.1f} %  {name}")
    print("innermost hoptrace frame on the stack:")
    for name, c in ours_cpu.most_common(top):
        print(f"  {100 * c / max(n, 1):5.1f} %  {name}")


if __name__ == "__main__":
    main()
