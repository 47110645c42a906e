#!/usr/bin/env bash
# hoptrace versus nginx and HAProxy as tracing sidecars, measured side by side in one run.
# See bench/README.md for what each row and column means.
#
#   bench/run.sh              the full run (about 9 minutes), table on stdout and in bench/results/
#   bench/run.sh --smoke      a 5-second check that every available row produces a row (CI)
#   bench/run.sh --help
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
# awk is mawk when installed (Debian's default awk): gawk 5.2.1, Debian 12's, corrupts memory in the
# report's END block (other arrays' values, then "double free", exit 134), reproduced with a kept run.
if command -v mawk >/dev/null 2>&1; then awk() { mawk "$@"; }; fi
# shellcheck source=bench/lib/common.sh
source "$BENCH_DIR/lib/common.sh"
# shellcheck source=bench/lib/nginx.sh
source "$BENCH_DIR/lib/nginx.sh"
# shellcheck source=bench/lib/haproxy.sh
source "$BENCH_DIR/lib/haproxy.sh"
# shellcheck source=bench/lib/hoptrace.sh
source "$BENCH_DIR/lib/hoptrace.sh"

ALL_ROWS="direct nginx haproxy hoptrace-inbound hoptrace-outbound hoptrace-chain"
# Not run unless asked for: the inbound and outbound rows again, on a sidecar that forwards with
# upstream.client=same-loop (an A/B of the two upstream transports in one run).
EXTRA_ROWS="hoptrace-inbound-sameloop hoptrace-outbound-sameloop"
# And on a sidecar with other JVM flags (HOPTRACE_ALT_JAVA_OPTS, HOPTRACE_ALT_JAVA) or another build
# (HOPTRACE_ALT_JAR): an A/B of flags or of two builds.
EXTRA_ROWS="$EXTRA_ROWS hoptrace-inbound-alt hoptrace-outbound-alt"

usage() {
  cat <<EOF
usage: bench/run.sh [--smoke] [--rows "ROW ..."] [--out FILE] [--no-install] [--no-build] [--keep]

  --smoke       every available row, 1 s at 2 connections, all at once; exits 1 unless each row
                served requests without errors and wrote its span lines (about 3 s plus
                the hoptrace JVMs' start-up; no build, no probe)
  --rows LIST   rows to run, from: $ALL_ROWS
                (default), $EXTRA_ROWS
                (direct always runs: added latency and ratios are relative to it)
  --out FILE    where the Markdown results go (default bench/results/<UTC date>.md; "-" for none)
  --no-install  do not apt-get install wrk, nginx, haproxy when missing
  --no-build    do not build proxy/target/hoptrace.jar when missing
  --keep        keep the work directory (configs, logs, raw wrk output)

environment (defaults in brackets):
  BENCH_DURATION [10]      seconds per closed-loop run        BENCH_CONNS ["1 16 64"]
  BENCH_WARMUP [5]         discarded warm-up, nginx/HAProxy   BENCH_JVM_WARMUP [20] for hoptrace
  BENCH_CROSS_WARMUP [10]  before a sidecar's first inbound or outbound row, its other direction
                           for this long, discarded (0 = off: each direction warms up alone)
  BENCH_RATE [2000]        fixed rate for latency (req/s)     BENCH_RATE_CONNS [20]
  BENCH_RATE_PAIRS [3]     pairs at the rate per row: nginx and the row back to back, nginx
                           first in odd pairs, second in even ones, at the end of each row; the
                           rate cells are medians over the pairs (0 = one run per row, the method
                           before s18)
  BENCH_RATE_DURATION [5]  seconds of each fixed-rate run      BENCH_NOISE_LIMIT [10] % flag
  BENCH_RATE_WARMUP [5]    discarded seconds at the fixed rate before a row's rate runs
  BENCH_JIT_SETTLE [0.5]   a JVM row's rate warm-up goes on until its JIT compiler threads used
                           less than this many us/req over the last BENCH_JIT_WINDOW [3] seconds ...
  BENCH_JIT_SETTLE_MAX [6] ... for at most this many seconds more (0 = a fixed warm-up)
  BENCH_JIT_REWARM [3]     then, with rate pairs, direct runs for BENCH_RATE_DURATION s while the
                           JVM idles, and the row runs again, at least this long and until the JIT
                           has settled, at most BENCH_JIT_SETTLE_MAX/2 s more (0 = not)
  BENCH_JIT_PATHS [3]      before that idle spell, the backend closes its idle keep-alive
                           connections (a graceful reload: the sidecar's upstream pool empties)
                           and the row runs this many times for 1 s, each on new connections
                           (0 = not)
  BENCH_JIT_SETTLE_LOOP [2] a JVM row's closed-loop warm-up ends, at 16 connections, once its JIT
                           compiler threads used less than this many ms of CPU per second over the
                           last BENCH_JIT_WINDOW s (at least that long) ...
  BENCH_JVM_SETTLE_MAX [10] ... at most this many s past its fixed length (0 = the fixed warm-up)
  BENCH_JIT_SETTLE_PHASE [2] then each measured closed-loop phase of a JVM row starts after a
                           discarded run at its own concurrency, at least this many s and until
                           its compiler threads used under BENCH_JIT_SETTLE_LOOP ms/s over the
                           last that many s ... (0 = no settle before a phase)
  BENCH_JIT_SETTLE_PHASE_MAX [3] ... at most this many s more (twice that at 64+ connections)
  BENCH_RSS_INTERVAL [0.25] RSS sampled this often during every run: median ("steady") and max
  BENCH_CLIENT_CPU [0]     wrk's CPU                          BENCH_SERVER_CPU [1] backend+proxy
  BENCH_NICE [0]           nice for wrk, backend and proxies (e.g. -10 on a busy shared machine)
  HOPTRACE_JAR [proxy/target/hoptrace.jar]
  hoptrace starts through bin/hoptrace (the launcher: the shipped JVM flags, MALLOC_ARENA_MAX=2,
  the class-data archive next to the jar, made first when missing); these change it:
  HOPTRACE_JAVA_OPTS [launcher's]  replaces the launcher's JVM flags ("" = the JVM's defaults)
  JAVA_OPTS [""]           flags added after the launcher's
  HOPTRACE_ENV [""]        environment for hoptrace, e.g. "MALLOC_ARENA_MAX=8"
  HOPTRACE_JAVA [java]     e.g. target/jre/bin/java, the jlinked runtime the image ships
  BENCH_CDS [1]            0 = no class-data archive
  HOPTRACE_LABEL           which build the jar is, for the results file (default: its path)
  the rows hoptrace-inbound-alt and hoptrace-outbound-alt run on one more sidecar, as the
  inbound and outbound rows but with other JVM flags: an A/B of flags in one run, each row with
  the same warm-up, settles and rate pairs (put the -alt rows first in --rows to swap the order):
  HOPTRACE_ALT_JAVA_OPTS [A's]  replaces the launcher's JVM flags on that sidecar (JAVA_OPTS still
                           goes after them); unset, and HOPTRACE_ALT_JAVA unset, it is an A/A
  HOPTRACE_ALT_JAVA_OPTS_ADD [""]  added after the launcher's flags on that sidecar only (a later
                           flag wins): the A/B of one flag, e.g. HOPTRACE_ALT_JAVA_OPTS_ADD=-Xmn4m
  HOPTRACE_ALT_JAVA [HOPTRACE_JAVA]  its java
  HOPTRACE_ALT_JAR [HOPTRACE_JAR]  its jar (with its class-data archive next to it, .jsa for .jar,
                           made by scripts/cds-archive.sh; run without one if there is none):
                           an A/B of two builds, e.g. a change against main before it
  HOPTRACE_ALT_LABEL       which build HOPTRACE_ALT_JAR is, for the results file
  e.g. tiered against the shipped C2 only (the launcher's flags, one changed):
    HOPTRACE_ALT_JAVA_OPTS="\$(HOPTRACE_DRY_RUN=1 HOPTRACE_CDS_ARCHIVE=/nonexistent bin/hoptrace |
      sed -E 's/^([^ ]+ ){3}//; s/ -jar .*//; s/-XX:-TieredCompilation/-XX:+TieredCompilation/')" \\
    bench/run.sh --rows "nginx haproxy hoptrace-inbound hoptrace-outbound
      hoptrace-inbound-alt hoptrace-outbound-alt"
  HOPTRACE_RUN_ARGS ["--set span-log.rotate-size=0"]  more \`run\` arguments
  NGINX_LOG_BUFFER [buffer=64k flush=1s]  ("" = one write() per request)
EOF
}

SMOKE=false INSTALL=true BUILD=true KEEP=false ROWS=$ALL_ROWS OUT=""
while (($#)); do
  case $1 in
    --smoke) SMOKE=true ;;
    --rows) ROWS=${2:?--rows needs a list}; shift ;;
    --out) OUT=${2:?--out needs a file}; shift ;;
    --no-install) INSTALL=false ;;
    --no-build) BUILD=false ;;
    --keep) KEEP=true ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench/run.sh: unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
for row in $ROWS; do
  [[ " $ALL_ROWS $EXTRA_ROWS " == *" $row "* ]] || { echo "bench/run.sh: unknown row: $row" >&2; exit 2; }
done
[[ " $ROWS " == *" direct "* ]] || ROWS="direct $ROWS"

DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-5}
JVM_WARMUP=${BENCH_JVM_WARMUP:-20}
# Before a sidecar's first row, its other direction for this long (discarded): a sidecar in a pod
# carries both, so its code for both is compiled before either is measured (s26).
CROSS_WARMUP=${BENCH_CROSS_WARMUP:-10}
CONNS=${BENCH_CONNS:-1 16 64}
RATE=${BENCH_RATE:-2000}
RATE_CONNS=${BENCH_RATE_CONNS:-20}
RATE_DURATION=${BENCH_RATE_DURATION:-5}
# The fixed-rate cells come from pairs run after every row's closed-loop phases ("Rate pairs" in
# bench/README.md): nginx's own cost at the rate moves by up to 1.7x between quiet runs minutes
# apart, so each row is compared with nginx measured right beside it.
RATE_PAIRS=${BENCH_RATE_PAIRS:-3}
# The JIT recompiles for one request per wake-up in the first ~5 s at the rate (README, "CPU at a
# fixed rate (s16)"): discarded, as the closed-loop warm-up is.
RATE_WARMUP=${BENCH_RATE_WARMUP:-5}
# A JVM row's warm-up at the rate goes on past RATE_WARMUP until its JIT compiler threads used less
# than JIT_SETTLE µs per request over the last JIT_WINDOW seconds, for at most JIT_SETTLE_MAX seconds more
# (README, "Rate warm-up (s19)"): the pairs then measure the steady state a long-running sidecar is in.
JIT_SETTLE=${BENCH_JIT_SETTLE:-0.5}
JIT_SETTLE_MAX=${BENCH_JIT_SETTLE_MAX:-6}
JIT_WINDOW=${BENCH_JIT_WINDOW:-3}
# A JVM row's closed-loop warm-up ends the same way (s21, README "Closed-loop settle (s21)"): its
# last part at 16 connections goes on until the compiler threads used less than JIT_SETTLE_LOOP ms
# of CPU per second over the last JIT_WINDOW seconds (at least that long), at most JVM_SETTLE_MAX
# seconds past its fixed length, and ends early when they settle sooner (0 = the fixed warm-up).
JIT_SETTLE_LOOP=${BENCH_JIT_SETTLE_LOOP:-2}
JVM_SETTLE_MAX=${BENCH_JVM_SETTLE_MAX:-10}
# Then each measured closed-loop phase of a JVM row starts after a short settle at its own
# concurrency (s22, README "Bench: flag A/B rows and per-phase settle (s22)"): settled at 16
# connections was not settled at 64 (s21: inbound's c64 held 1.46 s of compiler CPU after a tail
# that read 0 ms/s). wrk runs at the phase's concurrency, discarded, for at least PHASE_SETTLE
# seconds and until the compiler threads used under JIT_SETTLE_LOOP ms of CPU per second over the
# last PHASE_SETTLE seconds, at most PHASE_SETTLE_MAX seconds more (0 = no settle before a phase).
PHASE_SETTLE=${BENCH_JIT_SETTLE_PHASE:-2}
PHASE_SETTLE_MAX=${BENCH_JIT_SETTLE_PHASE_MAX:-3}
# RSS is sampled this often (seconds) while each run's wrk runs: the phase's median ("steady") and
# largest sample go beside the snapshot at its end (s21).
RSS_INTERVAL=${BENCH_RSS_INTERVAL:-0.25}
# Then, once, a pair run's length of idle (direct runs meanwhile) and the row again on new
# connections, at least JIT_REWARM seconds and until the JIT has settled (0 = not).
JIT_REWARM=${BENCH_JIT_REWARM:-3}
# Before that idle spell, the paths the pairs take and the warm-up did not: the backend closes the
# sidecar's pooled connections, and JIT_PATHS runs of 1 s at the rate on new connections (0 = not).
JIT_PATHS=${BENCH_JIT_PATHS:-3}
NOISE_LIMIT=${BENCH_NOISE_LIMIT:-10}
CLIENT_CPU=${BENCH_CLIENT_CPU:-0}
SERVER_CPU=${BENCH_SERVER_CPU:-1}
HOPTRACE_JAR=${HOPTRACE_JAR:-$REPO_DIR/proxy/target/hoptrace.jar}
# hoptrace runs through the launcher, with the JVM flags the image ships (bin/hoptrace), so the
# bench measures what users run. Other flag sets: bench/lib/jvm-sweep.sh, results in
# bench/README.md ("JVM flags").
HOPTRACE_LAUNCHER=$REPO_DIR/bin/hoptrace
HOPTRACE_JAVA=${HOPTRACE_JAVA:-java}
HOPTRACE_CDS=${BENCH_CDS:-1}
HOPTRACE_START_TIMEOUT=${HOPTRACE_START_TIMEOUT:-20}
# BENCH_NICE=-10 (root) gives the measured processes priority over other work on a shared machine.
NICE=""
if [[ "${BENCH_NICE:-0}" != 0 ]]; then NICE="nice -n $BENCH_NICE"; fi
if $SMOKE; then
  DURATION=1 WARMUP=0 JVM_WARMUP=0 CONNS=2 RATE_DURATION=0 RATE_WARMUP=0 RATE_PAIRS=0 BUILD=false
  HOPTRACE_START_TIMEOUT=${HOPTRACE_START_TIMEOUT_SMOKE:-10} SETTLE_READS=1
  [[ -n "$OUT" ]] || OUT=-
fi
[[ -n "$OUT" ]] || OUT="$BENCH_DIR/results/$(date -u +%F).md"
START_EPOCH=$(date +%s)

# ---------------------------------------------------------------------------------------------
# Tools: wrk, nginx and HAProxy from Debian. Services the packages start are stopped and disabled
# again right away: everything here runs on ephemeral ports on 127.0.0.1, started by this script.
ensure_tools() {
  local missing=() tool
  for tool in wrk nginx haproxy taskset; do
    command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || missing+=("$tool")
  done
  export PATH="$PATH:/usr/sbin:/sbin"
  ((${#missing[@]})) || return 0
  $INSTALL || die "missing: ${missing[*]} (run without --no-install, or apt-get install wrk nginx haproxy)"
  [[ $(id -u) == 0 ]] || die "missing: ${missing[*]}; run as root or: sudo apt-get install -y wrk nginx haproxy"
  log "installing wrk nginx haproxy from Debian (missing: ${missing[*]})"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends wrk nginx haproxy util-linux >/dev/null 2>&1; then
    apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends \
      wrk nginx haproxy util-linux >/dev/null
  fi
  # The packages start system services where an init system runs; this bench wants none.
  if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    systemctl disable --now nginx haproxy >/dev/null 2>&1 || true
  else
    service nginx stop >/dev/null 2>&1 || true
    service haproxy stop >/dev/null 2>&1 || true
  fi
}

# Builds hoptrace.jar when it is missing (the full run; the smoke uses what CI built).
ensure_jar() {
  [[ -f "$HOPTRACE_JAR" ]] && return 0
  $BUILD || return 0
  [[ " $ROWS " == *" hoptrace-"* ]] || return 0
  if command -v mvn >/dev/null; then
    log "building hoptrace.jar (mvn -B -q -DskipTests package)"
    (cd "$REPO_DIR" && mvn -B -q -DskipTests package >"$WORK/mvn.log" 2>&1) ||
      log "build failed (see $WORK/mvn.log with --keep); hoptrace rows will be skipped"
  fi
}

machine() {
  local model kernel jdk hv
  model=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
  kernel=$(uname -r)
  jdk=$("$HOPTRACE_JAVA" -version 2>&1 | sed -n 1p | sed 's/"//g') || jdk="no java"
  hv=$(lscpu 2>/dev/null | sed -n 's/^Hypervisor vendor: *//p')
  echo "- CPU: ${model:-unknown}, $(nproc) CPUs${hv:+ (VM on $hv)}, $(free -g | awk '/^Mem:/ {print $2}') GiB RAM"
  echo "- kernel $kernel; $jdk; $(nginx -v 2>&1 | sed 's/^nginx version: //'); $(haproxy -v | head -1 | awk '{print "HAProxy " $3}'); $(wrk -v 2>&1 | head -1 | awk '{print "wrk " $2}')"
  echo "- wrk on CPU $CLIENT_CPU, backend + proxy on CPU $SERVER_CPU (taskset)${NICE:+, $NICE}; CLK_TCK=$CLK_TCK"
  echo "- hoptrace runs as \`$(hoptrace_command)\`${HOPTRACE_ENV:+, HOPTRACE_ENV=\`$HOPTRACE_ENV\`}"
  if ((CROSS_WARMUP > 0 && JVM_WARMUP > 0)); then
    echo "- each sidecar's first inbound or outbound row begins with its other direction for ${CROSS_WARMUP} s at 16 connections, discarded (BENCH_CROSS_WARMUP: both directions' code compiled before either is measured, \"Cross warm-up (s26)\")"
  else
    echo "- no cross warm-up (BENCH_CROSS_WARMUP=0): each direction warms up alone, the second on a sidecar that has not run it yet"
  fi
  if [[ " $ROWS " == *"-alt "* ]]; then
    if [[ -z "${HOPTRACE_ALT_JAVA_OPTS+set}" && -z "${HOPTRACE_ALT_JAVA_OPTS_ADD:-}" && -z "${HOPTRACE_ALT_JAVA:-}" && -z "${HOPTRACE_ALT_JAR:-}" ]]; then
      echo "- the -alt rows' sidecar (X) runs as the others: none of HOPTRACE_ALT_JAVA_OPTS, HOPTRACE_ALT_JAVA_OPTS_ADD, HOPTRACE_ALT_JAVA, HOPTRACE_ALT_JAR set (an A/A)"
    else
      echo "- the -alt rows' sidecar (X) runs as \`$(with_alt_jvm hoptrace_command)\`${HOPTRACE_ALT_JAVA_OPTS+ (HOPTRACE_ALT_JAVA_OPTS=\`$HOPTRACE_ALT_JAVA_OPTS\`)}"
      [[ -z "${HOPTRACE_ALT_JAVA:-}" ]] || echo "  (HOPTRACE_ALT_JAVA: $("$HOPTRACE_ALT_JAVA" -version 2>&1 | sed -n 1p | sed 's/"//g'))"
      [[ -z "${HOPTRACE_ALT_JAR:-}" ]] || echo "  (HOPTRACE_ALT_JAR: ${HOPTRACE_ALT_LABEL:-$HOPTRACE_ALT_JAR}, built $(date -u -r "$HOPTRACE_ALT_JAR" '+%F %H:%M UTC'), sha256 $(sha256sum "$HOPTRACE_ALT_JAR" | cut -c1-12); its class-data archive $([[ -f "${HOPTRACE_ALT_JAR%.jar}.jsa" ]] && echo "${HOPTRACE_ALT_JAR%.jar}.jsa" || echo "missing: runs without one"))"
    fi
  fi
  # What each sidecar's JVM ran, read from /proc once it listened.
  local x
  for x in "a:A (hoptrace-inbound, -outbound, the chain's hop 1)" "b:B (the chain's hop 2)" \
    "s:S (the -sameloop rows)" "x:X (the -alt rows)"; do
    [[ -s "$WORK/hoptrace-${x%%:*}/cmdline" ]] || continue
    echo "- sidecar ${x#*:} ran \`$(sed "s|$REPO_DIR/||g; s/ *$//" "$WORK/hoptrace-${x%%:*}/cmdline")\`"
  done
  # git truncates by characters (cut -c counts bytes and split an em dash: invalid UTF-8).
  echo "- repository at $(git -C "$REPO_DIR" log -1 --format='%h %<(72,trunc)%s' 2>/dev/null | sed 's/ *$//')"
  if [[ -f "$HOPTRACE_JAR" ]]; then
    echo "- hoptrace.jar: ${HOPTRACE_LABEL:-$HOPTRACE_JAR}, built $(date -u -r "$HOPTRACE_JAR" '+%F %H:%M UTC'), sha256 $(sha256sum "$HOPTRACE_JAR" | cut -c1-12)"
  fi
}

# ---------------------------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/hoptrace-bench.XXXXXX)
RUNS=$WORK/runs.tsv ROWS_TSV=$WORK/rows.tsv
# When each run started and ended (row phase start_ms end_ms, epoch ms): to place what a JVM
# logged (bench/lib/jit-traps.py: its deoptimisation traps per run) with --keep.
PHASES=$WORK/phases.tsv
# Every settled warm-up (jit_settle): row phase settled elapsed_ms after_s cap_s unit trace.
SETTLES=$WORK/settles.tsv
: >"$RUNS"
: >"$PHASES"
: >"$SETTLES"
: >"$ROWS_TSV"
cleanup() {
  local rc=$?
  set +e
  stop_all_started
  if $KEEP; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One wrk run, with /proc accounting around it. Appends one line to $RUNS:
# row phase conns requests duration_us errors p50 p90 p99 p999 proxy_ticks backend_ticks
# wrk_ticks noise_server% noise_client% rss_kb pss_kb threads context_switches jit_ticks
# proxy_ns backend_ns steal_server% irq_server% jit_ns rss_median_kb rss_max_kb rss_samples (ns:
# CPU time from schedstat, to the nanosecond; jit_ns: the JIT compiler threads' part of proxy_ns;
# rss_*: the proxy's RSS sampled every BENCH_RSS_INTERVAL s while wrk ran, rss_kb is at the end).
# With SETTLE_AFTER=S set (seconds), the run may end before its duration: once S seconds have
# passed, as soon as the proxy's JIT compiler threads used less than BENCH_JIT_SETTLE µs per request
# over the last second (jit_settle: the rate warm-up of a JVM row, "Rate warm-up (s19)").
run_wrk() { # row phase conns duration script url target pid...
  local row=$1 phase=$2 conns=$3 duration=$4 script=$5 url=$6 target=$7
  shift 7
  local pids=("$@") out="$WORK/wrk-$row-$phase.txt"
  local p0 b0 p1 b1 c0 ct0 s0 st0 c1 ct1 s1 st1 wrk_ticks mem
  local x0 x1 j0 j1 n0 n1 bn0 bn1 sl0 ir0 tt0 sl1 ir1 tt1 sampler="" rss_stat="0 0 0"
  # The proxy's and the backend's process trees, read once for the run's accounting (s22).
  tree_cache "${pids[@]}" "$BACKEND_PID"
  if ((${#pids[@]})); then
    rss_sampler "$out.rss" "${pids[@]}"
    sampler=$STARTED_SAMPLER
  fi
  p0=$(cpu_ticks "${pids[@]}") b0=$(cpu_ticks "$BACKEND_PID") x0=$(ctx_switches "${pids[@]}")
  j0=$(jit_ticks "${pids[@]}")
  n0=$(if ((${#pids[@]})); then thread_ns "${pids[@]}"; fi) bn0=$(thread_ns "$BACKEND_PID")
  read -r sl0 ir0 tt0 < <(server_cpu_detail)
  read -r c0 ct0 s0 st0 < <(cpu_stat)
  # wrk's own CPU: the wrapper shell's cutime+cstime once wrk has been reaped. wrk's PID goes to
  # $out.pid: SIGINT ends a wrk run early, with its report (jit_settle).
  local wrapper t_start
  rm -f "$out.pid"
  t_start=$(date +%s%3N)
  BENCH_TARGET=$target BENCH_RATE=$RATE BENCH_THREADS=1 NICE=$NICE bash -c '
    out=$1; shift
    $NICE taskset -c "$0" wrk "$@" >"$out" 2>&1 &
    echo $! >"$out.pid"
    wait $!; rc=$?
    read -r stat </proc/$$/stat
    echo "WRKSTAT ${stat##*) }" >>"$out"
    exit $rc' "$CLIENT_CPU" "$out" -t1 -c"$conns" -d"${duration}s" --timeout 2s \
    -s "$BENCH_DIR/lib/$script" "$url" &
  wrapper=$!
  if [[ -n "${SETTLE_AFTER:-}" ]] && ((${#pids[@]})); then
    jit_settle "$row" "$phase" "$out.pid" "$wrapper" "$SETTLE_AFTER" "$duration" "${pids[@]}"
  fi
  wait "$wrapper" || log "$row $phase: wrk failed: $(head -3 "$out" | tr '\n' ' ')"
  if [[ -n "$sampler" ]]; then
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
    rss_stat=$(rss_summary "$out.rss")
  fi
  printf '%s\t%s\t%s\t%s\n' "$row" "$phase" "$t_start" "$(date +%s%3N)" >>"$PHASES"
  read -r c1 ct1 s1 st1 < <(cpu_stat)
  read -r sl1 ir1 tt1 < <(server_cpu_detail)
  n1=$(if ((${#pids[@]})); then thread_ns "${pids[@]}"; fi) bn1=$(thread_ns "$BACKEND_PID")
  p1=$(cpu_ticks "${pids[@]}") b1=$(cpu_ticks "$BACKEND_PID") x1=$(ctx_switches "${pids[@]}")
  j1=$(jit_ticks "${pids[@]}")
  mem=$(if ((${#pids[@]})); then echo "$(mem_kb "${pids[@]}") $(thread_count "${pids[@]}")"; else echo "0 0 0"; fi)
  TREE_CACHE=()
  wrk_ticks=$(awk '$1 == "WRKSTAT" { print $15 + $16 }' "$out")
  awk -v row="$row" -v phase="$phase" -v conns="$conns" -v pt=$((p1 - p0)) -v bt=$((b1 - b0)) \
    -v wt="${wrk_ticks:-0}" -v dc=$((c1 - c0)) -v tc=$((ct1 - ct0)) -v ds=$((s1 - s0)) \
    -v ts=$((st1 - st0)) -v mem="$mem" -v cs=$((x1 - x0)) -v jt=$((j1 > j0 ? j1 - j0 : 0)) \
    -v pns="$(ns_delta "$n0" "$n1")" -v bns="$(ns_delta "$bn0" "$bn1")" -v dsl=$((sl1 - sl0)) \
    -v dir=$((ir1 - ir0)) -v dtt=$((tt1 - tt0)) -v rs="$rss_stat" '
    $1 == "HOPBENCH" {
      for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      errors = v["err_connect"] + v["err_read"] + v["err_write"] + v["err_status"] + v["err_timeout"]
      ns = ts > 0 ? 100 * (ds - pt - bt) / ts : 0; if (ns < 0) ns = 0
      nc = tc > 0 ? 100 * (dc - wt) / tc : 0; if (nc < 0) nc = 0
      split(mem, m, " "); split(pns, pn, " "); split(bns, bn, " "); split(rs, rq, " ")
      printf "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t%d\t%d\t%d\t%d\t%d\t%.0f\t%.0f\t%.1f\t%.1f\t%.0f\t%d\t%d\t%d\n",
        row, phase, conns, v["requests"], v["duration_us"], errors, v["p50"], v["p90"], v["p99"],
        v["p999"], pt, bt, wt, ns, nc, m[1], m[2], m[3], cs, jt, pn[1], bn[1],
        (dtt > 0 ? 100 * dsl / dtt : 0), (dtt > 0 ? 100 * dir / dtt : 0), pn[2], rq[1], rq[2], rq[3]
      found = 1
    }
    END { if (!found) printf "%s\t%s\t%d\t0\t0\t1\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\n", row, phase, conns }
  ' "$out" | tee -a "$RUNS" | awk -F'\t' -v clk="$CLK_TCK" '{
      rps = $5 > 0 ? $4 * 1e6 / $5 : 0
      cpu = $4 > 0 ? $21 / 1000 / $4 : 0
      jit = $4 > 0 ? $25 / 1000 / $4 : 0
      printf "[bench] %-18s %-12s c=%-3d %8.0f req/s  p50 %5d us  p99 %6d us  proxy %5.1f us/req (JIT %.1f)  errors %d  noise %s%%/%s%%  steal %s%%\n",
        $1, $2, $3, rps, $7, $9, cpu, jit, $6, $14, $15, $23 }' >&2
}

# Ends a wrk run (SIGINT: wrk stops and reports) once the JIT has settled: after `after` seconds,
# as soon as the compiler threads of the given PIDs used less than the limit over the last
# BENCH_JIT_WINDOW seconds (SETTLE_WINDOW seconds when set: the per-phase settle's, s22); otherwise
# the run goes to its duration (the cap). A window, not one second: C2 compiles in bursts with
# quiet seconds between them (s19: 23, 0, 23, 0, 0, 22, 21, 0 ... µs/req). At the rate
# (SETTLE_RATE unset) the limit is BENCH_JIT_SETTLE µs per request at the rate; in a closed loop
# (SETTLE_RATE=0: the request rate is not known until wrk reports) it is SETTLE_LIMIT ms of
# compiler CPU per second (s21). Logs the compiler threads' CPU each second in that unit, and appends "row phase settled elapsed_ms after_s cap_s unit trace" to $SETTLES.
jit_settle() { # row phase wrk_pid_file wrapper_pid after cap pid...
  local row=$1 phase=$2 pidf=$3 wrapper=$4 after=$5 cap=$6 wpid="" i t0 t j tp jp us ok trace="" verdict
  local rate=${SETTLE_RATE-$RATE} lim=${SETTLE_LIMIT:-$JIT_SETTLE} unit settled=0 el=""
  local win=${SETTLE_WINDOW:-$JIT_WINDOW}
  local -a ts=() js=()
  shift 6
  unit=$(if ((rate > 0)); then echo "us/req"; else echo "ms/s"; fi)
  for ((i = 0; i < 100; i++)); do [[ -s "$pidf" ]] && break; sleep 0.02; done
  read -r wpid <"$pidf" 2>/dev/null || return 0
  t0=$(date +%s%N) tp=$t0 jp=$(jit_ns_now "$@")
  ts=("$t0") js=("$jp")
  verdict="not settled (cap)"
  while running "$wrapper"; do
    sleep 1
    t=$(date +%s%N) j=$(jit_ns_now "$@")
    running "$wrapper" || break
    ts+=("$t") js+=("$j")
    # Compiler CPU over the last second (for the log) and over the last window (the test; the
    # whole run so far while it is shorter than the window): µs per request at the rate, or ms
    # per second of wall time in a closed loop.
    i=$((${#ts[@]} - 1 - win))
    ((i >= 0)) || i=0
    read -r us ok < <(awk -v d=$((j > jp ? j - jp : 0)) -v dt=$((t - tp)) -v el=$((t - t0)) \
      -v wd=$((j > js[i] ? j - js[i] : 0)) -v wt=$((t - ts[i])) -v full=$((${#ts[@]} > win)) \
      -v rate="$rate" -v lim="$lim" -v after="$after" 'BEGIN {
        if (rate > 0) {
          us = dt > 0 ? d / 1000 / (rate * dt / 1e9) : 0
          wus = wt > 0 ? wd / 1000 / (rate * wt / 1e9) : 0
        } else {
          us = dt > 0 ? (d / 1e6) / (dt / 1e9) : 0
          wus = wt > 0 ? (wd / 1e6) / (wt / 1e9) : 0
        }
        printf "%.2f %d\n", us, (full && el >= after * 1e9 && wus < lim) }')
    trace="$trace $us"
    if ((ok)); then
      kill -INT "$wpid" 2>/dev/null || true
      settled=1 el=$(((t - t0) / 1000000))
      verdict="settled after $el ms"
      break
    fi
    tp=$t jp=$j
  done
  [[ -n "$el" ]] || el=$((($(date +%s%N) - t0) / 1000000))
  printf '%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n' "$row" "$phase" "$settled" "$el" "$after" "$cap" "$unit" \
    "${trace# }" >>"$SETTLES"
  log "$row: $phase, JIT $unit each second:${trace:- none}; $verdict"
}

# Waits until the span lines for this row stop growing (hoptrace's writer flushes asynchronously):
# the same count 4 times 0.5 s apart, at most 10 s. Prints the count. Every row uses its own path
# (/r/<row>), so rows that share a sidecar are counted separately.
settled_spans() { # row file...
  local row=$1 prev=-1 same=0 n i
  shift
  for ((i = 0; i < 20; i++)); do
    n=$(for f in "$@"; do cat "$f" "$f".[0-9]* 2>/dev/null; done | grep -c -F "/r/$row" || true)
    if [[ "$n" == "$prev" ]]; then same=$((same + 1)); else same=0; fi
    if ((same >= ${SETTLE_READS:-3})); then break; fi
    prev=$n
    sleep 0.5
  done
  echo "$n"
}

# One request before the runs, on a path the span count ignores (/prime/...): a cold JVM loads its
# classes here rather than inside the smoke's one-second run. Absolute-form when there is a target.
prime_request() { # url target
  local url=$1 target=$2 port req
  port=${url#http://127.0.0.1:}
  port=${port%%/*}
  req=${target:-${url#http://127.0.0.1:$port}}
  req=${req/\/r\//\/prime\/}
  timeout 20 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
    printf "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" "$1" >&3
    head -c 12 <&3' "$port" "$req" >/dev/null 2>&1 || true
}

# Warm-up (discarded), closed loop at each concurrency, then the fixed rate: a discarded run, then
# the measured one, or with rate pairs the pairs with nginx (nothing more for nginx's own row).
declare -A RATE_URL=() RATE_TARGET=() RATE_PIDS=() NEAR_DIRECT=()
measure_row() { # row warmup url target "pids"
  local row=$1 warmup=$2 url=$3 target=$4 pids c
  read -r -a pids <<<"$5"
  RATE_URL[$row]=$url RATE_TARGET[$row]=$target RATE_PIDS[$row]=$5
  prime_request "$url" "$target"
  # A JVM has compiler threads (nginx and HAProxy read 0); the smoke (no warm-up) asks nothing.
  local jvm=false
  if ((warmup > 0 && ${#pids[@]})) && [[ $(jit_ns_now "${pids[@]}") != 0 ]]; then jvm=true; fi
  if $jvm && ((JIT_PATHS > 0)); then
    # A JVM: halfway through its warm-up, 1 s at each measured concurrency on new connections
    # (more than the warm-up's 16 grow the upstream pool, connections opened and closed while the
    # request path is compiled); the rest at 16 lets C2 recompile what that trapped (s20: the
    # c64 run trapped in SameLoopForwarder$Pool.take, ConnectionKeys.of, CallerAddress.of).
    # The tail goes on until the compilers have settled (s21): under BENCH_JIT_SETTLE_LOOP ms of
    # compiler CPU per second over the last BENCH_JIT_WINDOW s, at least that window long, at most
    # BENCH_JVM_SETTLE_MAX s past its fixed length (the length before s21: the same in all rows).
    # Without it, a slow host's C2 backlog ran in the measured phases (s20: 5.2 s of compiler CPU
    # in inbound's c1, 5.8 µs/req in its c16).
    local tail
    tail=$((warmup - warmup / 2 - $(wc -w <<<"$CONNS")))
    ((tail >= 3)) || tail=3
    run_wrk "$row" warmup 16 $((warmup / 2)) closed.lua "$url" "$target" "${pids[@]}"
    for c in $CONNS; do
      run_wrk "$row" "warmup-paths.c$c" "$c" 1 closed.lua "$url" "$target" "${pids[@]}"
    done
    if ((JVM_SETTLE_MAX > 0)); then
      SETTLE_AFTER=$JIT_WINDOW SETTLE_RATE=0 SETTLE_LIMIT=$JIT_SETTLE_LOOP \
        run_wrk "$row" warmup-tail 16 $((tail + JVM_SETTLE_MAX)) closed.lua "$url" "$target" "${pids[@]}"
    else
      run_wrk "$row" warmup-tail 16 "$tail" closed.lua "$url" "$target" "${pids[@]}"
    fi
  elif ((warmup > 0)); then
    run_wrk "$row" warmup 16 "$warmup" closed.lua "$url" "$target" "${pids[@]}"
  fi
  for c in $CONNS; do
    if $jvm && ((PHASE_SETTLE > 0)); then
      # A JVM's measured phase starts once its compilers are quiet at this concurrency (s22): the
      # new connection paths of a higher one start a compile wave the warm-up's tail at 16 did not.
      # At 64 connections the wave is the longest: s23's inbound c64 still compiled 5.97 µs/req in
      # its phase after the 3 s cap, so the cap doubles there.
      local cap=$((c >= 64 ? 2 * PHASE_SETTLE_MAX : PHASE_SETTLE_MAX))
      SETTLE_AFTER=$PHASE_SETTLE SETTLE_WINDOW=$PHASE_SETTLE SETTLE_RATE=0 SETTLE_LIMIT=$JIT_SETTLE_LOOP \
        run_wrk "$row" "warmup-settle.c$c" "$c" $((PHASE_SETTLE + cap)) closed.lua "$url" "$target" "${pids[@]}"
    fi
    run_wrk "$row" "c$c" "$c" "$DURATION" closed.lua "$url" "$target" "${pids[@]}"
  done
  if ((RATE_DURATION > 0 && RATE_WARMUP > 0)); then
    if ((JIT_SETTLE_MAX > 0 && ${#pids[@]})) && [[ $(jit_ns_now "${pids[@]}") != 0 ]]; then
      # A JVM (it has compiler threads): on until the JIT has settled, at most JIT_SETTLE_MAX s more.
      SETTLE_AFTER=$RATE_WARMUP run_wrk "$row" warmup-rate "$RATE_CONNS" $((RATE_WARMUP + JIT_SETTLE_MAX)) \
        paced.lua "$url" "$target" "${pids[@]}"
      if ((JIT_REWARM > 0)) && pairs_on; then
        # Each of the pairs' row runs starts on new connections, some after the JVM sat idle
        # through nginx's runs: in s19's runs such a start made C2 throw away compiled request-path
        # code (SpanRecordingHandler.record, SameLoopForwarder$Relay.start) and compile it again
        # inside a measured run. Once here instead: direct at the rate for a pair run's length (the
        # JVM idles, as beside nginx; discarded), then the row on new connections until it settles.
        warm_paths "$row" "$url" "$target" "${pids[@]}"
        rate_run direct "warmup-gap.$row"
        NEAR_DIRECT[$row]=1
        SETTLE_AFTER=$JIT_REWARM run_wrk "$row" warmup-rate2 "$RATE_CONNS" $((JIT_REWARM + JIT_SETTLE_MAX / 2)) \
          paced.lua "$url" "$target" "${pids[@]}"
      fi
    else
      run_wrk "$row" warmup-rate "$RATE_CONNS" "$RATE_WARMUP" paced.lua "$url" "$target" "${pids[@]}"
    fi
  fi
  if ((RATE_DURATION > 0)); then
    if pairs_on; then
      [[ "$row" == nginx ]] || rate_pairs "$row"
    else
      run_wrk "$row" rate "$RATE_CONNS" "$RATE_DURATION" paced.lua "$url" "$target" "${pids[@]}"
    fi
  fi
}
# The paths a pair's row run takes that one long run at the rate does not (s19's LogCompilation:
# C2 had compiled them without the branch, trapped inside a measured run and recompiled there;
# README, "Rate warm-up paths (s20)"): the app closing the idle keep-alive connections the
# sidecar pooled (the backend's graceful reload closes them at once, as an app with a keep-alive
# timeout does after an idle spell), so the next requests find the upstream pool empty and
# connect; and connections opened and closed while the request path is compiled —
# BENCH_JIT_PATHS short runs at the rate, each on new connections. Discarded, like the warm-up.
warm_paths() { # row url target pid...
  local row=$1 url=$2 target=$3 i
  shift 3
  ((JIT_PATHS > 0)) || return 0
  backend_close_idle
  for ((i = 1; i <= JIT_PATHS; i++)); do
    run_wrk "$row" "warmup-paths.$i" "$RATE_CONNS" 1 paced.lua "$url" "$target" "$@"
  done
}
# The backend nginx's graceful reload (SIGHUP): a new worker, and the old one closes its idle
# keep-alive connections at once and exits. Waits for it to be gone (at most 5 s).
backend_close_idle() {
  local old w i gone p
  old=$(pgrep -P "$BACKEND_PID" | tr '\n' ' ')
  kill -HUP "$BACKEND_PID"
  for ((i = 0; i < 100; i++)); do
    sleep 0.05
    w=" $(pgrep -P "$BACKEND_PID" | tr '\n' ' ') " gone=1
    for p in $old; do [[ "$w" != *" $p "* ]] || gone=0; done
    ((gone)) && [[ -n "${w// /}" ]] && return 0
  done
  log "backend: old worker still there 5 s after the reload"
}

# True when the rate runs go in pairs: asked for, and the nginx sidecar is up (started before the
# first row, main flow below).
pairs_on() { ((RATE_DURATION > 0 && RATE_PAIRS > 0)) && [[ -n "${RATE_URL[nginx]:-}" ]]; }

# nginx's last steps (stopping it, counting its span lines) run now, or, with rate pairs, after the
# last row: it serves every row's pairs.
DEFERRED=()
after_pairs() { # command args...
  if ((RATE_DURATION > 0 && RATE_PAIRS > 0)); then DEFERRED+=("$(printf '%q ' "$@")"); else "$@"; fi
}

# The fixed-rate runs of a row, in pairs with nginx, right after the row's discarded run at the
# rate: nginx then the row in odd rounds, the row then nginx in even ones (n X X n n X), so a drift
# across a pair cancels over the rounds. The row's rounds run back to back: a JVM serving several
# rows recompiles when the load pattern changes (s18: 15-22 us/req of C2 in runs of the inbound row
# when the rows' pairs were interleaved). Phases: rate.<round> for the row, rate.<round>.<row> for
# nginx's run beside it; render compares each pair and takes medians over the rounds.
#
# Direct runs at the rate right before and right after the pairs (phase near.<row>; a JVM row's
# re-warm gap, warmup-gap.<row>, is the one before) are the row's reference for added latency:
# the direct row's own runs are minutes away, and the server CPU's speed moves over minutes
# (README, "Rate warm-up paths (s20)").
rate_pairs() { # row
  local row=$1 i
  if [[ "$row" != direct && -z "${NEAR_DIRECT[$row]:-}" ]]; then rate_run direct "near.$row"; fi
  log "$row: $RATE_PAIRS pairs with nginx at $RATE req/s, ${RATE_DURATION}s each run"
  for ((i = 1; i <= RATE_PAIRS; i++)); do
    if ((i % 2)); then
      rate_run nginx "rate.$i.$row"
      rate_run "$row" "rate.$i"
    else
      rate_run "$row" "rate.$i"
      rate_run nginx "rate.$i.$row"
    fi
    log "pair $i/$RATE_PAIRS $(pair_summary "$row" "$i")"
  done
  if [[ "$row" != direct ]]; then rate_run direct "near.$row"; fi
}
rate_run() { # row phase
  local pids
  read -r -a pids <<<"${RATE_PIDS[$1]}"
  run_wrk "$1" "$2" "$RATE_CONNS" "$RATE_DURATION" paced.lua "${RATE_URL[$1]}" "${RATE_TARGET[$1]}" "${pids[@]}"
}
# One line on a pair just run, for the progress log.
pair_summary() { # row round
  awk -F'\t' -v r="$1" -v i="$2" '
    $1 == r && $2 == "rate." i { c = $4 > 0 ? $21 / 1000 / $4 : 0; p = $7; n1 = $14; n2 = $15; s = $23 }
    $1 == "nginx" && $2 == "rate." i "." r { nc = $4 > 0 ? $21 / 1000 / $4 : 0; np = $7; if ($14 > n1) n1 = $14; if ($15 > n2) n2 = $15; if ($23 > s) s = $23 }
    END {
      printf "%s: %.1f vs nginx %.1f us/req (%s), p50 %d vs %d us; noise %s%%/%s%%, steal %s%%", r, c, nc,
        (r == "direct" || nc == 0) ? "-" : sprintf("%.2fx", c / nc), p, np, n1, n2, s
    }' "$RUNS"
}

record_row() { # row hops "dropped refused" span_file...
  local row=$1 hops=$2 spans="-" requests conns dropped refused
  read -r dropped refused <<<"${3:-- -}"
  shift 3
  requests=$(awk -F'\t' -v r="$row" '$1 == r { n += $4 } END { print n + 0 }' "$RUNS")
  conns=$(awk -F'\t' -v r="$row" '$1 == r { n += $3 } END { print n + 0 }' "$RUNS")
  if ((hops > 0)); then spans=$(settled_spans "$row" "$@"); fi
  [[ "$dropped" == - || "$dropped" == 0 ]] || log "$row: hoptrace dropped $dropped span lines (writer queue full)"
  printf '%s\tok\t%s\t%s\t%s\t%s\t\t%s\t%s\n' "$row" "$spans" "$requests" "$conns" "$hops" \
    "$dropped" "$refused" >>"$ROWS_TSV"
}

# "dropped refused" over a row, from the counters before and after ("- -" when unknown).
drops_delta() { # "dropped refused before" "dropped refused after"
  local d0 r0 d1 r1
  read -r d0 r0 <<<"$1"
  read -r d1 r1 <<<"$2"
  if [[ "$d0$d1$r0$r1" == *-* ]]; then echo "- -"; else echo "$((d1 - d0)) $((r1 - r0))"; fi
}
sum_pairs() { # "a b" "c d" -> "a+c b+d" ("- -" if either is unknown)
  local a b c d
  read -r a b <<<"$1"
  read -r c d <<<"$2"
  if [[ "$a$c" == *-* ]]; then echo "- -"; else echo "$((a + c)) $((b + d))"; fi
}

skip_row() { # row reason
  log "$1: skipped: $2"
  printf '%s\tskipped\t-\t0\t0\t0\t%s\n' "$1" "$2" >>"$ROWS_TSV"
}

fail_row() { # row reason
  log "$1: FAILED: $2"
  printf '%s\tfailed\t-\t0\t0\t0\t%s\n' "$1" "$2" >>"$ROWS_TSV"
}

# ---------------------------------------------------------------------------------------------
# Rows. Each proxy runs on the server CPU beside the backend, as a sidecar shares its pod's CPU.
url_for() { echo "http://127.0.0.1:$1/r/$2"; }

row_direct() {
  log "direct: wrk -> backend :$BACKEND_PORT"
  measure_row direct "$WARMUP" "$(url_for "$BACKEND_PORT" direct)" "" ""
  record_row direct 0 "- -"
}

# The nginx sidecar, started once: by its row, or before the first row when the rate runs go in
# pairs (every row's pairs need it). Returns 1 if it did not start (NGINX_WHY says why).
NGINX_PID="" NGINX_PORT="" NGINX_WHY=""
start_nginx_sidecar() {
  [[ -z "$NGINX_PID" ]] || return 0
  [[ -z "$NGINX_WHY" ]] || return 1
  local dir=$WORK/nginx
  NGINX_PORT=$(free_port)
  write_nginx_sidecar_conf "$dir" "$NGINX_PORT" "$BACKEND_PORT" "$WORK/nginx.spans"
  start_nginx "$dir"
  if ! wait_port "$NGINX_PORT"; then
    NGINX_WHY="nginx did not start: $(tail -2 "$dir/error.log")"
    return 1
  fi
  NGINX_PID=$STARTED_PID
  RATE_URL[nginx]=$(url_for "$NGINX_PORT" nginx) RATE_TARGET[nginx]="" RATE_PIDS[nginx]=$NGINX_PID
}

row_nginx() {
  start_nginx_sidecar || { fail_row nginx "$NGINX_WHY"; return; }
  log "nginx: wrk -> nginx sidecar :$NGINX_PORT -> backend (pid $NGINX_PID)"
  measure_row nginx "$WARMUP" "$(url_for "$NGINX_PORT" nginx)" "" "$NGINX_PID"
  after_pairs end_proxy_row nginx "$NGINX_PID" "$WORK/nginx.spans"
}

end_proxy_row() { # row pid span_file
  stop_pid "$2" # nginx flushes its log buffer on exit
  record_row "$1" 1 "- -" "$3"
  rm -f "$3"
}

row_haproxy() {
  local port dir=$WORK/haproxy pid
  port=$(free_port)
  write_haproxy_sidecar_conf "$dir" "$port" "$BACKEND_PORT"
  start_haproxy "$dir" "$WORK/haproxy.spans"
  pid=$STARTED_PID
  wait_port "$port" || { fail_row haproxy "haproxy did not start: $(tail -2 "$dir/stderr.log")"; return; }
  log "haproxy: wrk -> HAProxy sidecar :$port -> backend (pid $pid)"
  measure_row haproxy "$WARMUP" "$(url_for "$port" haproxy)" "" "$pid"
  end_proxy_row haproxy "$pid" "$WORK/haproxy.spans"
}

# Sidecar A serves the inbound and outbound rows and is hop 1 of the chain; B is hop 2. They start
# once (the smoke starts them before the rows, in parallel) and run until the end.
HOPTRACE_A_PID="" HOPTRACE_B_PID=""
start_sidecar_a() {
  [[ -z "$HOPTRACE_A_PID" && -z "$HOPTRACE_SKIP" ]] || return 0
  A_IN=$(free_port) A_OUT="" A_ADMIN=""
  if $HOPTRACE_HAS_OUTBOUND; then A_OUT=$(free_port); fi
  if $HOPTRACE_HAS_ADMIN; then A_ADMIN=$(free_port); fi
  start_hoptrace "$WORK/hoptrace-a" bench-a "$A_IN" "127.0.0.1:$BACKEND_PORT" "$A_OUT" \
    "$WORK/hoptrace-a.spans" "$A_ADMIN"
  HOPTRACE_A_PID=$STARTED_PID
}
start_sidecar_b() {
  [[ -z "$HOPTRACE_B_PID" && -z "$HOPTRACE_SKIP" ]] || return 0
  B_IN=$(free_port) B_ADMIN=""
  if $HOPTRACE_HAS_ADMIN; then B_ADMIN=$(free_port); fi
  start_hoptrace "$WORK/hoptrace-b" bench-b "$B_IN" "127.0.0.1:$BACKEND_PORT" "" \
    "$WORK/hoptrace-b.spans" "$B_ADMIN"
  HOPTRACE_B_PID=$STARTED_PID
}

# Starts what a hoptrace row needs and waits for its ports; on failure records the row as skipped
# (nothing to run yet) or failed (hoptrace did not start) and returns 1.
hoptrace_ready() { # row needs_outbound needs_b
  local row=$1
  if [[ -n "$HOPTRACE_SKIP" ]]; then skip_row "$row" "$HOPTRACE_SKIP"; return 1; fi
  if $2 && ! $HOPTRACE_HAS_OUTBOUND; then
    skip_row "$row" "this hoptrace.jar's \`run\` has no --outbound yet"
    return 1
  fi
  start_sidecar_a
  await_once A_IN "$HOPTRACE_A_PID" "$WORK/hoptrace-a" "$A_IN" || {
    if grep -q "unknown command" "$WORK/hoptrace-a/stderr.log" 2>/dev/null; then
      skip_row "$row" "this hoptrace.jar has no \`run\` command yet (the proxy is not merged)"
    else
      fail_row "$row" "$AWAIT_WHY"
    fi
    return 1
  }
  if $2; then
    await_once A_OUT "$HOPTRACE_A_PID" "$WORK/hoptrace-a" "$A_OUT" "outbound.*not implemented" || {
      # A build that says so at startup ("outbound listener not implemented yet") skips the row.
      local said
      said=$(grep -i -m1 "outbound.*not implemented" "$WORK/hoptrace-a/stderr.log" 2>/dev/null || true)
      if [[ -n "$said" ]]; then skip_row "$row" "this build: ${said#hoptrace: }"; else fail_row "$row" "$AWAIT_WHY"; fi
      return 1
    }
  fi
  if $3; then
    start_sidecar_b
    await_once B_IN "$HOPTRACE_B_PID" "$WORK/hoptrace-b" "$B_IN" || { fail_row "$row" "$AWAIT_WHY"; return 1; }
  fi
}

# await_hoptrace, remembered per listener: a sidecar that did not start is not waited for twice.
declare -A AWAITED=()
await_once() { # key pid dir port [give_up]
  if [[ -z "${AWAITED[$1]:-}" ]]; then
    if AWAIT_WHY=$(await_hoptrace "$2" "$3" "$4" "${5:-}"); then
      AWAITED[$1]=ok
      # The JVM's command line as it runs (the launcher execs java): the flags in the results file.
      [[ -s "$3/cmdline" ]] || tr '\0' ' ' <"/proc/$2/cmdline" >"$3/cmdline" 2>/dev/null || true
    else
      AWAITED[$1]=$AWAIT_WHY
    fi
  fi
  AWAIT_WHY=${AWAITED[$1]}
  [[ "$AWAIT_WHY" == ok ]]
}

# The inbound and outbound rows on one sidecar (A, S, X), once its ready check passed; `what` says
# how that sidecar differs from A ("" for A).
# The other direction of a sidecar, once, before its first inbound or outbound row (CROSS_WARMUP):
# without it the second direction's row began with a compile wave in code both share (s25: 61
# class-check traps, 207 compiles in the outbound row's warm-up) and the first direction's rows
# ran without the second's code in the sidecar's RSS.
declare -A CROSS_WARMED=()
# The sidecar's other listener for cross_warm: its port once it listens, else empty (no cross warm-up).
other_port() { # key pid dir port
  [[ -n "$4" ]] && await_once "$1" "$2" "$3" "$4" && echo "$4"
  return 0
}
cross_warm() { # row pid url target
  [[ -z "${CROSS_WARMED[$2]:-}" ]] || return 0
  CROSS_WARMED[$2]=1
  ((CROSS_WARMUP > 0 && JVM_WARMUP > 0)) || return 0
  log "$1: first the sidecar's other direction for ${CROSS_WARMUP} s (discarded, BENCH_CROSS_WARMUP)"
  prime_request "$3" "$4"
  run_wrk "$1" warmup-cross 16 "$CROSS_WARMUP" closed.lua "$3" "$4" "$2"
}

inbound_row_on() { # row what port pid admin_port spans [outbound_port]
  local row=$1 port=$3 pid=$4 admin=$5 d0
  log "$row: wrk -> hoptrace :$port (inbound${2:+, $2}) -> backend (pid $pid)"
  [[ -z "${7:-}" ]] || cross_warm "$row" "$pid" "http://127.0.0.1:$7/" "$(url_for "$BACKEND_PORT" "$row")"
  d0=$(hoptrace_drops "$admin")
  measure_row $row "$JVM_WARMUP" "$(url_for "$port" $row)" "" "$pid"
  record_row $row 1 "$(drops_delta "$d0" "$(hoptrace_drops "$admin")")" "$6"
}
outbound_row_on() { # row what port pid admin_port spans [inbound_port]
  local row=$1 port=$3 pid=$4 admin=$5 d0
  log "$row: wrk (as the app) -> hoptrace :$port (forward proxy${2:+, $2}) -> backend"
  [[ -z "${7:-}" ]] || cross_warm "$row" "$pid" "$(url_for "$7" "$row")" ""
  d0=$(hoptrace_drops "$admin")
  measure_row $row "$JVM_WARMUP" "http://127.0.0.1:$port/" "$(url_for "$BACKEND_PORT" $row)" "$pid"
  record_row $row 1 "$(drops_delta "$d0" "$(hoptrace_drops "$admin")")" "$6"
}

row_hoptrace-inbound() {
  hoptrace_ready hoptrace-inbound false false || return 0
  inbound_row_on hoptrace-inbound "" "$A_IN" "$HOPTRACE_A_PID" "$A_ADMIN" "$WORK/hoptrace-a.spans" \
    "$(other_port A_OUT "$HOPTRACE_A_PID" "$WORK/hoptrace-a" "$A_OUT")"
}

row_hoptrace-outbound() {
  hoptrace_ready hoptrace-outbound true false || return 0
  outbound_row_on hoptrace-outbound "" "$A_OUT" "$HOPTRACE_A_PID" "$A_ADMIN" "$WORK/hoptrace-a.spans" \
    "$(other_port A_IN "$HOPTRACE_A_PID" "$WORK/hoptrace-a" "$A_IN")"
}

row_hoptrace-chain() {
  hoptrace_ready hoptrace-chain true true || return 0
  log "hoptrace-chain: wrk (as the app) -> hoptrace A :$A_OUT (outbound) -> hoptrace B :$B_IN (inbound) -> backend"
  local a0 b0 a1 b1
  a0=$(hoptrace_drops "$A_ADMIN") b0=$(hoptrace_drops "$B_ADMIN")
  measure_row hoptrace-chain "$JVM_WARMUP" "http://127.0.0.1:$A_OUT/" \
    "$(url_for "$B_IN" hoptrace-chain)" "$HOPTRACE_A_PID $HOPTRACE_B_PID"
  a1=$(hoptrace_drops "$A_ADMIN") b1=$(hoptrace_drops "$B_ADMIN")
  record_row hoptrace-chain 2 "$(drops_delta "$(sum_pairs "$a0" "$b0")" "$(sum_pairs "$a1" "$b1")")" \
    "$WORK/hoptrace-a.spans" "$WORK/hoptrace-b.spans"
}

# Sidecar S: as A, but forwarding with upstream.client=same-loop; it serves the *-sameloop rows.
HOPTRACE_S_PID=""
start_sidecar_s() {
  [[ -z "$HOPTRACE_S_PID" && -z "$HOPTRACE_SKIP" ]] || return 0
  S_IN=$(free_port) S_OUT=$(free_port) S_ADMIN=""
  if $HOPTRACE_HAS_ADMIN; then S_ADMIN=$(free_port); fi
  HOPTRACE_RUN_ARGS="${HOPTRACE_RUN_ARGS-"--set span-log.rotate-size=0"} --set upstream.client=same-loop" \
    start_hoptrace "$WORK/hoptrace-s" bench-s "$S_IN" "127.0.0.1:$BACKEND_PORT" "$S_OUT" \
    "$WORK/hoptrace-s.spans" "$S_ADMIN"
  HOPTRACE_S_PID=$STARTED_PID
}

sameloop_ready() { # row
  if [[ -n "$HOPTRACE_SKIP" ]]; then skip_row "$1" "$HOPTRACE_SKIP"; return 1; fi
  start_sidecar_s
  await_once S_IN "$HOPTRACE_S_PID" "$WORK/hoptrace-s" "$S_IN" || { fail_row "$1" "$AWAIT_WHY"; return 1; }
  await_once S_OUT "$HOPTRACE_S_PID" "$WORK/hoptrace-s" "$S_OUT" || { fail_row "$1" "$AWAIT_WHY"; return 1; }
}

row_hoptrace-inbound-sameloop() {
  sameloop_ready hoptrace-inbound-sameloop || return 0
  inbound_row_on hoptrace-inbound-sameloop "same-loop upstream" "$S_IN" "$HOPTRACE_S_PID" "$S_ADMIN" \
    "$WORK/hoptrace-s.spans" "$S_OUT"
}

row_hoptrace-outbound-sameloop() {
  sameloop_ready hoptrace-outbound-sameloop || return 0
  outbound_row_on hoptrace-outbound-sameloop "same-loop upstream" "$S_OUT" "$HOPTRACE_S_PID" "$S_ADMIN" \
    "$WORK/hoptrace-s.spans" "$S_IN"
}

# Sidecar X: as A, but with other JVM flags (HOPTRACE_ALT_JAVA_OPTS replaces the launcher's, as
# HOPTRACE_JAVA_OPTS does for A; HOPTRACE_ALT_JAVA_OPTS_ADD adds to them), another java (HOPTRACE_ALT_JAVA) and/or another build
# (HOPTRACE_ALT_JAR, s26); it serves the *-alt rows, an A/B of JVM flags (s22) or of builds in one
# run. None set: the same as A, an A/A. Started by its first
# row, as S: it is not running, so costs nothing on the server CPU, while A's rows run before it.
HOPTRACE_X_PID=""
start_sidecar_x() {
  [[ -z "$HOPTRACE_X_PID" && -z "$HOPTRACE_SKIP" ]] || return 0
  X_IN=$(free_port) X_OUT="" X_ADMIN=""
  if $HOPTRACE_HAS_OUTBOUND; then X_OUT=$(free_port); fi
  if $HOPTRACE_HAS_ADMIN; then X_ADMIN=$(free_port); fi
  with_alt_jvm start_hoptrace "$WORK/hoptrace-x" bench-x "$X_IN" "127.0.0.1:$BACKEND_PORT" "$X_OUT" \
    "$WORK/hoptrace-x.spans" "$X_ADMIN"
  HOPTRACE_X_PID=$STARTED_PID
}
# Runs a command with sidecar X's java, JVM flags and jar in place of A's (the launcher reads
# HOPTRACE_JAVA_OPTS from its environment; unset, it uses its own flags; the archive follows the
# jar: hoptrace_archive).
with_alt_jvm() { # command args...
  local HOPTRACE_JAVA=${HOPTRACE_ALT_JAVA:-$HOPTRACE_JAVA}
  local HOPTRACE_JAR=${HOPTRACE_ALT_JAR:-$HOPTRACE_JAR}
  if [[ -n "${HOPTRACE_ALT_JAVA_OPTS+set}" ]]; then local -x HOPTRACE_JAVA_OPTS=$HOPTRACE_ALT_JAVA_OPTS; fi
  # s27: an A/B of one flag passed HOPTRACE_ALT_JAVA_OPTS=-Xmn4m alone, which replaced every
  # launcher flag (G1, tiered, default heap); this adds to them instead.
  if [[ -n "${HOPTRACE_ALT_JAVA_OPTS_ADD:-}" ]]; then
    local -x JAVA_OPTS="${JAVA_OPTS:+$JAVA_OPTS }$HOPTRACE_ALT_JAVA_OPTS_ADD"
  fi
  "$@"
}

alt_ready() { # row needs_outbound
  if [[ -n "$HOPTRACE_SKIP" ]]; then skip_row "$1" "$HOPTRACE_SKIP"; return 1; fi
  if $2 && ! $HOPTRACE_HAS_OUTBOUND; then skip_row "$1" "this hoptrace.jar's \`run\` has no --outbound yet"; return 1; fi
  if [[ -n "${HOPTRACE_ALT_JAVA:-}" ]] && ! command -v "$HOPTRACE_ALT_JAVA" >/dev/null; then
    fail_row "$1" "HOPTRACE_ALT_JAVA: $HOPTRACE_ALT_JAVA not found"
    return 1
  fi
  if [[ -n "${HOPTRACE_ALT_JAR:-}" && ! -f "$HOPTRACE_ALT_JAR" ]]; then
    fail_row "$1" "HOPTRACE_ALT_JAR: $HOPTRACE_ALT_JAR not found"
    return 1
  fi
  start_sidecar_x
  await_once X_IN "$HOPTRACE_X_PID" "$WORK/hoptrace-x" "$X_IN" || { fail_row "$1" "$AWAIT_WHY"; return 1; }
  if $2; then
    await_once X_OUT "$HOPTRACE_X_PID" "$WORK/hoptrace-x" "$X_OUT" || { fail_row "$1" "$AWAIT_WHY"; return 1; }
  fi
}

row_hoptrace-inbound-alt() {
  alt_ready hoptrace-inbound-alt false || return 0
  inbound_row_on hoptrace-inbound-alt "alternative JVM flags" "$X_IN" "$HOPTRACE_X_PID" "$X_ADMIN" \
    "$WORK/hoptrace-x.spans" "$(other_port X_OUT "$HOPTRACE_X_PID" "$WORK/hoptrace-x" "$X_OUT")"
}

row_hoptrace-outbound-alt() {
  alt_ready hoptrace-outbound-alt true || return 0
  outbound_row_on hoptrace-outbound-alt "alternative JVM flags" "$X_OUT" "$HOPTRACE_X_PID" "$X_ADMIN" \
    "$WORK/hoptrace-x.spans" "$X_IN"
}

# ---------------------------------------------------------------------------------------------
# The tables, from $RUNS and $ROWS_TSV.

# awk functions both renderers use: the fixed-rate runs ("slots": phase rate, or rate.<round> and
# nginx's rate.<round>.<row> with rate pairs) and medians over them.
RATE_AWK='
  function fmt(x, d) { return x == "" ? "—" : sprintf("%." d "f", x) }
  function signed(x) { return x == "" ? "—" : sprintf("%+d", x) }
  # Sets MED, MIN, MAX (or "" for an empty list) over a list of numbers separated by spaces.
  function stats(list,    n, i, j, t) {
    delete SV
    n = split(list, SV, " ")
    if (n == 0) { MED = MIN = MAX = ""; return 0 }
    for (i = 2; i <= n; i++) { t = SV[i] + 0; for (j = i - 1; j >= 1 && SV[j] + 0 > t; j--) SV[j + 1] = SV[j]; SV[j + 1] = t }
    MED = (n % 2) ? SV[(n + 1) / 2] : (SV[n / 2] + SV[n / 2 + 1]) / 2
    MIN = SV[1]; MAX = SV[n]
    return n
  }
  function slot_cpu() { return $4 > 0 ? ($21 > 0 ? $21 / 1000 / $4 : $11 * 1e6 / clk / $4) : "" }
  # The part of it the JIT compiler threads took (schedstat ns, column 25; ticks before s19).
  function slot_jit() { return $4 > 0 ? (NF >= 25 ? $25 / 1000 / $4 : $20 * 1e6 / clk / $4) : "" }
  # Reads one line of $RUNS that is a measured run at the rate into the slot arrays.
  function read_slot(    n, a, rd, partner) {
    n = split($2, a, ".")
    rd = n >= 2 ? a[2] + 0 : 1; partner = n >= 3 ? a[3] : ""
    if ($1 == "nginx" && partner != "") {
      ncpu[partner, rd] = slot_cpu(); np50[partner, rd] = $7; np99[partner, rd] = $9; nline[partner, rd] = NR
      nnoise[partner, rd] = $14 "/" $15; nsteal[partner, rd] = $23; nirq[partner, rd] = $24
      nback[partner, rd] = $4 > 0 ? $22 / 1000 / $4 : 0
    } else {
      scpu[$1, rd] = slot_cpu(); sp50[$1, rd] = $7; sp99[$1, rd] = $9; sline[$1, rd] = NR
      sjit[$1, rd] = slot_jit(); scpux[$1, rd] = $4 > 0 ? slot_cpu() - slot_jit() : ""
      snoise[$1, rd] = $14 "/" $15; ssteal[$1, rd] = $23; sirq[$1, rd] = $24
      sback[$1, rd] = $4 > 0 ? $22 / 1000 / $4 : 0
      if (rd > rounds) rounds = rd
    }
    lc[$1] = lc[$1] " " slot_cpu(); lcx[$1] = lcx[$1] " " ($4 > 0 ? slot_cpu() - slot_jit() : "")
    l50[$1] = l50[$1] " " $7; l90[$1] = l90[$1] " " $8
    l99[$1] = l99[$1] " " $9; l999[$1] = l999[$1] " " $10
    rreq[$1] += $4; rdur[$1] += $5; rcs[$1] += $19; rjit[$1] += $4 * slot_jit()
  }
  # A direct run at the rate beside a row'"'"'s pairs (phase warmup-gap.<row> or near.<row>).
  function near_run(ph,    q) {
    q = ph; sub(/^[^.]*\./, "", q)
    near50[q] = near50[q] " " $7; near99[q] = near99[q] " " $9; nearn[q]++
  }
  # REF50/REF99: the reference for a row'"'"'s added latency, the median of the direct runs beside
  # its pairs (s20); without any, direct'"'"'s own runs at the rate (p50/p99 of "direct").
  function near_ref(r) {
    if (nearn[r] > 0) { stats(near50[r]); REF50 = MED; stats(near99[r]); REF99 = MED }
    else { REF50 = p50["direct"]; REF99 = p99["direct"] }
  }
  function paired(r, i) { return ((r, i) in scpu) && ((r, i) in ncpu) }
  # Per row, over its pairs: XN/XNMIN/XNMAX (CPU ÷ nginx beside it), XS/XSMIN/XSMAX (the same
  # with the row'"'"'s JIT compiler threads left out: its steady state), D50, D99 (p50, p99 minus
  # nginx beside it) and NPAIRS; "" without pairs.
  function pairs_of(r,    i, lx, ls, l5, l9) {
    lx = ls = l5 = l9 = ""
    for (i = 1; i <= rounds; i++) if (paired(r, i)) {
      if (ncpu[r, i] > 0) { lx = lx " " scpu[r, i] / ncpu[r, i]; ls = ls " " scpux[r, i] / ncpu[r, i] }
      l5 = l5 " " (sp50[r, i] - np50[r, i]); l9 = l9 " " (sp99[r, i] - np99[r, i])
    }
    stats(ls); XS = MED; XSMIN = MIN; XSMAX = MAX
    NPAIRS = stats(lx); XN = MED; XNMIN = MIN; XNMAX = MAX
    stats(l5); D50 = MED; D50MIN = MIN; D50MAX = MAX
    stats(l9); D99 = MED; D99MIN = MIN; D99MAX = MAX
  }
'

render() {
  awk -F'\t' -v clk="$CLK_TCK" -v noise_limit="$NOISE_LIMIT" -v order="$ROWS" -v rate="$RATE" \
    -v conns_list="$CONNS" -v smoke="$SMOKE" "$RATE_AWK"'
    function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "—" : sprintf("%.2f", a / b) }
    # "steady (max)" in MB; the phase-end snapshot alone where nothing was sampled.
    function rss_cell(r) { return rss[r] > 0 ? sprintf("%.1f (%.1f)", rss[r] / 1024, rmax[r] / 1024) : fmt(rend[r] / 1024, 1) " (end)" }
    FNR == NR {  # runs
      r = $1; ph = $2
      if (r == "direct" && ph ~ /^(warmup-gap|near)\./) near_run(ph)
      if (ph ~ /^warmup/) next
      if ($5 > 0) rps[r, ph] = $4 * 1e6 / $5
      if (ph == "c16" || (smoke == "true" && ph == "c2")) {
        if ($4 > 0) { cpu[r, "c16"] = $11 * 1e6 / clk / $4; bcpu[r, "c16"] = $12 * 1e6 / clk / $4; csw[r, "c16"] = $19 / $4 }
      }
      if (ph == "rate" || ph ~ /^rate\./) read_slot()
      if (smoke == "true" && ph == "c2") { p50[r] = $7; p90[r] = $8; p99[r] = $9; p999[r] = $10; achieved[r] = rps[r, ph] }
      # RSS (s21): over the measured phases, the largest median sample ("steady"), the largest
      # sample, and the largest phase-end snapshot (the only figure before s21).
      if ($16 > rend[r]) rend[r] = $16
      if (NF >= 28 && $28 > 0) { if ($26 > rss[r]) rss[r] = $26; if ($27 > rmax[r]) rmax[r] = $27 }
      if ($17 > pss[r]) pss[r] = $17
      if ($18 > thr[r]) thr[r] = $18
      err[r] += $6
      if (ns[r] == "" || $14 > ns[r]) ns[r] = $14  # "" until the first run: a quiet 0.0 shows as 0 %
      if (nc[r] == "" || $15 > nc[r]) nc[r] = $15
      next
    }
    {  # rows
      status[$1] = $2; spans[$1] = $3; reqs[$1] = $4; sconns[$1] = $5; hops[$1] = $6; why[$1] = $7
      dropped[$1] = $8; refused[$1] = $9
    }
    END {
      n = split(order, rows, " ")
      # The rate cells: medians over each row'"'"'s runs at the rate; ×nginx and the latency
      # differences from the pairs (nginx measured right beside the row) when there are pairs.
      for (i = 1; i <= n; i++) {
        r = rows[i]
        if (rreq[r] == 0) continue
        stats(lc[r]); cpu[r, "rate"] = MED; stats(lcx[r]); cpux[r] = MED
        stats(l50[r]); p50[r] = MED; stats(l90[r]); p90[r] = MED
        stats(l99[r]); p99[r] = MED; stats(l999[r]); p999[r] = MED
        achieved[r] = rdur[r] > 0 ? rreq[r] * 1e6 / rdur[r] : ""
        csw[r, "rate"] = rcs[r] / rreq[r]; jit[r, "rate"] = rjit[r] / rreq[r]
      }
      # Added latency at the rate (s19): a row'"'"'s median p50/p99 over its runs minus direct'"'"'s
      # (the direct row'"'"'s runs at the rate); nginx'"'"'s from its pairs with direct. A row is
      # never compared with nginx'"'"'s latency for this (a bad nginx p99 beside it made the
      # row'"'"'s negative, s18); "added p50 ≤ nginx" is decided by the in-pair difference (DN50).
      # Below 0 (a row faster than no proxy at all: noise) prints 0 with a mark.
      pairs_of("direct")
      if (NPAIRS > 0) { n50 = -D50; n99 = -D99 } else { n50 = p50["nginx"] - p50["direct"]; n99 = p99["nginx"] - p99["direct"] }
      for (i = 1; i <= n; i++) {
        r = rows[i]
        if (r == "direct" || rreq[r] == 0) continue
        if (r == "nginx") { xn[r] = xs[r] = 1; xnr[r] = xsr[r] = ""; a50[r] = n50; a99[r] = n99 }
        else {
          # Against the direct runs nearest to the row'"'"'s (s20), else direct'"'"'s own.
          near_ref(r); a50[r] = p50[r] - REF50; a99[r] = p99[r] - REF99
          pairs_of(r)
          if (NPAIRS > 0) {
            xn[r] = XN; xnr[r] = NPAIRS > 1 ? sprintf(" (%.2f–%.2f)", XNMIN, XNMAX) : ""
            xs[r] = XS; xsr[r] = NPAIRS > 1 ? sprintf(" (%.2f–%.2f)", XSMIN, XSMAX) : ""
            dn50[r] = D50; dn99[r] = D99
          } else {
            xn[r] = (cpu["nginx", "rate"] > 0) ? cpu[r, "rate"] / cpu["nginx", "rate"] : ""; xnr[r] = ""
            xs[r] = (cpu["nginx", "rate"] > 0) ? cpux[r] / cpu["nginx", "rate"] : ""; xsr[r] = ""
            dn50[r] = a50[r] - n50; dn99[r] = a99[r] - n99
          }
        }
        if (a50[r] < 0) { a50[r] = 0; clamped[r, 50] = 1; anyclamp = 1 }
        if (a99[r] < 0) { a99[r] = 0; clamped[r, 99] = 1; anyclamp = 1 }
      }
      split(conns_list, cl, " ")
      mid = (smoke == "true") ? "c2" : "c16"
      at = (smoke == "true") ? "@2 conns, smoke: all rows at once" : "@" rate "/s"
      cpuhead = (smoke == "true") ? "proxy CPU µs/req | ×nginx" : "proxy CPU µs/req, JIT left out (total) | ×nginx, JIT left out: median (min–max); total"
      print "| row | req/s @" substr(mid, 2) " conns | ×nginx | ×direct | added p50 µs " at " | added p99 µs | " cpuhead " | RSS MB steady (max) | span lines/req | noise server / client |"
      print "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"
      for (i = 1; i <= n; i++) {
        r = rows[i]
        if (status[r] != "ok") { printf "| %s | %s: %s |||||||||\n", r, status[r] == "" ? "failed" : status[r], why[r]; continue }
        c = (smoke == "true") ? cpu[r, "c16"] : cpu[r, "rate"]
        if (smoke == "true") {
          x = ratio(cpu[r, "c16"], cpu["nginx", "c16"])
          added50 = (r == "direct" || p50[r] == "") ? "" : p50[r] - p50["direct"]
          added99 = (r == "direct" || p99[r] == "") ? "" : p99[r] - p99["direct"]
        } else {
          # Steady state first (the JIT compiler threads left out), the total beside it.
          # (a row without compiler threads, nginx or HAProxy, has one figure)
          j = jit[r, "rate"] > 0
          x = xs[r] == "" ? "—" : sprintf("%.2f", xs[r]) xsr[r] ((xn[r] == "" || !j) ? "" : sprintf("; %.2f", xn[r]))
          c = cpux[r] == "" ? "" : j ? sprintf("%.1f (%.1f)", cpux[r], cpu[r, "rate"]) : sprintf("%.1f", cpu[r, "rate"])
          added50 = r == "direct" ? "" : a50[r]; added99 = r == "direct" ? "" : a99[r]
        }
        flag = (ns[r] > noise_limit || nc[r] > noise_limit) ? "**NOISY** " : ""
        sl = hops[r] > 0 ? sprintf("%.3f", spans[r] / (reqs[r] > 0 ? reqs[r] : 1)) : "—"
        printf "| %s | %s | %s | %s | %s%s | %s%s | %s | %s | %s | %s | %s%s%% / %s%% |\n", r,
          fmt(rps[r, mid], 0), ratio(rps[r, mid], rps["nginx", mid]), ratio(rps[r, mid], rps["direct", mid]),
          signed(added50), clamped[r, 50] ? "†" : "", signed(added99), clamped[r, 99] ? "†" : "",
          r == "direct" ? "—" : (smoke == "true" ? fmt(c, 1) : c),
          r == "direct" ? "—" : x, r == "direct" ? "—" : rss_cell(r), sl,
          flag, fmt(ns[r], 0), fmt(nc[r], 0)
      }
      if (anyclamp) {
        print ""
        print "† below 0 (the row read faster than direct at the rate): printed as 0; noise, not a gain."
      }
      print ""
      printf "| row |"; for (j = 1; j <= length(cl); j++) printf " req/s c%s |", cl[j]
      print " rate achieved | p50 µs | p90 µs | p99 µs | p99.9 µs | proxy CPU µs/req @rate | of which JIT | @c16 | backend µs/req @c16 | proxy context switches/req @rate | RSS MB steady / max / end | PSS MB | threads | span lines | requests | errors | noise server / client % |"
      printf "|---|"; for (j = 1; j <= length(cl); j++) printf "--:|"
      print "--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"
      for (i = 1; i <= n; i++) {
        r = rows[i]
        if (status[r] != "ok") continue
        printf "| %s |", r
        for (j = 1; j <= length(cl); j++) printf " %s |", fmt(rps[r, "c" cl[j]], 0)
        printf " %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d | %s / %s |\n",
          fmt(achieved[r], 0), fmt(p50[r], 0), fmt(p90[r], 0), fmt(p99[r], 0), fmt(p999[r], 0),
          r == "direct" ? "—" : fmt(cpu[r, "rate"], 1), r == "direct" ? "—" : fmt(jit[r, "rate"], 1),
          r == "direct" ? "—" : fmt(cpu[r, "c16"], 1),
          fmt(bcpu[r, "c16"], 1), r == "direct" ? "—" : fmt(smoke == "true" ? csw[r, "c16"] : csw[r, "rate"], 1),
          r == "direct" ? "—" : sprintf("%s / %s / %s", fmt(rss[r] / 1024, 1), fmt(rmax[r] / 1024, 1), fmt(rend[r] / 1024, 1)),
          r == "direct" ? "—" : fmt(pss[r] / 1024, 1), r == "direct" ? "—" : thr[r],
          spans[r] ((dropped[r] != "" && dropped[r] != "-" && dropped[r] > 0) ? " (" dropped[r] " dropped)" : ""),
          reqs[r], err[r], fmt(ns[r], 0), fmt(nc[r], 0)
      }
      if (smoke == "true" || status["nginx"] != "ok") exit
      # The issue'"'"'s goal, for the one-hop hoptrace rows that ran.
      header = 0
      for (i = 1; i <= n; i++) {
        r = rows[i]
        if (r !~ /^hoptrace-(inbound|outbound)$/ || status[r] != "ok") continue
        if (!header) {
          print ""
          print "| goal (issue) | CPU/req ≤ nginx | added p50 ≤ nginx | req/s @16 ≥ nginx | added p99 < 1 ms | RSS < 96 MB (steady; max and phase-end beside) |"
          print "|---|---|---|---|---|---|"
          header = 1
        }
        # Latency and req/s depend on the CPU the others left; CPU per request and RSS do not.
        # Noisy when any of the three runs compared was.
        noisy = ns["direct"] > noise_limit || nc["direct"] > noise_limit ||
          ns["nginx"] > noise_limit || nc["nginx"] > noise_limit ||
          ns[r] > noise_limit || nc[r] > noise_limit
        # CPU: the steady state (JIT left out), the total beside it. Added p50: the in-pair
        # difference with nginx decides; both added latencies against direct are shown.
        printf "| %s | %s %.2f× JIT left out, %.2f× total (%.1f, %.1f vs %.1f µs) | %s Δ %+d µs vs nginx beside it (%+d vs %+d µs) | %s %.0f vs %.0f | %s %+d µs | %s %.1f MB steady (max %.1f, phase ends up to %.1f) |\n", r,
          mark(xs[r] <= 1, 0), xs[r], xn[r], cpux[r], cpu[r, "rate"], cpu["nginx", "rate"],
          mark(dn50[r] <= 0, noisy), dn50[r], a50[r], n50, mark(rps[r, "c16"] >= rps["nginx", "c16"], noisy), rps[r, "c16"], rps["nginx", "c16"],
          mark(a99[r] < 1000, noisy), a99[r], mark((rss[r] > 0 ? rss[r] : rend[r]) < 96 * 1024, 0),
          (rss[r] > 0 ? rss[r] : rend[r]) / 1024, rmax[r] / 1024, rend[r] / 1024
      }
    }
    function mark(ok, noisy) { return noisy ? "❔ noisy:" : ok ? "✅" : "❌" }' "$RUNS" "$ROWS_TSV"
}

# The rate pairs, one line each, then per row the spread over its pairs (nothing without pairs).
render_pairs() {
  awk -F'\t' -v clk="$CLK_TCK" -v order="$ROWS" "$RATE_AWK"'
    $2 ~ /^rate\./ { read_slot() }
    END {
      n = split(order, rows, " ")
      any = 0
      for (i = 1; i <= n; i++) for (k = 1; k <= rounds; k++) if (paired(rows[i], k)) any = 1
      if (!any) exit
      print "| round | row | first | nginx µs/req | row µs/req | ×nginx | row JIT µs/req | ×nginx, JIT left out | ×nginx ÷ backend ratio | nginx p50 / p99 µs | row p50 / p99 µs | Δp50 µs | Δp99 µs | backend µs/req: nginx / row | noise server / client %: nginx; row | steal % | irq+softirq % |"
      print "|--:|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|"
      for (k = 1; k <= rounds; k++) for (i = 1; i <= n; i++) {
        r = rows[i]
        if (!paired(r, k)) continue
        d = r == "direct"
        printf "| %d | %s | %s | %.1f | %s | %s | %s | %s | %s | %d / %d | %d / %d | %+d | %+d | %.1f / %.1f | %s; %s | %s / %s | %s / %s |\n", k, r,
          nline[r, k] < sline[r, k] ? "nginx" : "row", ncpu[r, k], d ? "—" : fmt(scpu[r, k], 1),
          (d || ncpu[r, k] == 0) ? "—" : sprintf("%.2f", scpu[r, k] / ncpu[r, k]),
          d ? "—" : fmt(sjit[r, k], 1), (d || ncpu[r, k] == 0) ? "—" : sprintf("%.2f", scpux[r, k] / ncpu[r, k]),
          (d || ncpu[r, k] == 0 || sback[r, k] == 0 || nback[r, k] == 0) ? "—" : sprintf("%.2f", (scpu[r, k] / sback[r, k]) / (ncpu[r, k] / nback[r, k])),
          np50[r, k], np99[r, k], sp50[r, k], sp99[r, k], sp50[r, k] - np50[r, k], sp99[r, k] - np99[r, k],
          nback[r, k], sback[r, k], nnoise[r, k], snoise[r, k],
          nsteal[r, k], ssteal[r, k], nirq[r, k], sirq[r, k]
      }
      print ""
      print "| row | pairs | ×nginx CPU/req: median (min–max) | JIT left out: median (min–max) | ÷ backend ratio: median (min–max) | Δp50 µs vs nginx: median (min–max) | Δp99 µs: median (min–max) | nginx µs/req in these pairs (min–max) |"
      print "|---|--:|--:|--:|--:|--:|--:|--:|"
      for (i = 1; i <= n; i++) {
        r = rows[i]
        pairs_of(r)
        if (NPAIRS == 0 && r != "direct") continue
        l = ""; for (k = 1; k <= rounds; k++) if (paired(r, k)) l = l " " ncpu[r, k]
        cnt = stats(l); nmin = MIN; nmax = MAX
        l = ""; for (k = 1; k <= rounds; k++) if (paired(r, k) && sback[r, k] > 0 && nback[r, k] > 0 && ncpu[r, k] > 0) l = l " " (scpu[r, k] / sback[r, k]) / (ncpu[r, k] / nback[r, k])
        stats(l); bn = (r == "direct" || MED == "") ? "—" : sprintf("%.2f (%.2f–%.2f)", MED, MIN, MAX)
        pairs_of(r)
        printf "| %s | %d | %s | %s | %s | %+d (%+d – %+d) | %+d (%+d – %+d) | %.1f–%.1f |\n", r, cnt,
          r == "direct" ? "—" : sprintf("%.2f (%.2f–%.2f)", XN, XNMIN, XNMAX),
          r == "direct" ? "—" : sprintf("%.2f (%.2f–%.2f)", XS, XSMIN, XSMAX), bn,
          D50, D50MIN, D50MAX, D99, D99MIN, D99MAX, nmin, nmax
      }
    }' "$RUNS"
}

# Per proxy row (s21): how long its closed-loop warm-up ran and whether its compilers had settled,
# then each measured phase's compiler CPU and RSS (median sample, largest sample, phase-end
# snapshot); the rate runs summed up in one line.
render_phases() {
  awk -F'\t' -v order="$ROWS" '
    FILENAME == ARGV[1] {  # settles.tsv (FNR == NR would take the runs for it when it is empty)
      settled[$1, $2] = $3; took[$1, $2] = $4 / 1000; after[$1, $2] = $5; cap[$1, $2] = $6; next
    }
    $1 == "direct" { next }
    {
      r = $1; ph = $2
      if ($25 > 0) jvm[r] = 1
      if (ph == "warmup" || ph ~ /^warmup-paths\.c/ || ph == "warmup-tail") wsec[r] += $5 / 1e6
      if (ph ~ /^warmup-settle\.c/) { q = substr(ph, 15); ssec[r, q] = $5 / 1e6; sjit[r, q] = $25 }
      if (ph ~ /^c[0-9]+$/) {
        k = ++np[r]; phs[r, k] = ph; req[r, k] = $4; sec[r, k] = $5 / 1e6; jit[r, k] = $25; pns[r, k] = $21
        med[r, k] = $26; mx[r, k] = $27; end[r, k] = $16
      }
      if (ph ~ /^rate/) {
        nr[r]++; rjit[r] += $25; rreq[r] += $4; rpns[r] += $21
        if ($26 > rmed[r]) rmed[r] = $26; if ($27 > rmx[r]) rmx[r] = $27; if ($16 > rend[r]) rend[r] = $16
      }
    }
    function mb(kb) { return kb > 0 ? sprintf("%.1f", kb / 1024) : "—" }
    END {
      n = split(order, rows, " ")
      print "| row | closed-loop warm-up s | its tail at 16 conns | phase | settle before it, at its concurrency: s, compiler ms | requests | compiler CPU ms | compiler µs/req | compiler % of proxy CPU | RSS MB steady / max / end |"
      print "|---|--:|---|---|---|--:|--:|--:|--:|--:|"
      for (i = 1; i <= n; i++) {
        r = rows[i]
        if (r == "direct" || !(r in np)) continue
        if ((r, "warmup-tail") in settled)
          tail = sprintf("%s after %.1f s (min %d, cap %d)", settled[r, "warmup-tail"] ? "settled" : "**not settled**, cap",
            took[r, "warmup-tail"], after[r, "warmup-tail"], cap[r, "warmup-tail"])
        else tail = jvm[r] ? "fixed" : "— (no JIT)"
        for (k = 1; k <= np[r]; k++) {
          q = phs[r, k]; sp = "—"
          if ((r, "warmup-settle." q) in settled)
            sp = sprintf("%s %.1f s (min %d, cap %d), %.0f ms", settled[r, "warmup-settle." q] ? "settled" : "**not settled**, cap",
              ssec[r, q], after[r, "warmup-settle." q], cap[r, "warmup-settle." q], sjit[r, q] / 1e6)
          printf "| %s | %s | %s | %s | %s | %d | %s | %s | %s | %s / %s / %s |\n", k == 1 ? r : "", k == 1 ? sprintf("%.1f", wsec[r]) : "",
            k == 1 ? tail : "", q, sp, req[r, k], jvm[r] ? sprintf("%.0f", jit[r, k] / 1e6) : "—",
            (jvm[r] && req[r, k] > 0) ? sprintf("%.2f", jit[r, k] / 1000 / req[r, k]) : "—",
            (jvm[r] && pns[r, k] > 0) ? sprintf("%.1f", 100 * jit[r, k] / pns[r, k]) : "—",
            mb(med[r, k]), mb(mx[r, k]), mb(end[r, k])
        }
        if (nr[r] > 0)
          printf "|  |  |  | rate runs (%d; RSS: largest of each) | — | %d | %s | %s | %s | %s / %s / %s |\n", nr[r], rreq[r],
            jvm[r] ? sprintf("%.0f", rjit[r] / 1e6) : "—", (jvm[r] && rreq[r] > 0) ? sprintf("%.2f", rjit[r] / 1000 / rreq[r]) : "—",
            (jvm[r] && rpns[r] > 0) ? sprintf("%.1f", 100 * rjit[r] / rpns[r]) : "—", mb(rmed[r]), mb(rmx[r]), mb(rend[r])
      }
    }' "$SETTLES" "$RUNS"
}

# Every settled warm-up (jit_settle), closed-loop and at the rate, with the compiler CPU per second.
render_settles() {
  [[ -s "$SETTLES" ]] || return 0
  echo "| row | warm-up | at least s | cap s | ran s | verdict | compiler CPU each second |"
  echo "|---|---|--:|--:|--:|---|---|"
  awk -F'\t' '{ printf "| %s | %s | %s | %s | %.1f | %s | %s (%s) |\n", $1, $2, $5, $6, $4 / 1000,
    $3 ? "settled" : "**not settled** (cap)", $8 == "" ? "—" : $8, $7 }' "$SETTLES"
}

# Added latency's reference per row (s20): the direct runs beside the row's pairs, and what the
# row's added p50/p99 would read against direct's own runs at the rate (the method before s20).
render_near() {
  awk -F'\t' -v clk="$CLK_TCK" -v order="$ROWS" "$RATE_AWK"'
    $1 == "direct" && $2 ~ /^(warmup-gap|near)\./ { near_run($2); nl[substr($2, index($2, ".") + 1)] = nl[substr($2, index($2, ".") + 1)] " " $7 "/" $9 }
    $2 == "rate" || $2 ~ /^rate\./ { read_slot() }
    END {
      n = split(order, rows, " ")
      stats(l50["direct"]); p50["direct"] = MED; stats(l99["direct"]); p99["direct"] = MED
      for (i = 1; i <= n; i++) if (nearn[rows[i]] > 0) any = 1
      if (!any) exit
      print "| row | direct p50 / p99 µs beside the row (before, after its pairs) | reference p50 / p99 | row p50 / p99 (median) | added p50 / p99 µs | against direct'"'"'s own runs (" p50["direct"] " / " p99["direct"] " µs): added p50 / p99 |"
      print "|---|--:|--:|--:|--:|--:|"
      for (i = 1; i <= n; i++) {
        r = rows[i]
        if (r == "direct" || r == "nginx" || l50[r] == "") continue
        stats(l50[r]); m50 = MED; stats(l99[r]); m99 = MED
        near_ref(r)
        printf "| %s | %s | %s / %s | %s / %s | %+d / %+d | %+d / %+d |\n", r, (nearn[r] > 0 ? substr(nl[r], 2) : "—"),
          REF50, REF99, m50, m99, m50 - REF50, m99 - REF99, m50 - p50["direct"], m99 - p99["direct"]
      }
    }' "$RUNS"
}

# The smoke test passes when every row that could run served requests without errors and wrote at
# least one span line per request per hop (and not more than the requests wrk abandoned allow).
check_rows() {
  awk -F'\t' -v expected="$ROWS" '
    FNR == NR { err[$1] += $6; next }
    { seen[$1] = 1 }
    $2 == "failed" { print "FAIL " $1 ": " $7; bad = 1; next }
    $2 != "ok" { next }
    {
      r = $1; spans = $3; reqs = $4; conns = $5; hops = $6; ran++
      if (reqs == 0) { print "FAIL " r ": no requests served"; bad = 1 }
      if (err[r] > 0) { print "FAIL " r ": " err[r] " errors (non-2xx, socket errors or timeouts)"; bad = 1 }
      if (hops > 0 && spans < reqs * hops) {
        print "FAIL " r ": " spans " span lines for " reqs " requests x " hops " hops"; bad = 1
      }
      if (hops > 0 && spans > (reqs + conns) * hops) {
        print "FAIL " r ": " spans " span lines, more than " reqs " requests x " hops " hops allow"; bad = 1
      }
    }
    END {
      n = split(expected, rows, " ")
      for (i = 1; i <= n; i++) if (!(rows[i] in seen)) { print "FAIL " rows[i] ": did not finish (see --keep)"; bad = 1 }
      if (!ran) { print "FAIL no row ran"; bad = 1 }
      exit bad
    }' "$RUNS" "$ROWS_TSV"
}

# ---------------------------------------------------------------------------------------------
ensure_tools
ensure_jar
HOPTRACE_SKIP="" HOPTRACE_HAS_OUTBOUND=false HOPTRACE_HAS_ADMIN=false HOPTRACE_HAS_SET=false
if [[ " $ROWS " == *" hoptrace-"* ]]; then
  if $SMOKE; then
    # No probe (a JVM start the smoke cannot afford): only DESIGN.md's stable flags, and a jar
    # without `run` is recognised when the sidecar exits.
    [[ -f "$HOPTRACE_JAR" ]] || HOPTRACE_SKIP="hoptrace.jar not built ($HOPTRACE_JAR missing: mvn -B -q -DskipTests package)"
    HOPTRACE_HAS_OUTBOUND=true
  else
    probe_hoptrace
    ensure_archive
  fi
fi
log "work directory $WORK; rows: $ROWS"
BACKEND_PORT=$(free_port)
write_backend_conf "$WORK/backend" "$BACKEND_PORT"
start_nginx "$WORK/backend"
BACKEND_PID=$STARTED_PID
wait_port "$BACKEND_PORT" || die "backend nginx did not start: $(tail -2 "$WORK/backend/error.log")"

if $SMOKE; then
  # All rows at once: the point is that each works, not what it costs.
  [[ " $ROWS " != *" hoptrace-"* ]] || start_sidecar_a
  [[ " $ROWS " != *" hoptrace-chain "* ]] || ! $HOPTRACE_HAS_OUTBOUND || start_sidecar_b
  # Here, not in the rows: two rows in parallel subshells would each start one.
  [[ " $ROWS " != *"-sameloop "* ]] || start_sidecar_s
  [[ " $ROWS " != *"-alt "* ]] || start_sidecar_x
  row_pids=()
  for row in $ROWS; do "row_$row" & row_pids+=($!); done
  wait "${row_pids[@]}" || true
  rc=0
  check_rows >"$WORK/check.txt" || rc=1
  if [[ "$OUT" != - ]]; then render >"$OUT"; fi
  render
  cat "$WORK/check.txt" >&2
  log "smoke: $(awk -F'\t' '$2 == "ok"' "$ROWS_TSV" | wc -l) rows ran, $(grep -c skipped "$ROWS_TSV" || true) skipped, $(($(date +%s) - START_EPOCH)) s; $( ((rc == 0)) && echo PASS || echo FAIL)"
  exit $rc
fi

if ((RATE_DURATION > 0 && RATE_PAIRS > 0)) && [[ " $ROWS " == *" nginx "* ]]; then
  start_nginx_sidecar || log "$NGINX_WHY: no rate pairs, one run at the rate per row"
fi
for row in $ROWS; do "row_$row"; done
for step in "${DEFERRED[@]}"; do eval "$step"; done
stop_all_started

{
  echo "# hoptrace bench, $(date -u '+%F %H:%M UTC')"
  echo
  echo "Produced by \`bench/run.sh\` (see bench/README.md for the method). Rows: wrk → proxy → nginx"
  echo "backend returning 12 bytes. Closed loop ${DURATION} s per concurrency after a discarded warm-up;"
  if ((RATE_PAIRS > 0)); then
    echo "latency and proxy CPU at a fixed ${RATE} req/s over ${RATE_CONNS} connections, in ${RATE_PAIRS} pairs per"
    echo "row: nginx and the row for ${RATE_DURATION} s each, back to back, at the end of the row (\"Rate pairs\""
    echo "below), after a discarded ${RATE_WARMUP} s at the rate (a JVM row's goes on until its JIT compiler"
    echo "threads used under ${JIT_SETTLE} µs/req over ${JIT_WINDOW} s, at most ${JIT_SETTLE_MAX} s more; then, while it idles for"
    echo "${RATE_DURATION} s, direct runs, and the row runs again on new connections, ${JIT_REWARM} s or more until"
    echo "settled: \"Rate warm-up (s19)\" in bench/README.md). The rate cells are medians"
    echo "over a row's runs; ×nginx at the rate is the median of the pairs' ratios (min–max in brackets),"
    echo "first with the row's JIT compiler threads left out (its steady state), then the total; added"
    echo "latency is the row's median p50/p99 minus that of the direct runs right before and after its"
    echo "pairs (nginx's: minus direct beside it in direct's pairs; \"Added latency\" below). ×nginx and"
    echo "×direct at 16 connections are ratios within this run. **NOISY**: other"
    echo "processes took more than ${NOISE_LIMIT}% of the server or client CPU during one of the row's runs."
  else
    echo "latency at a fixed ${RATE} req/s over ${RATE_CONNS} connections for ${RATE_DURATION} s. Added latency"
    echo "is relative to the direct row of this same run; ×nginx and ×direct are ratios in this same run."
    echo "Proxy CPU µs/req is measured in the fixed-rate run. **NOISY**: other processes took more than"
    echo "${NOISE_LIMIT}% of the server or client CPU during one of the row's runs."
  fi
  echo
  echo "## Machine"
  echo
  machine
  echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  RUN_SECONDS=$(($(date +%s) - START_EPOCH))
  echo "- run time: ${RUN_SECONDS} s, start to these tables$( ((RUN_SECONDS <= 600)) || echo " — **over 10 minutes**")"
  echo
  echo "## Results"
  echo
  render
  echo
  echo "## Closed-loop phases: compiler CPU and RSS"
  echo
  echo "A JVM row's closed-loop warm-up ends at 16 connections once its JIT compiler threads used under"
  echo "${JIT_SETTLE_LOOP} ms of CPU per second over ${JIT_WINDOW} s (at least ${JIT_WINDOW} s, at most ${JVM_SETTLE_MAX} s past its fixed length;"
  echo "\"Closed-loop settle (s21)\" in bench/README.md). Then each measured phase starts after a discarded"
  if ((PHASE_SETTLE > 0)); then
    echo "settle at its own concurrency: at least ${PHASE_SETTLE} s, until the compiler threads used under ${JIT_SETTLE_LOOP} ms/s over"
    echo "the last ${PHASE_SETTLE} s, at most ${PHASE_SETTLE_MAX} s more ($((2 * PHASE_SETTLE_MAX)) s at 64+ connections; \"Bench: flag A/B rows and per-phase settle (s22)\")."
  else
    echo "settle at its own concurrency: not in this run (BENCH_JIT_SETTLE_PHASE=0)."
  fi
  echo "Per measured phase: the compiler threads' CPU"
  echo "(schedstat ns), and RSS sampled every ${RSS_INTERVAL} s while wrk ran — *steady* is the phase's median"
  echo "sample, *max* its largest, *end* the snapshot after the run (the RSS figure before s21). The"
  echo "headline's RSS is the largest steady over the measured phases (closed loop and rate), max beside it."
  echo
  render_phases
  echo
  render_settles
  pairs=$(render_pairs)
  if [[ -n "$pairs" ]]; then
    echo
    echo "## Rate pairs"
    echo
    echo "Each line: nginx and the row at ${RATE} req/s, ${RATE_DURATION} s each, one right after the other (*first*"
    echo "says which ran first). CPU from each thread's schedstat (ns); *row JIT* is the part its JIT compiler"
    echo "threads took, *JIT left out* the ratio without it. Δ = row minus nginx in the pair."
    echo "Noise, steal and irq+softirq are the server CPU's (noise: client CPU too) in each of the two runs;"
    echo "backend µs/req is the backend nginx's CPU per request in each, a gauge of the server CPU's speed;"
    echo "×nginx ÷ backend ratio divides each side by its backend's CPU per request (a cross-check, not the headline:"
    echo "it assumes each proxy costs the backend the same per request)."
    echo
    echo "$pairs"
  fi
  near=$(render_near)
  if [[ -n "$near" ]]; then
    echo
    echo "## Added latency: direct beside each row"
    echo
    echo "A row's added p50/p99 at the rate is its median over its runs minus the median of the direct runs"
    echo "right before and after its pairs (a JVM row's before-run is its re-warm's idle gap), not direct's own"
    echo "runs at the start: the server CPU's speed drifts over minutes. The last column is the formula before"
    echo "s20, on the same runs."
    echo
    echo "$near"
  fi
  echo
  echo "## Every run"
  echo
  echo "| row | phase | conns | requests | seconds | errors | p50 | p90 | p99 | p99.9 | proxy ticks | backend ticks | wrk ticks | noise server % | noise client % | RSS kB (end) | PSS kB | threads | context switches | JIT ticks | proxy ns | backend ns | steal server % | irq server % | JIT ns | RSS kB median sample | RSS kB max sample | RSS samples |"
  echo "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
  awk -F'\t' -v OFS=' | ' '{ $5 = sprintf("%.2f", $5 / 1e6); print "| " $0 " |" }' "$RUNS"
  if grep -q skipped "$ROWS_TSV"; then
    echo
    awk -F'\t' '$2 == "skipped" { print "- " $1 " skipped: " $7 }' "$ROWS_TSV"
  fi
} >"$WORK/results.md"

if [[ "$OUT" != - ]]; then
  mkdir -p "$(dirname "$OUT")"
  cp "$WORK/results.md" "$OUT"
  log "results written to $OUT"
fi
cat "$WORK/results.md"
rc=0
check_rows >&2 || { rc=1; log "some rows failed their checks (above)"; }
RUN_SECONDS=$(($(date +%s) - START_EPOCH))
# The default run is meant to take under 10 minutes (its settles are bounded so that it does).
if ((RUN_SECONDS <= 600)); then
  log "done in $RUN_SECONDS s (under 10 minutes)"
else
  log "done in $RUN_SECONDS s: OVER 10 minutes$([[ "$ROWS" == "$ALL_ROWS" ]] && echo " (the default rows)")"
fi
exit $rc
