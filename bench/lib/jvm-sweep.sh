#!/usr/bin/env bash
# Runs the hoptrace-inbound row once per JVM flag set and prints what each costs: CPU per request,
# RSS/PSS and latency at the fixed rate, req/s at 16 connections. Used to choose the flags the
# launcher ships (bin/hoptrace; results in bench/README.md, "JVM flags").
#
#   bench/lib/jvm-sweep.sh                      the flag sets below
#   bench/lib/jvm-sweep.sh "launcher" "launcher -XX:TieredStopAtLevel=1" "MALLOC_ARENA_MAX=16 -Xmx64m"
#                                               your own sets: leading NAME=value words go to
#                                               hoptrace's environment, ring.cap=N to its
#                                               settings; "launcher" stands for bin/hoptrace's
#                                               flags, the rest replaces them (HOPTRACE_JAVA_OPTS)
# HOPTRACE_JAR and the BENCH_* variables pass through to bench/run.sh.
#
#   bench/lib/jvm-sweep.sh --threads JAR NAME "JAVA_OPTS of A" "JAVA_OPTS of B" [C ...]
#                                               A/B pairs per thread (bench/README.md, "JVM threads
#                                               and flags (s19)"): bench/lib/threads.sh on JAR with
#                                               A's, then B's (then C's...) flags added to the
#                                               launcher's ("" = the shipped set), back to back
#                                               under the shared bench lock (taken here, once per
#                                               round: do not wrap it), the order reversed every
#                                               other round. SWEEP_PAIRS (2)
#                                               pairs; THREADS_* pass through (default runs here
#                                               "c16 rate rate c16 rate", warm-up 15 s). Raw output
#                                               in SWEEP_OUT (a directory, default /tmp), then one
#                                               line per run and set: µs/req of the whole process
#                                               and of the threads that count, GCs, RSS.
#
#   bench/lib/jvm-sweep.sh --jit JAR NAME "JAVA_OPTS" ...
#                                               the JIT's trade per flag set (bench/README.md, "JIT
#                                               flags (s21)"): bench/lib/jit-trade.sh on JAR once
#                                               per set, in the order given (repeat a set to pair it
#                                               twice; "" = the shipped set), all in ONE hold of the
#                                               shared bench lock (taken here). Raw output in
#                                               SWEEP_OUT/NAME.txt (default /tmp), then one line per
#                                               run: the cold 30 s at 2,000 req/s (p50 and p99 of
#                                               each 1 s, requests served), steady CPU us/req at 16 connections and at the
#                                               rate (all threads / without the compilers / the I/O
#                                               thread), RSS steady and after the warm-up, settle.
#                                               A set written "low:JAVA_OPTS" runs a fresh sidecar
#                                               at a low rate instead (SWEEP_LOW_PHASES, default
#                                               5 x 30 s at 30 req/s): per window the I/O thread's
#                                               and the process's (without the compilers) CPU
#                                               us/req, p50/p99, RSS at its end and largest.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [[ ${1:-} == --jit ]]; then
  jar=$(readlink -f "$2") name=$3
  shift 3
  out=${SWEEP_OUT:-/tmp}/$name.txt
  echo "[sweep] $name (${#@} runs) waits for the lock; $(uptime)" >&2
  # shellcheck disable=SC2016 # expanded by the inner bash
  flock /tmp/hoptrace-bench.lock bash -c '
    dir=$1 jar=$2
    shift 2
    for opts in "$@"; do
      phases=""
      if [[ $opts == low:* ]]; then
        opts=${opts#low:}
        phases=${SWEEP_LOW_PHASES:-low1:rate@30:30 low2:rate@30:30 low3:rate@30:30 low4:rate@30:30 low5:rate@30:30}
      fi
      echo "== set: JAVA_OPTS=$opts; $(date -u +%H:%M:%S); load $(cut -d" " -f1-3 /proc/loadavg)"
      if [[ -n $phases ]]; then
        echo "== phases: $phases"
        JITTRADE_PHASES=$phases JAVA_OPTS=$opts "$dir/lib/jit-trade.sh" "$jar" 2>&1
      else
        JAVA_OPTS=$opts "$dir/lib/jit-trade.sh" "$jar" 2>&1
      fi
    done' _ "$BENCH_DIR" "$jar" "$@" >"$out"
  echo "[sweep] $name done; $(uptime)" >&2
  jit_summary() {
    awk '
      /^== set: / { set = $0; sub(/^== set: JAVA_OPTS=/, "", set); sub(/; [0-9:]+; load.*/, "", set); if (set == "") set = "(shipped)"; load = $NF; n++; cold = cold99 = low = ""; served = 0; delete a }
      /^== phases: / { low = " " }
      /^low[0-9]+ / { low = low sprintf("%s: io %.0f nojit %.0f p50/p99 %.1f/%.1f RSS %s/%s; ", $1, $6, $8, $3 / 1000, $4 / 1000, $10, $11) }
      /^cold[0-9]+ / { cold = cold sprintf("%s ", int($3 / 100) / 10); cold99 = cold99 sprintf("%s ", int($4 / 100) / 10); served += $2 }
      /^(c16a|c16b|rate-a|rate-b) / { k = substr($1, 1, 3); a[k, "all"] += $5 / 2; a[k, "io"] += $6 / 2; a[k, "jit"] += $7 / 2; a[k, "nojit"] += $8 / 2; jms += $9 }
      /^[a-z0-9-]+ +[0-9]+ / && $1 != "code" { c2 += $9 }
      /^code cache used/ { code = $4; nm = $6; hwm = $9 }
      /^RSS steady/ { steady = $8; after = $14 }
      /above 96 MB for/ { for (i = 1; i <= NF; i++) if ($i == "for") above = $(i + 1) }
      /^compilers settled/ { sc = $18; sr = $24 }
      /^work directory/ && low != "" {
        printf "%d %-45s low rate (us/req, ms, RSS MB end/max):%s| JIT ms %d | code %s MB %s nmethods | VmHWM %s\n", n, set, low, c2, code, nm, hwm
        c2 = 0; next }
      /^work directory/ {
        printf "%d %-45s cold p50 ms %s| p99 ms %s| served %d | c16 all %.2f nojit %.2f io %.2f jit %.2f | rate all %.2f nojit %.2f io %.2f jit %.2f | RSS steady %s max-after-warmup %s above96 %ss | settle cold %s run %s | JIT ms %d | code %s MB %s nmethods | VmHWM %s\n",
          n, set, cold, cold99, served, a["c16", "all"], a["c16", "nojit"], a["c16", "io"], a["c16", "jit"], a["rat", "all"], a["rat", "nojit"], a["rat", "io"], a["rat", "jit"], steady, after, above, sc, sr, c2, code, nm, hwm
        c2 = 0 }' "$1"
  }
  jit_summary "$out"
  exit 0
fi

if [[ ${1:-} == --threads ]]; then
  jar=$(readlink -f "$2") name=$3
  shift 3
  sets=("$@") letters=(A B C D E F)
  out=${SWEEP_OUT:-/tmp}
  export THREADS_RUNS=${THREADS_RUNS:-c16 rate rate c16 rate}
  for i in $(seq 1 "${SWEEP_PAIRS:-2}"); do
    order=""
    for k in "${!sets[@]}"; do
      if ((i % 2)); then order+="$k "; else order="$k $order"; fi
    done
    echo "[sweep] $name round $i (sets $order) waits for the lock; $(uptime)" >&2
    # shellcheck disable=SC2016 # expanded by the inner bash
    flock /tmp/hoptrace-bench.lock bash -c '
      dir=$1 jar=$2 order=$3
      shift 3
      sets=("$@") letters=(A B C D E F)
      for k in $order; do
        echo "== set ${letters[$k]}: JAVA_OPTS=${sets[$k]}; $(date -u +%H:%M:%S); load $(cut -d" " -f1-3 /proc/loadavg)"
        JAVA_OPTS=${sets[$k]} "$dir/lib/threads.sh" "$jar" inbound 2>&1
      done' _ "$BENCH_DIR" "$jar" "$order" "${sets[@]}" >"$out/$name-$i.txt"
  done
  for k in "${!sets[@]}"; do echo "set ${letters[$k]}: JAVA_OPTS=${sets[$k]:-none (the launcher flags)}"; done
  # one line per set and run: process µs/req (schedstat, all threads), I/O thread, GC, C2+C1,
  # span writer, procfs, young/full collections, RSS at the end / peak, compilations and methods
  # made not entrant (with THREADS_JIT=1)
  for i in $(seq 1 "${SWEEP_PAIRS:-2}"); do
    awk -v pair="$i" '
      /^== set / { set = $3; sub(/:$/, "", set); n = 0; next }
      /^== / { if (label) flush(); label = $2; sub(/:$/, "", label); n++; io = vm = jit = span = procfs = all = comp = nent = 0; next }
      /^  JIT: / { comp = $2; nent = $6 }
      /^  GC: / { young = $2; full = $4 }
      /^  XNIO-1_I\/O/ { io += $2 }
      /^  VM_Thread / { vm = $2 }
      /^  C[12]_CompilerThre/ { jit += $2 }
      /^  hoptrace-spanlo/ { span = $2 }
      /^  hoptrace-procfs/ { procfs = $2 }
      /^  all threads/ { all = $3 }
      /^  RSS / { rss = $2; peak = $10; flush() }
      function flush() { if (!label) return
        printf "pair %s set %s run %d %-5s all %6.2f io %6.2f vm %5.2f jit %5.2f span %5.2f procfs %5.2f young %3d full %d rss %5.1f peak %5.1f comp %3d deopt %3d\n",
          pair, set, n, label, all, io, vm, jit, span, procfs, young, full, rss, peak, comp, nent
        label = "" }' "$out/$name-$i.txt"
  done
  exit 0
fi

if (($#)); then
  sets=("$@")
else
  sets=(
    "MALLOC_ARENA_MAX=16"                            # the JVM's defaults (G1, heap 1/4 of RAM), glibc's arenas
    "launcher"                                       # what bin/hoptrace and the image ship
    "launcher -XX:TieredStopAtLevel=1"               # C1 only: no C2 compiler thread or code
    "launcher -Xmx64m ring.cap=10000"                # a smaller heap, and a ring that fits it
  )
fi

echo "(launcher) = \`$(HOPTRACE_DRY_RUN=1 "$BENCH_DIR/../bin/hoptrace" run 2>&1 | sed 's/ -jar .*//')\`"
echo
echo "| set | req/s c16 | p50 µs @rate | p99 µs @rate | CPU µs/req @rate | CPU µs/req @c16 | context switches/req | RSS MB | PSS MB | threads | noise server / client % |"
echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
for set in "${sets[@]}"; do
  env_words=() opts="" launcher=false run_args="--set span-log.rotate-size=0"
  for word in $set; do
    if [[ -z "$opts" && "$word" =~ ^[A-Z_][A-Z0-9_]*= ]]; then env_words+=("$word")
    elif [[ "$word" == launcher ]]; then launcher=true
    elif [[ "$word" == ring.cap=* ]]; then run_args+=" --set $word"
    else opts+="${opts:+ }$word"; fi
  done
  echo "[sweep] $set" >&2
  if $launcher; then
    out=$(env HOPTRACE_ENV="${env_words[*]}" JAVA_OPTS="$opts" HOPTRACE_RUN_ARGS="$run_args" BENCH_CONNS=16 \
      "$BENCH_DIR/run.sh" --rows hoptrace-inbound --out - --no-install --no-build) || true
  else
    out=$(env HOPTRACE_ENV="${env_words[*]}" HOPTRACE_JAVA_OPTS="$opts" HOPTRACE_RUN_ARGS="$run_args" \
      BENCH_CDS=0 BENCH_CONNS=16 \
      "$BENCH_DIR/run.sh" --rows hoptrace-inbound --out - --no-install --no-build) || true
  fi
  # The detail table's hoptrace-inbound line (one req/s column, since BENCH_CONNS=16).
  awk -F'|' -v set="$set" '
    /^\| hoptrace-inbound \| [0-9]/ && ++n == 2 {
      gsub(/ /, "", $0); split($0, c, "|")
      printf "| `%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", set, c[3], c[5], c[7], c[9], c[10], c[12], c[13], c[14], c[15], c[19]
    }' <<<"$out"
  echo "[sweep] $(uptime)" >&2
done
