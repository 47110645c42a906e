#!/usr/bin/env bash
# Where the Undertow I/O thread's CPU goes per request (bench/README.md, "Request path CPU (s16)"):
# a backend nginx and one sidecar (the launcher's flags plus -XX:+PreserveFramePointer and a perf map),
# a warm-up at 16 connections, then `perf record -e cpu-clock -g` of the sidecar during a
# 16-connection run. Prints the I/O thread's samples per request, its user/kernel split, and the
# user-space frames by self time and by inclusive time (Java frames named through the perf map; an
# inlined method's samples count as its compiled caller's), then the samples grouped by the
# innermost frame of ours (io.hoptrace.*) on the stack, Undertow's HostHeaderHandler and regex
# apart. Starting JFR in the warmed process (to see inlined frames) deoptimised it and sampled only
# every 10 ms: not used.
#
#   bench/lib/profile.sh [JAR] [inbound|outbound]     (wrap it in the shared bench lock)
#
# Environment: PROFILE_DURATION (8 s), PROFILE_WARMUP (15 s), PROFILE_TOP (40 lines),
# HOPTRACE_RUN_ARGS (more `run` arguments), JAVA_OPTS (after the launcher's flags).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jar=${1:-$here/../../proxy/target/hoptrace.jar}
mode=${2:-inbound}
duration=${PROFILE_DURATION:-8}
warmup=${PROFILE_WARMUP:-15}
top=${PROFILE_TOP:-40}
work=$(mktemp -d /tmp/hoptrace-profile.XXXXXX)
command -v perf >/dev/null || { echo "needs perf (apt-get install linux-perf)" >&2; exit 2; }
# shellcheck source=bench/lib/sidecar.sh
source "$here/sidecar.sh"
start_launched_sidecar "$mode" profile "$jar" "-XX:+PreserveFramePointer ${JAVA_OPTS:-}"

echo "proxy $jar, $mode; warm-up ${warmup}s at 16 connections" >&2
taskset -c 0 wrk -t1 -c16 -d"${warmup}s" -s "$here/closed.lua" "$url" >/dev/null 2>&1
perf record -e cpu-clock -c 100000 -g -p "$pid" -o "$work/perf.data" -- sleep "$((duration + 1))" 2>"$work/perf-record.log" &
perf_pid=$!
sleep 0.5
taskset -c 0 wrk -t1 -c16 -d"${duration}s" -s "$here/closed.lua" "$url" >"$work/wrk.txt" 2>&1
wait "$perf_pid" || true
requests=$(awk '/requests in/ { print $1 }' "$work/wrk.txt")
jcmd "$pid" Compiler.perfmap >/dev/null # /tmp/perf-PID.map, read by perf report
echo "== $requests requests at 16 connections in ${duration}s; load $(cut -d' ' -f1-3 /proc/loadavg)"

# one sample per 100 us of cpu-clock (-c 100000 ns)
perf report -i "$work/perf.data" --stdio --no-children --sort comm -g none 2>/dev/null |
  awk '/^#/ || NF == 0 { next } { print "  thread " $0 }'
perf script -i "$work/perf.data" -F comm,ip,sym,dso 2>/dev/null >"$work/script.txt"
python3 - "$work/script.txt" "$requests" 100 "$top" <<'PY'
import sys, collections
path, requests, period, top = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
samples = []  # stacks of the I/O thread, innermost first
cur = None
for line in open(path, errors="replace"):
    if not line.strip():
        if cur is not None:
            samples.append(cur)
        cur = None
        continue
    if not line.startswith((" ", "\t")):
        comm = line.strip()
        cur = [] if comm.startswith("XNIO-") and " I/O" in comm else None  # XNIO-1 inbound, XNIO-2 outbound
        continue
    if cur is None:
        continue
    parts = line.strip().split(None, 1)
    rest = parts[1] if len(parts) > 1 else "?"
    # "sym+0xoff (dso)"
    dso = rest[rest.rfind("(") + 1:-1] if rest.endswith(")") else ""
    sym = rest[: rest.rfind("(")].strip() if "(" in rest else rest
    if "+0x" in sym:
        sym = sym[: sym.rfind("+0x")]
    cur.append((sym, dso))
if cur is not None:
    samples.append(cur)
us = lambda n: n * period / requests
kernel = [s for s in samples if s and s[0][1] == "[kernel.kallsyms]"]
user = [s for s in samples if s and s[0][1] != "[kernel.kallsyms]"]
print(f"  I/O thread: {len(samples)} samples = {us(len(samples)):.2f} us/req; "
      f"user {us(len(user)):.2f}, kernel {us(len(kernel)):.2f}")
self_c = collections.Counter(s[0][0] for s in user)
incl = collections.Counter()
for s in user:
    for f in set(x[0] for x in s):
        incl[f] += 1
print(f"  user space, self (top {top}): us/req, share of the I/O thread's user samples")
for f, n in self_c.most_common(top):
    print(f"    {us(n):6.3f} {100 * n / len(user):5.1f}%  {f[:150]}")
print(f"  user space, inclusive (top {top * 2})")
for f, n in incl.most_common(top * 2):
    print(f"    {us(n):6.3f} {100 * n / len(user):5.1f}%  {f[:150]}")
def method(sym):  # "ret pkg.Class.method(args)" -> pkg.Class.method
    return sym.split("(")[0].split()[-1] if "(" in sym else sym
ours = collections.Counter()
for s in user:
    key = None
    for sym, _ in s:
        if "java.util.regex" in sym or "HostHeaderHandler" in sym:
            key = "[Undertow HostHeaderHandler, java.util.regex]"
            break
        if "io.hoptrace" in sym:
            key = method(sym)
            break
    ours[key or "[no frame of ours] " + method(s[0][0])] += 1
print(f"  user space by the innermost frame of ours (top {top})")
for f, n in ours.most_common(top):
    print(f"    {us(n):6.3f} {100 * n / len(user):5.1f}%  {f[:150]}")
PY
echo "work directory: $work (perf.data, script.txt)"
