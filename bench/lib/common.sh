# shellcheck shell=bash
# Helpers shared by bench/run.sh: logging, processes, ports and /proc accounting.

CLK_TCK=$(getconf CLK_TCK)
STARTED_PIDS=()

log() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# A TCP port on 127.0.0.1 that nothing listens on now. Other engineers run servers on this host,
# so ports are never fixed. Chosen below the kernel's ephemeral range, where client sockets (wrk
# opens thousands) could already hold the port.
free_port() {
  local port low
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
  ((low > 12000)) || low=32768
  for _ in $(seq 1 200); do
    port=$((10000 + RANDOM % (low - 10000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      if [[ " ${USED_PORTS:-} " != *" $port "* ]]; then
        USED_PORTS="${USED_PORTS:-} $port"
        echo "$port"
        return 0
      fi
    fi
  done
  die "no free port found"
}

# Waits until something accepts connections on 127.0.0.1:$1 (at most $2 seconds, default 10).
wait_port() {
  local port=$1 limit=${2:-10} i
  for ((i = 0; i < limit * 20; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  return 1
}

# Records a PID this script started, so cleanup stops exactly what we started.
track_pid() { STARTED_PIDS+=("$1"); }

# True while a process runs (a zombie waiting to be reaped has stopped running).
running() { [[ -r /proc/$1/stat ]] && [[ $(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) != Z ]]; }

# Stops one process we started: TERM, then KILL after $2 seconds (default 5).
stop_pid() {
  local pid=$1 limit=${2:-5} i
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < limit * 20; i++)); do
    running "$pid" || break
    sleep 0.05
  done
  if running "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
}

stop_all_started() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do stop_pid "$pid" 3 || true; done
  STARTED_PIDS=()
}

# The process trees run_wrk reads once at a run's start (tree_cache; root PID -> "pid pid ..."), for
# its dozen reads of /proc around the run: a tree does not change inside a run (the backend's reload
# and the sidecars' starts happen between runs), and every uncached read scans every process's stat.
declare -A TREE_CACHE=()
tree_cache() { # pid...
  local root
  TREE_CACHE=()
  for root in "$@"; do TREE_CACHE[$root]=$(tree_pids "$root" | tr '\n' ' '); done
}

# The PID and all its descendants (nginx master + workers, a JVM).
tree_pids() {
  local root=$1
  if [[ -n "${TREE_CACHE[$root]:-}" ]]; then
    # shellcheck disable=SC2086 # a list of PIDs
    printf '%s\n' ${TREE_CACHE[$root]}
    return 0
  fi
  # cat, not awk, opens the files: processes come and go while the list is read.
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v root="$root" '
    {
      line = $0; pid = $1
      sub(/^.*\) /, "", line); split(line, f, " ")
      parent[pid] = f[2]
    }
    END {
      keep[root] = 1; changed = 1
      while (changed) {
        changed = 0
        for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; changed = 1 }
      }
      for (p in keep) if (p in parent) print p
    }'
}

# utime+stime clock ticks summed over the process trees of the given PIDs.
cpu_ticks() {
  local pids=() root
  for root in "$@"; do mapfile -t -O "${#pids[@]}" pids < <(tree_pids "$root"); done
  ((${#pids[@]})) || { echo 0; return; }
  local files=() p
  for p in "${pids[@]}"; do files+=("/proc/$p/stat"); done
  { cat "${files[@]}" 2>/dev/null || true; } |
    awk '{ line = $0; sub(/^.*\) /, "", line); split(line, f, " "); t += f[12] + f[13] }
         END { printf "%d\n", t }'
}

# utime+stime clock ticks of the JIT compiler threads (HotSpot's "C1/C2 CompilerThreadN") in the
# process trees of the given PIDs: 0 for nginx and HAProxy. Shows whether a phase measured a JVM
# that was still compiling (warm-up) rather than its steady state.
jit_ticks() {
  local pids=() root p files=()
  for root in "$@"; do mapfile -t -O "${#pids[@]}" pids < <(tree_pids "$root"); done
  for p in "${pids[@]}"; do files+=(/proc/"$p"/task/*/stat); done
  ((${#files[@]})) || { echo 0; return; }
  { cat "${files[@]}" 2>/dev/null || true; } |
    awk '/\((C1|C2) CompilerThre/ { line = $0; sub(/^.*\) /, "", line); split(line, f, " "); t += f[12] + f[13] }
         END { printf "%d\n", t }'
}

# "RSS_kB PSS_kB" summed over the process trees of the given PIDs (from smaps_rollup).
mem_kb() {
  local pids=() root p files=()
  for root in "$@"; do mapfile -t -O "${#pids[@]}" pids < <(tree_pids "$root"); done
  for p in "${pids[@]}"; do files+=("/proc/$p/smaps_rollup"); done
  ((${#files[@]})) || { echo "0 0"; return; }
  { cat "${files[@]}" 2>/dev/null || true; } |
    awk '$1 == "Rss:" { r += $2 } $1 == "Pss:" { s += $2 } END { printf "%d %d\n", r, s }'
}

# Threads summed over the process trees of the given PIDs.
thread_count() {
  local pids=() root p files=()
  for root in "$@"; do mapfile -t -O "${#pids[@]}" pids < <(tree_pids "$root"); done
  for p in "${pids[@]}"; do files+=("/proc/$p/status"); done
  ((${#files[@]})) || { echo 0; return; }
  { cat "${files[@]}" 2>/dev/null || true; } | awk '$1 == "Threads:" { t += $2 } END { print t + 0 }'
}

# Context switches (voluntary + involuntary) summed over every thread of the given process trees.
# An event loop that serves a request without handing it to another thread switches about once
# per request (waiting in epoll); every hand-off between threads adds two.
ctx_switches() {
  local pids=() root p files=()
  for root in "$@"; do mapfile -t -O "${#pids[@]}" pids < <(tree_pids "$root"); done
  for p in "${pids[@]}"; do files+=(/proc/"$p"/task/*/status); done
  ((${#files[@]})) || { echo 0; return; }
  { cat "${files[@]}" 2>/dev/null || true; } |
    awk '$1 == "voluntary_ctxt_switches:" || $1 == "nonvoluntary_ctxt_switches:" { t += $2 }
         END { printf "%d\n", t }'
}

# "busyC totalC busyS totalS": busy (user+nice+system+steal) and total ticks of the client CPU and
# of the server CPU (BENCH_CLIENT_CPU, BENCH_SERVER_CPU). Steal is time the hypervisor gave to
# someone else, so it counts as busy-by-others too. irq/softirq are left out of "busy": the kernel
# may account loopback network work there instead of to the task that caused it.
cpu_stat() {
  awk -v c="cpu$CLIENT_CPU" -v s="cpu$SERVER_CPU" '
    $1 == c { bc = $2 + $3 + $4 + $9; tc = 0; for (i = 2; i <= 9; i++) tc += $i }
    $1 == s { bs = $2 + $3 + $4 + $9; ts = 0; for (i = 2; i <= 9; i++) ts += $i }
    END { printf "%d %d %d %d\n", bc, tc, bs, ts }' /proc/stat
}

# Lines in a file (0 if it does not exist).
count_lines() { if [[ -f "$1" ]]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }

# "tid ns jit" per thread of the given process trees: the thread's CPU time in nanoseconds
# (sum_exec_runtime, the first field of /proc/TID/schedstat), and 1 when the thread is one of the
# JVM's JIT compiler threads ("C1/C2 CompilerThreadN", as /proc/TID/comm cuts it), else 0. Used
# where 10 ms ticks are too coarse (a 5 s run at 2,000 req/s of a 25 µs/req proxy is 25 ticks).
thread_ns() {
  local pids=() root p files=() names=()
  for root in "$@"; do mapfile -t -O "${#pids[@]}" pids < <(tree_pids "$root"); done
  for p in "${pids[@]}"; do
    files+=(/proc/"$p"/task/*/schedstat)
    names+=(/proc/"$p"/task/*/comm)
  done
  ((${#files[@]})) || return 0
  # grep -s: a thread may exit between the glob and the read. Names first, then the times; a
  # thread name may hold "/" ("XNIO-1 I/O-1"), so only the part before the name is split.
  { grep -sH '' "${names[@]}" || true; grep -sH '' "${files[@]}" || true; } | awk '
    { split($0, a, "/"); tid = a[5] }
    a[6] ~ /^comm:/ { if (a[6] ~ /^comm:C[12] CompilerThre/) jit[tid] = 1; next }
    { split(a[6], b, "[: ]"); print tid, b[2], (tid in jit) ? 1 : 0 }'
}

# CPU nanoseconds between two thread_ns snapshots, "all jit": per thread, after minus before; a
# thread that started in between counts whole; one that exited in between loses its last part (in
# the process-wide ticks, not here). jit: the same over the JIT compiler threads only. %.0f: mawk's
# %d stops at 2^31.
ns_delta() { # "before" "after"
  awk 'FNR == NR { a[$1] = $2; next }
       { x = ($1 in a && $2 >= a[$1]) ? $2 - a[$1] : $2; d += x; if ($3 == 1) j += x }
       END { printf "%.0f %.0f\n", d, j }' <(printf '%s\n' "$1") <(printf '%s\n' "$2")
}

# CPU nanoseconds the JIT compiler threads of the given PIDs (not their children) have used so far:
# the rate warm-up polls it once a second (jit_settle in run.sh), so it reads only a few files.
# The JVM stops compiler threads that go idle (UseDynamicNumberOfCompilerThreads; C2 only has two
# on 2 CPUs, s21) and a stopped thread's time leaves the threads' sum, which then went down and
# read as a settled window in the middle of a compile wave (s21: 622, 0, 18 ms/s "settled"). With
# $WORK set, each thread's last reading is kept in a file there, so the sum never goes down.
jit_ns_now() {
  local p names=() files=() state=""
  for p in "$@"; do names+=(/proc/"$p"/task/*/comm); done
  mapfile -t files < <(grep -sH -E '^C[12] CompilerThre' "${names[@]}" | sed 's|/comm:.*|/schedstat|')
  [[ -n "${WORK:-}" && -d "${WORK:-}" ]] && state="$WORK/jit-ns.${*// /_}"
  if [[ -z "$state" ]]; then
    ((${#files[@]})) || { echo 0; return; }
    cat "${files[@]}" 2>/dev/null | awk '{ t += $1 } END { printf "%.0f\n", t }'
    return
  fi
  # "path ns" per live compiler thread, merged over the threads seen before (a live thread's new
  # reading replaces its old one), written back whole, and summed.
  touch "$state"
  { for p in "${files[@]}"; do read -r ns _ <"$p" 2>/dev/null && echo "$p $ns"; done; } |
    awk -v st="$state" 'FNR == NR { v[$1] = $2; next } { v[$1] = $2 }
      END { for (k in v) { t += v[k]; print k, v[k] > (st ".new") } printf "%.0f\n", t }' "$state" -
  [[ -f "$state.new" ]] && mv -f "$state.new" "$state"
  return 0
}

# "steal irq total" ticks of the server CPU: steal is time the hypervisor ran something else;
# irq+softirq is interrupt work charged to no task (loopback network processing lands here).
server_cpu_detail() {
  awk -v s="cpu$SERVER_CPU" '$1 == s { t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, $7 + $8, t }' /proc/stat
}

# Starts a background sampler of the RSS summed over the process trees of the given PIDs (Rss of
# /proc/PID/smaps_rollup, as mem_kb), one line of kB every RSS_INTERVAL seconds (0.25) into
# `out`, until it is killed; its PID goes to $STARTED_SAMPLER. It runs on the client CPU, not beside
# the measured processes, and reads the files with bash builtins only (the loop forks only sleep).
# The trees are read once, at the start: a process that starts later is not sampled.
rss_sampler() { # out pid...
  local out=$1 pids=() root p files=()
  shift
  for root in "$@"; do mapfile -t -O "${#pids[@]}" pids < <(tree_pids "$root"); done
  for p in "${pids[@]}"; do files+=("/proc/$p/smaps_rollup"); done
  taskset -c "$CLIENT_CPU" bash -c '
    interval=$1; shift
    while :; do
      t=0
      for f in "$@"; do
        { while read -r k v _; do if [[ $k == Rss: ]]; then t=$((t + v)); break; fi; done <"$f"; } 2>/dev/null || true
      done
      echo "$t"
      sleep "$interval"
    done' rss-sampler "${RSS_INTERVAL:-0.25}" "${files[@]}" >"$out" 2>/dev/null &
  STARTED_SAMPLER=$!
}

# "median max count" in kB of a sampler's file (rss_sampler); samples that read nothing are left
# out; "0 0 0" without any.
rss_summary() { # file
  sort -n "$1" 2>/dev/null | awk '$1 > 0 { v[++n] = $1 }
    END {
      if (!n) { print "0 0 0"; exit }
      printf "%d %d %d\n", (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2, v[n], n
    }'
}
