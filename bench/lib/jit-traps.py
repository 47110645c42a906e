#!/usr/bin/env python3
"""Where a JVM's deoptimisation traps and C2 compiles fell, run by run of bench/run.sh.

JDK 17 has no `deoptimization` log tag, so the sidecars run with
-XX:+UnlockDiagnosticVMOptions -XX:+LogCompilation -XX:LogFile=DIR/jit-%p.log (JAVA_OPTS), and
run.sh --keep leaves phases.tsv (row, phase, start and end in epoch ms of every wrk run) in its
work directory. Each event of the log is placed by its stamp (seconds since the JVM started; the
log's root element gives the start in epoch ms) in the run it fell in, or in the gap before the
next one. bench/README.md, "Rate warm-up paths (s20)".

    bench/lib/jit-traps.py WORK/phases.tsv DIR/jit-*.log

Prints, per JVM, a table of every run and gap with events: uncommon traps (in compiled code at
run time), make_not_entrant of C2 code (compiled methods thrown away) and C2 compiles installed; then the
trap sites of the measured runs (phases rate.N, cN) and of the traps on the sites session 19 named
(the new-connection paths).
"""
import re
import sys
from collections import defaultdict

# Session 19's new-connection sites (results/2026-11-26-s19-deopt-traps.md).
WATCHED = (
    "SameLoopForwarder$Pool take",
    "ConnectionKeys of",
    "CallerAddress of",
    "WorkerThread run",
    "ConnectorStatisticsImpl setup",
)
ATTR = re.compile(r"(\w+)='([^']*)'")


def attrs(line):
    return dict(ATTR.findall(line))


def load_phases(path):
    phases = []
    with open(path) as f:
        for line in f:
            row, phase, start, end = line.rstrip("\n").split("\t")
            phases.append((int(start), int(end), row, phase))
    phases.sort()
    return phases


def place(phases, t_ms):
    """The run the instant falls in, or 'gap before <run>' / 'after the last run'."""
    for start, end, row, phase in phases:
        if t_ms < start:
            return f"(gap before {row} {phase})"
        if t_ms <= end:
            return f"{row} {phase}"
    return "(after the last run)"


def measured(label):
    m = re.match(r"^\S+ (rate\.\d+|c\d+)$", label)
    return m is not None and not label.startswith("nginx ") and not label.startswith("direct ")


def read_log(path):
    """Yields (kind, stamp_s, attrs, site) from the log's tty part."""
    start_ms = None
    pending = None
    with open(path, errors="replace") as f:
        for line in f:
            if start_ms is None and line.startswith("<hotspot_log"):
                start_ms = int(attrs(line)["time_ms"])
                yield ("start", 0.0, {"time_ms": start_ms, "process": attrs(line).get("process", "?")}, "")
                continue
            if line.startswith("<uncommon_trap thread="):
                a = attrs(line)
                # The JVM logs a trap twice, the second time with its count and state: once here.
                if "count" in a:
                    continue
                pending = a
                if line.rstrip().endswith("/>"):
                    yield ("trap", float(a["stamp"]), a, "?")
                    pending = None
                continue
            if pending is not None and line.startswith("<jvms"):
                a = attrs(line)
                site = a.get("method", "?").replace("/", ".") + " @" + a.get("bci", "?")
                yield ("trap", float(pending["stamp"]), pending, site)
                pending = None
                continue
            # C2's code thrown away (C1's tier-3 code is made not entrant whenever C2 replaces it).
            if line.startswith("<make_not_entrant thread=") and "compiler='c2'" in line:
                a = attrs(line)
                yield ("not_entrant", float(a["stamp"]), a, "")
                continue
            if line.startswith("<nmethod ") and "compiler='c2'" in line and "stamp=" in line:
                a = attrs(line)
                yield ("c2", float(a["stamp"]), a, "")


def report(phases, path):
    counts = defaultdict(lambda: defaultdict(int))
    sites = defaultdict(lambda: defaultdict(int))
    order = []
    start_ms = None
    process = "?"
    for kind, stamp, a, site in read_log(path):
        if kind == "start":
            start_ms = a["time_ms"]
            process = a["process"]
            continue
        label = place(phases, start_ms + int(stamp * 1000))
        if label not in counts:
            order.append(label)
        counts[label][kind] += 1
        if kind == "trap":
            short = site.split(" (")[0] + " @" + site.rsplit("@", 1)[-1] if "(" in site else site
            key = f"{a.get('reason')}/{a.get('action')} {short}"
            sites[label][key] += 1
            if any(w in site for w in WATCHED):
                counts[label]["watched"] += 1
    # Runs in time order; the JVM's start-up (before its first row) is left out of the detail.
    rank = {f"{r} {p}": s for s, _, r, p in phases}

    def when(label):
        m = re.match(r"^\(gap before (.*)\)$", label)
        key = m.group(1) if m else label
        return (rank.get(key, float("inf")), 0 if m else 1)

    print(f"### JVM {process} ({path})\n")
    print("| run (or the gap before it) | uncommon traps | of which on s19's new-connection sites | C2 code made not entrant | C2 compiles |")
    print("|---|--:|--:|--:|--:|")
    totals = defaultdict(lambda: defaultdict(int))
    for label in sorted(order, key=when):
        c = counts[label]
        print(f"| {label} | {c['trap']} | {c['watched']} | {c['not_entrant']} | {c['c2']} |")
        if measured(label):
            group = "rate" if " rate." in label else "closed"
            for k in ("trap", "watched", "not_entrant", "c2"):
                totals[group][k] += c[k]
    for group, name in (("rate", "the JVM rows' measured runs at the rate (rate.N)"),
                        ("closed", "their measured closed-loop runs (cN)")):
        t = totals[group]
        print(f"| **{name}** | **{t['trap']}** | **{t['watched']}** | **{t['not_entrant']}** | **{t['c2']}** |")
    print()
    for label in sorted(order, key=when):
        if not measured(label) or not sites[label]:
            continue
        print(f"- {label}: " + "; ".join(f"{k} ×{n}" for k, n in sorted(sites[label].items())))
    print()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    phases = load_phases(sys.argv[1])
    for path in sys.argv[2:]:
        report(phases, path)


if __name__ == "__main__":
    main()
