#!/usr/bin/env bash
# Heap retained per remembered inbound request by the correlator's registry (bench/README.md,
# "Ended requests in the ring (s13-ring)", "Ring memory (s15)").
#
#   bench/lib/ring-heap.sh [CLASSES]            in-process: RingHeap.java registers N requests as the
#       proxy does, for the propagation-core classes in CLASSES (default: this tree's, built by
#       `mvn -pl propagation-core -am -DskipTests package`), and prints one line for N ended
#       requests and one for N still in flight, with the top of a class histogram of each.
#   bench/lib/ring-heap.sh --sidecar [JAR]      a sidecar through the launcher (bin/hoptrace, the
#       flags users run; JAVA_OPTS adds to them) behind a backend nginx, RING_HEAP_RATE req/s
#       (default 6000, past ring.cap / ring.period = 5,000) for RING_HEAP_SOAK seconds (default 50,
#       past ring.generations x ring.period = 40 s: every generation at its cap), then a class
#       histogram of the live heap (a full collection), heap committed/used, GCs, RSS and the
#       run's errors, 503s and latency. Wrap it in the shared bench lock.
#
# Environment: RING_HEAP_N (200000 requests in-process), RING_HEAP_TOP (classes shown, 14),
# HOPTRACE_RUN_ARGS (more `run` arguments for the sidecar, e.g. "--set ring.cap=20000").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=${RING_HEAP_TOP:-14}

if [[ ${1:-} != --sidecar ]]; then
  classes=${1:-$here/../../propagation-core/target/classes}
  n=${RING_HEAP_N:-200000}
  for mode in ended inflight; do
    java -XX:+UseSerialGC -Xms1g -Xmx1g -cp "$classes" "$here/RingHeap.java" "$n" "$mode" "$top"
  done
  exit 0
fi

jar=$(readlink -f "${2:-$here/../../proxy/target/hoptrace.jar}")
rate=${RING_HEAP_RATE:-6000}
soak=${RING_HEAP_SOAK:-50}
work=$(mktemp -d /tmp/hoptrace-ringheap.XXXXXX)
# shellcheck source=bench/lib/nginx.sh
source "$here/nginx.sh"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
backend=$(free_port) inbound=$(free_port) outbound=$(free_port) admin=$(free_port)
write_backend_conf "$work/backend" "$backend"
taskset -c 1 nginx -p "$work/backend" -c "$work/backend/nginx.conf" &
backend_pid=$!
# shellcheck disable=SC2086 # HOPTRACE_RUN_ARGS is a list
HOPTRACE_JAR=$jar HOPTRACE_CDS_ARCHIVE=${jar%.jar}.jsa JAVA_OPTS="-Xlog:gc:file=$work/gc.log ${JAVA_OPTS:-}" \
  taskset -c 1 "$here/../../bin/hoptrace" run --service bench-a --inbound "127.0.0.1:$inbound" \
  --app "127.0.0.1:$backend" --outbound "127.0.0.1:$outbound" --span-log "$work/spans.log" \
  --set span-log.rotate-size=0 --set admin.port="$admin" ${HOPTRACE_RUN_ARGS:-} >"$work/stdout.log" 2>"$work/stderr.log" &
pid=$!
trap 'kill "$pid" "$backend_pid" 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for _ in $(seq 150); do curl -s -o /dev/null "http://127.0.0.1:$inbound/" && break; sleep 0.2; done
url=http://127.0.0.1:$inbound/r/ring
export BENCH_TARGET=""

echo "hoptrace ring heap, $jar; JAVA_OPTS=${JAVA_OPTS:-}; ${rate} req/s for ${soak}s; load $(cut -d' ' -f1-3 /proc/loadavg)"
BENCH_RATE=$rate taskset -c 0 wrk -t1 -c20 -d"${soak}s" -s "$here/paced.lua" "$url" >"$work/soak.txt" 2>&1
echo "-- soak: $(awk '/requests in/ { print $1 }' "$work/soak.txt") requests," \
  "$(awk '/Non-2xx/ { n = $NF } END { print n + 0 }' "$work/soak.txt") not 2xx," \
  "$(grep -o 'timeout [0-9]*' "$work/soak.txt" || echo 'timeout 0')," \
  "$(grep -o 'p50=[0-9]* p90=[0-9]* p99=[0-9]*' "$work/soak.txt" || true) us"
heap() {
  jcmd "$pid" GC.heap_info | awk '
    /def new generation|tenured generation/ { t = $4; u = $6; sub(/K,?/, "", t); sub(/K,?/, "", u); tc += t; tu += u }
    END { printf "heap used %.1f MB, committed %.1f MB", tu / 1024, tc / 1024 }'
  # from the GC log: the launcher turns the perf data (jcmd PerfCounter.print) off
  awk '/Pause Young/ { y++ } /Pause Full/ { f++ } END { printf ", young GCs %d, full GCs %d", y, f }' "$work/gc.log"
  echo ", RSS $(awk '/^Rss:/ { print int($2 / 1024) }' "/proc/$pid/smaps_rollup") MB"
}
echo "-- after the soak: $(heap)"
jcmd "$pid" GC.class_histogram >"$work/histo.txt" # a full collection: the live heap
sed -n "4,$((top + 3))p;\$p" "$work/histo.txt"
echo "-- after the histogram's full GC: $(heap)"
echo "span lines: $(wc -l <"$work/spans.log");" \
  "$(curl -s "http://127.0.0.1:$admin/metrics" | grep -E '^hoptrace_ring_(size|refused)' | tr '\n' ' ')work directory: $work"
