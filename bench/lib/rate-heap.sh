#!/usr/bin/env bash
# The heap of one inbound sidecar held at 2,000 req/s (bench/README.md, "Ended-request arrays
# (s28)"): through the launcher (its flags, JAVA_OPTS after them) with a GC log; 15 s at 16
# connections and 5 s at the rate, then RATE_HEAP_SECONDS (90) at 2,000 req/s. Prints the
# sidecar's CPU per request (/proc ticks) and wrk's p50/p90/p99 over that run, its RSS at the end,
# the heap in use after the last collection of every 10 s of uptime (what the old generation holds:
# a young collection empties the young one) and the full collections. wrk on CPU 0, backend and
# sidecar on CPU 1.
#
#   bench/lib/rate-heap.sh [JAR]     (wrap it in the shared bench lock)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jar=$(readlink -f "${1:-$here/../../proxy/target/hoptrace.jar}")
seconds=${RATE_HEAP_SECONDS:-90}
work=$(mktemp -d /tmp/hoptrace-rate-heap.XXXXXX)
# shellcheck source=bench/lib/sidecar.sh
source "$here/sidecar.sh"
JAVA_OPTS="${JAVA_OPTS:-} -Xlog:gc:file=$work/gc.log:uptime"
start_launched_sidecar inbound rateheap "$jar" "$JAVA_OPTS"
echo "hoptrace inbound, $jar; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
taskset -c 0 wrk -t1 -c16 -d15s -s "$here/closed.lua" "$url" >/dev/null 2>&1
BENCH_RATE=2000 taskset -c 0 wrk -t1 -c20 -d5s -s "$here/paced.lua" "$url" >/dev/null 2>&1
rate_window "$seconds" "$seconds s at 2,000 req/s"
echo "RSS at the end: $(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status") MB"
# "[12.345s] GC(7) Pause Young (Allocation Failure) 27M->21M(31M) 1.0ms": heap after, by 10 s
awk '/Pause (Young|Full)/ { t = $1; gsub(/[][s]/, "", t); split($(NF - 1), a, "->"); sub(/\(.*/, "", a[2]); last[int(t / 10) * 10] = a[2] }
  END { printf "heap in use after the last collection of each 10 s of uptime:"; for (k = 0; k <= 1000; k += 10) if (k in last) printf " %ds:%s", k, last[k]; print "" }' "$work/gc.log"
grep 'Pause Full' "$work/gc.log" | sed 's/^/  /' || echo "  no full collection"
echo "load $(cut -d' ' -f1-3 /proc/loadavg); work directory: $work" >&2
