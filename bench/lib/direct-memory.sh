#!/usr/bin/env bash
# Direct buffers and RSS at 64 connections, jar against jar (s32, bench/README.md "Small work
# buffers (s32)"): per round and per jar, one sidecar with the launcher's flags and Native Memory
# Tracking (summary), the engines' defaults; inbound 10 s at 16 then 64 connections, outbound 10 s at
# 16 then 64 (to the backend by address); RSS and NMT "Other" (direct buffers, Unsafe memory) read
# 7 s into each 64-connection run and after each 16-connection one.
#
#   flock /tmp/hoptrace-bench.lock bench/lib/direct-memory.sh A/hoptrace.jar B/hoptrace.jar
#
# Each jar's class-data archive is taken from beside it (hoptrace.jsa; scripts/cds-archive.sh).
# Needs nginx and wrk (bench/run.sh installs them); CPU 0 for wrk, CPU 1 for the sidecar + backend.
# Rounds: DIRECT_MEMORY_ROUNDS (2).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 JAR [JAR...]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/hoptrace-direct-memory.XXXXXX)
rounds=${DIRECT_MEMORY_ROUNDS:-2}
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
backend=$(free_port)
mkdir -p "$work/backend"
cat > "$work/backend/nginx.conf" <<NG
worker_processes 1; daemon off; pid $work/backend/nginx.pid; error_log /dev/null;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$backend; keepalive_requests 1000000; location / { return 200 "hello world\n"; } } }
NG
taskset -c 1 nginx -p "$work/backend" -c "$work/backend/nginx.conf" &
pids=($!)
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
flags=(-XX:+UseSerialGC -Xms32m -Xmx96m -Xmn8m -Xss256k -XX:MaxMetaspaceSize=64m
  -XX:ReservedCodeCacheSize=32m -XX:-UsePerfData -XX:MinHeapFreeRatio=20 -XX:-TieredCompilation
  -XX:CompileThresholdScaling=0.3 -XX:TrimNativeHeapInterval=2000 -XX:NativeMemoryTracking=summary)
printf '%-28s %-6s %-8s %8s %12s\n' jar round phase "RSS MB" "Other KB"
for round in $(seq 1 "$rounds"); do
  n=0
  for jar in "$@"; do
    n=$((n + 1))
    in=$(free_port); out=$(free_port)
    MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=24576 taskset -c 1 java "${flags[@]}" \
      "-XX:SharedArchiveFile=${jar%.jar}.jsa" -jar "$jar" run --service a \
      --inbound "127.0.0.1:$in" --app "127.0.0.1:$backend" --outbound "127.0.0.1:$out" \
      --span-log "$work/$n.spans" --set span-log.rotate-size=0 > "$work/$n.out" 2>&1 &
    pid=$!
    pids+=("$pid")
    sleep 4
    snap() {
      local rss other
      rss=$(awk '/VmRSS/{printf "%.1f", $2/1024}' "/proc/$pid/status")
      other=$(jcmd "$pid" VM.native_memory summary scale=KB 2>/dev/null |
        grep -A1 -- '- *Other' | grep -o 'committed=[0-9]*' | head -1 | cut -d= -f2)
      printf '%-28s %-6s %-8s %8s %12s\n' "$(basename "$(dirname "$jar")")/$n" "$round" "$1" "$rss" "$other"
    }
    load() { # concurrency url phase
      local envs=()
      if [ -n "$target" ]; then envs=("BENCH_TARGET=$target"); fi
      env "${envs[@]}" taskset -c 0 wrk -t1 -c"$1" -d10s -s "$here/closed.lua" "$2" > /dev/null 2>&1 &
      local w=$!
      if [ "$1" -ge 64 ]; then sleep 7; snap "$3"; wait $w; else wait $w; snap "$3"; fi
    }
    target=""
    load 16 "http://127.0.0.1:$in/r/in" in-c16
    load 64 "http://127.0.0.1:$in/r/in" in-c64
    target="http://127.0.0.1:$backend/r/x"
    load 16 "http://127.0.0.1:$out/" out-c16
    load 64 "http://127.0.0.1:$out/" out-c64
    kill "$pid"
    wait "$pid" 2>/dev/null || true
  done
done
