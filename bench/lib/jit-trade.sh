#!/usr/bin/env bash
# What a JIT flag set costs and saves in one sidecar's life (bench/README.md, "JIT flags (s21)"):
# the cold start at 2,000 req/s, the time until the compilers settle, CPU per request once they
# have (with and without the compiler threads), and RSS steady and at its peaks. Starts a backend
# nginx and one sidecar through the launcher (bin/hoptrace, the jar's class-data archive as
# shipped; JAVA_OPTS after the launcher's flags), then, from the moment its port answers:
#
#   cold01..cold30  2,000 req/s paced over 20 connections, 30 x 1 s: p50/p99 of each second of the
#                 first 30 s (JITTRADE_COLD="30:1", slices:seconds; "6:5" gives s21's 5 s windows).
#                 Each slice is its own wrk run: the 20 connections reconnect every slice, and
#                 requests still in flight at a slice's end are not counted (at a 60 ms p50 ~6 %)
#   warmup        20 s at 16 connections (the bench's warm-up, after the cold phase)
#   c1, c64       10 s each (the load changes that recompile, as in the bench's phases)
#   c16a rate-a c16b rate-b   10 s each: the steady block
#
# Per phase: requests, p50/p99 (us), CPU us/req of the whole process, of the I/O thread, of the
# compiler threads, and of the process without them (schedstat, nanoseconds), compiler ms, RSS at
# its end and the largest sampled in it. Then: the steady CPU (mean of the two c16 and of the two
# rate runs), the steady RSS (median sample of the steady block), the largest RSS after the
# warm-up (from c1 on) and over the whole run, the seconds above 96 MB after the warm-up, the
# compilers' settle times (the end of the last 1 s with more than JITTRADE_SETTLE_MS (50) ms of
# compiler CPU: within the cold phase, and over the whole run), the code cache used and its
# methods, and the C2 thresholds in effect (with TieredCompilation off, JDK 17 runs its tiered
# policy with level 0 and 4 only: the Tier4* flags decide; CompileThreshold, when set, sets them).
# The phases' rows are computed after the last phase: between two phases the script only reads
# the threads' schedstat and VmRSS with shell builtins, so the gap between wrk runs stays a few ms.
# A sampler (on CPU 0, every JITTRADE_INTERVAL s, 0.2) reads VmRSS and the compiler threads'
# schedstat; wrk on CPU 0, backend and sidecar on CPU 1.
#
#   bench/lib/jit-trade.sh [JAR]           (wrap it in the shared bench lock, or use
#                                           bench/lib/jvm-sweep.sh --jit, which takes it)
#
# Environment: JAVA_OPTS, HOPTRACE_JAVA_OPTS and the launcher's MALLOC_* variables pass through;
# JITTRADE_PHASES ("cold1:rate:5 ... rate-b:rate:10"; name:connections:seconds, "rate" = 2,000
# req/s paced over 20 connections, "rate@N" = N req/s) replaces the phases (the summary expects
# the names above), e.g. "low1:rate@30:40 low2:rate@30:40 low3:rate@30:40" for a low-traffic start.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jar=$(readlink -f "${1:-$here/../../proxy/target/hoptrace.jar}")
interval=${JITTRADE_INTERVAL:-0.2}
settle_ms=${JITTRADE_SETTLE_MS:-50}
IFS=: read -r cold_n cold_s <<<"${JITTRADE_COLD:-30:1}"
phases=$(for i in $(seq 1 "$cold_n"); do printf 'cold%02d:rate:%s ' "$i" "$cold_s"; done)
phases=${JITTRADE_PHASES:-$phases warmup:16:20 c1:1:10 c64:64:10 c16a:16:10 rate-a:rate:10 c16b:16:10 rate-b:rate:10}
work=$(mktemp -d /tmp/hoptrace-jittrade.XXXXXX)
# shellcheck source=bench/lib/common.sh
source "$here/common.sh"
# shellcheck source=bench/lib/sidecar.sh
source "$here/sidecar.sh"
start_launched_sidecar inbound jittrade "$jar" "${JAVA_OPTS:-}"
t_start=$(date +%s.%N)

# "tid name ns" for every thread of the sidecar; ns from schedstat (time on a CPU); builtins only
snapshot() {
  local t name ns rest
  for t in /proc/"$pid"/task/*; do
    read -r name <"$t/comm" 2>/dev/null || continue
    read -r ns rest <"$t/schedstat" 2>/dev/null || continue
    echo "${t##*/} ${name// /_} $ns"
  done
}
# The C1 and C2 compiler threads' CPU so far, ns: common.sh's, which keeps a stopped compiler
# thread's time in the sum (with C2 only the JVM stops an idle one; the sum went down).
jit_ns() { WORK=$work jit_ns_now "$pid"; }
rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status"; }

sampler() { # time_s rss_mb jit_ns phase
  taskset -cp 0 "$BASHPID" >/dev/null
  local phase
  while [[ -r /proc/$pid/status ]]; do
    phase=$(cat "$work/phase" 2>/dev/null || echo start)
    printf '%s\t%s\t%s\t%s\n' "$(awk -v a="$(date +%s.%N)" -v b="$t_start" 'BEGIN { printf "%.2f", a - b }')" \
      "$(rss_mb)" "$(jit_ns)" "$phase" >>"$work/samples.tsv" 2>/dev/null || true
    sleep "$interval"
  done
}
echo start >"$work/phase"
sampler &
sampler_pid=$!
trap 'kill "$sampler_pid" "$pid" "$backend_pid" 2>/dev/null || true; wait 2>/dev/null || true' EXIT

echo "hoptrace inbound, $jar; JAVA_OPTS=${JAVA_OPTS:-}"
echo "launcher: $(HOPTRACE_DRY_RUN=1 HOPTRACE_JAR=$jar HOPTRACE_CDS_ARCHIVE="${jar%.jar}.jsa" JAVA_OPTS="${JAVA_OPTS:-}" "$here/../../bin/hoptrace" run | sed 's/ -jar .*//')"
echo "load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%H:%M:%S) UTC; RSS at start $(rss_mb) MB"
snapshot >"$work/snap.0"
k=0
for spec in $phases; do
  IFS=: read -r name conns secs <<<"$spec"
  echo "$name" >"$work/phase"
  if [[ $conns == rate* ]]; then
    rate=${conns#rate}
    rate=${rate#@}
    BENCH_RATE=${rate:-2000} taskset -c 0 wrk -t1 -c20 -d"${secs}s" -s "$here/paced.lua" "$url" >"$work/$name.txt" 2>&1
  else
    taskset -c 0 wrk -t1 -c"$conns" -d"${secs}s" -s "$here/closed.lua" "$url" >"$work/$name.txt" 2>&1
  fi
  k=$((k + 1))
  snapshot >"$work/snap.$k"
  while read -r key kb _; do [[ $key == VmRSS: ]] && break; done <"/proc/$pid/status"
  echo "$name $kb" >>"$work/rss-end"
done
printf '%-8s %7s %6s %6s %7s %7s %6s %7s %6s %6s %6s\n' phase requests p50 p99 all_us io_us jit_us nojit_us jit_ms RSS_end RSS_max
k=0
while read -r name kb; do
  k=$((k + 1))
  end=$(awk -v kb="$kb" 'BEGIN { printf "%.1f", kb / 1024 }')
  req=$(sed -n 's/.*HOPBENCH requests=\([0-9]*\).*/\1/p' "$work/$name.txt")
  p50=$(sed -n 's/.* p50=\([0-9]*\).*/\1/p' "$work/$name.txt")
  p99=$(sed -n 's/.* p99=\([0-9]*\).*/\1/p' "$work/$name.txt")
  max=$(awk -F'\t' -v p="$name" '$4 == p && $2 > m { m = $2 } END { print m + 0 }' "$work/samples.tsv")
  join -a 2 -e 0 -o 2.2,1.3,2.3 <(sort "$work/snap.$((k - 1))") <(sort "$work/snap.$k") | awk -v r="${req:-0}" -v n="$name" \
    -v p50="${p50:--}" -v p99="${p99:--}" -v e="$end" -v m="$max" '
    { d = ($3 - $2) / 1000; all += d
      if ($1 ~ /^XNIO-1_I\/O/) io += d
      if ($1 ~ /^C[12]_CompilerThre/) jit += d }
    END { r = r > 0 ? r : 1
      printf "%-8s %7d %6s %6s %7.2f %7.2f %6.2f %7.2f %6d %6s %6s\n", n, r, p50, p99, all / r, io / r, jit / r, (all - jit) / r, jit / 1000, e, m }'
done <"$work/rss-end"
code=$(jcmd "$pid" Compiler.codecache 2>/dev/null | awk '/used=/ { for (i = 1; i <= NF; i++) if ($i ~ /^used=/) { v = $i; sub(/used=/, "", v); sub(/Kb/, "", v); u += v } }
  /nmethods=/ { for (i = 1; i <= NF; i++) if ($i ~ /^nmethods=/) { m = $i; sub(/nmethods=/, "", m); sub(/,/, "", m) } }
  END { printf "%.1f MB, %s nmethods", u / 1024, m }')
hwm=$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")
echo "code cache used ${code:-?}; VmHWM $hwm MB; load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%H:%M:%S) UTC"
echo "thresholds: $(jcmd "$pid" VM.flags -all 2>/dev/null | awk '$2 ~ /^(CompileThreshold|Tier4InvocationThreshold|Tier4MinInvocationThreshold|Tier4CompileThreshold|Tier4BackEdgeThreshold|Tier0ProfilingStartPercentage|CICompilerCount)$/ { printf "%s=%s ", $2, $4 }')"
awk -F'\t' -v settle="$settle_ms" '
  $4 == "start" { next }
  { # 1 s bins of compiler CPU by the sample times
    if (t0 == "") { t0 = $1; j0 = $3 }
    b = int($1); if (!(b in jb)) jb[b] = $3; je[b] = $3; ph[b] = $4
    if (prev != "") { dt = $1 - prev
      if ($4 !~ /^cold/ && $4 != "warmup") { if ($2 > 96) above += dt; after += dt } }
    prev = $1
    if ($4 !~ /^cold/ && $4 != "warmup" && $2 > pmax) { pmax = $2; pat = $4 }
    if ($2 > amax) { amax = $2; aat = $4 }
    if ($4 ~ /^(c16a|rate-a|c16b|rate-b)$/) v[++n] = $2 }
  END {
    for (b in jb) { ms = (je[b] - jb[b]) / 1e6; if (ms > settle) { last = b + 1 > last ? b + 1 : last; if (ph[b] ~ /^cold/ && b + 1 > lastc) lastc = b + 1 } }
    asort(v)
    printf "RSS steady (median of the steady block) %.1f MB; after the warm-up max %.1f MB (%s), above 96 MB for %.1f s of %.1f; whole run max %.1f MB (%s)\n",
      v[int((n + 1) / 2)], pmax, pat, above, after, amax, aat
    printf "compilers settled (last 1 s with > %d ms of compiler CPU): in the cold phase at %.0f s, over the run at %.0f s (%s)\n",
      settle, lastc, last, ph[last - 1] }' "$work/samples.tsv"
echo "work directory: $work"
