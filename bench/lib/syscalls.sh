#!/usr/bin/env bash
# System calls, context switches and user/kernel CPU per request of one proxy hop, counted by the
# kernel (bench/README.md, "I/O loop (s15)"). Starts a backend nginx and one proxy — a hoptrace
# sidecar (through the launcher: the JVM flags users run) or nginx configured as the bench's
# tracing sidecar — warms it up at 16 connections, then counts with `perf stat -e
# 'syscalls:sys_enter_*'` over the proxy's threads around a fixed-rate run (2,000 req/s) and a
# closed-loop run (16 connections), and prints the system calls by name per request. Counting
# tracepoints costs little (no ptrace stop per call, unlike `strace -c`). wrk on CPU 0, backend and
# proxy on CPU 1.
#
#   bench/lib/syscalls.sh [JAR|nginx] [inbound|outbound]     (wrap it in the shared bench lock)
#
# Environment: SYSCALLS_DURATION (10 s per run), SYSCALLS_WARMUP (15 s), HOPTRACE_RUN_ARGS (more
# `run` arguments), JAVA_OPTS (after the launcher's flags), SYSCALLS_STRACE=1 (an `strace -f -c`
# of the fixed-rate run as well: slower).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jar=${1:-$here/../../proxy/target/hoptrace.jar}
mode=${2:-inbound}
duration=${SYSCALLS_DURATION:-10}
warmup=${SYSCALLS_WARMUP:-15}
work=$(mktemp -d /tmp/hoptrace-syscalls.XXXXXX)
command -v perf >/dev/null || { echo "needs perf (apt-get install linux-perf)" >&2; exit 2; }
# shellcheck source=bench/lib/sidecar.sh
source "$here/sidecar.sh"
if [[ $jar == nginx ]]; then
  start_nginx_sidecar syscalls
else
  start_launched_sidecar "$mode" syscalls "$jar" "${JAVA_OPTS:-}"
fi

# the proxy's processes: the JVM, or nginx's master and worker
pids() { { echo "$pid"; pgrep -P "$pid" || true; } | paste -sd,; }

# utime and stime ticks of the proxy's processes, summed: "user system"
cputicks() {
  local p
  for p in ${1//,/ }; do sed 's/.*) //' "/proc/$p/stat" | cut -d' ' -f12,13; done |
    awk '{ u += $1; s += $2 } END { print u, s }'
}

run() { # label wrk-args...
  local label=$1 out=$work/$1.txt requests before after
  shift
  before=$(cputicks "$(pids)")
  perf stat -x, -e 'syscalls:sys_enter_*' -e context-switches -e task-clock -p "$(pids)" \
    -o "$work/$label.perf" -- sleep "$((duration + 1))" &
  local perf_pid=$!
  sleep 0.5
  taskset -c 0 wrk -t1 "$@" "$url" >"$out" 2>&1
  wait "$perf_pid" || true
  after=$(cputicks "$(pids)")
  requests=$(awk '/requests in/ { print $1 }' "$out")
  echo "== $label: $requests requests, $(grep -o 'p50=[0-9]* p90=[0-9]* p99=[0-9]*' "$out" || true) us; load $(cut -d' ' -f1-3 /proc/loadavg)"
  awk -F, -v r="$requests" '
    $3 == "context-switches" { printf "  %-28s %7.3f /req\n", "context switches", $1 / r; next }
    $3 == "task-clock" { printf "  %-28s %7.2f us/req (on the CPU, user+kernel)\n", "task-clock", $1 * 1000 / r; next }
    $3 ~ /^syscalls:sys_enter_/ && $1 + 0 > 0 {
      n = $1 / r; name = substr($3, 20); all += n
      if (n >= 0.005) printf "  %-28s %7.3f /req\n", name, n }
    END { printf "  %-28s %7.3f /req\n", "all system calls", all }' "$work/$label.perf"
  echo "$before $after" | awk -v r="$requests" -v tick="$((1000000 / $(getconf CLK_TCK)))" '
    { printf "  %-28s %7.2f user + %.2f system us/req (/proc ticks)\n", "CPU", ($3 - $1) * tick / r, ($4 - $2) * tick / r }'
}

strace_run() {
  command -v strace >/dev/null || { echo "no strace" >&2; return; }
  local out=$work/strace-wrk.txt
  # shellcheck disable=SC2046 # one -p per process
  strace -f -c -o "$work/strace.txt" $(pids | tr , '\n' | sed 's/^/-p /') &
  local strace_pid=$!
  sleep 1
  BENCH_RATE=2000 taskset -c 0 wrk -t1 -c20 -d"${duration}s" -s "$here/paced.lua" "$url" >"$out" 2>&1
  kill -INT "$strace_pid"
  wait "$strace_pid" || true
  echo "== strace -f -c, 2,000 req/s: $(awk '/requests in/ { print $1 }' "$out") requests"
  cat "$work/strace.txt"
}

echo "proxy $jar, $mode; warm-up ${warmup}s at 16 connections" >&2
taskset -c 0 wrk -t1 -c16 -d"${warmup}s" -s "$here/closed.lua" "$url" >/dev/null 2>&1
BENCH_RATE=2000 run rate2000 -c20 -d"${duration}s" -s "$here/paced.lua"
run c16 -c16 -d"${duration}s" -s "$here/closed.lua"
[[ -z ${SYSCALLS_STRACE:-} ]] || strace_run
echo "work directory: $work"
