#!/usr/bin/env bash
# RSS of one sidecar sampled finely through the bench's phases, to see what the first-minute peak
# is made of (bench/README.md, "JIT memory (s18)"). Starts a backend nginx and one sidecar through
# the launcher (bin/hoptrace, the flags users run, with the jar's class-data archive), then runs
# bench/run.sh's phases for the hoptrace-inbound row in its order: 20 s at 16 connections
# (warm-up), 1, 16 and 64 connections, 5 s then 15 s at 2,000 req/s. Every JITPEAK_INTERVAL
# seconds (0.15) a sampler reads VmRSS and RssAnon (/proc/PID/status), the resident size of
# glibc's main heap ([heap] in /proc/PID/smaps) and the CPU ticks of the C1 and C2 compiler threads.
# Prints one line per phase (requests, CPU us/req of the sidecar, JIT ticks, RSS at its end as
# bench/run.sh reads it, the largest RSS sampled in it) and keeps the samples in $work/samples.tsv.
# wrk on CPU 0, backend and sidecar on CPU 1.
#
#   bench/lib/jit-peak.sh [JAR]            (wrap it in the shared bench lock)
#
# Environment: JAVA_OPTS (after the launcher's flags), HOPTRACE_JAVA_OPTS (replaces them), and the
# launcher's MALLOC_* variables pass through. JITPEAK_NMT=1 turns native memory tracking on and
# takes an NMT summary (jcmd, on CPU 0) whenever RSS is above JITPEAK_NMT_ABOVE MB (100), at most
# every 3 s, and at each phase's end; JITPEAK_PRINT=1 adds -XX:+PrintCompilation (in
# $work/stdout.log, with the JVM's uptime in ms). JITPEAK_PHASES="warmup:16:20 c1:1:10 ..."
# (name:connections:seconds; connections "rate" = 2,000 req/s paced) replaces the phases.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jar=$(readlink -f "${1:-$here/../../proxy/target/hoptrace.jar}")
interval=${JITPEAK_INTERVAL:-0.15}
above=${JITPEAK_NMT_ABOVE:-100}
phases=${JITPEAK_PHASES:-warmup:16:20 c1:1:10 c16:16:10 c64:64:10 warmup-rate:rate:5 rate:rate:15}
work=$(mktemp -d /tmp/hoptrace-jitpeak.XXXXXX)
# shellcheck source=bench/lib/sidecar.sh
source "$here/sidecar.sh"
opts=${JAVA_OPTS:-}
[[ ${JITPEAK_NMT:-0} == 0 ]] || opts="-XX:NativeMemoryTracking=summary $opts"
[[ ${JITPEAK_PRINT:-0} == 0 ]] || opts="-XX:+PrintCompilation $opts"
start_launched_sidecar inbound jitpeak "$jar" "$opts"
t_start=$(date +%s.%N)

jit() { # "C1 C2" ticks
  cat /proc/"$pid"/task/*/stat 2>/dev/null | awk '
    /\(C1 CompilerThre/ { l = $0; sub(/^.*\) /, "", l); split(l, f, " "); c1 += f[12] + f[13] }
    /\(C2 CompilerThre/ { l = $0; sub(/^.*\) /, "", l); split(l, f, " "); c2 += f[12] + f[13] }
    END { printf "%d %d\n", c1, c2 }'
}
rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status"; }

nmt() { # label: one line of NMT committed MB per part (those >= 0.3 MB)
  jcmd "$pid" VM.native_memory summary scale=KB 2>/dev/null | awk -v label="$1" '
    /^-/ && /committed=/ { name = $0; sub(/^- */, "", name); sub(/ *\(.*/, "", name); gsub(/ /, "_", name)
      c = $0; sub(/.*committed=/, "", c); sub(/KB.*/, "", c); if (c + 0 >= 300) s = s sprintf("%s=%.1f ", name, c / 1024) }
    /^Total:/ { c = $0; sub(/.*committed=/, "", c); sub(/KB.*/, "", c); t = sprintf("NMT_total=%.1f ", c / 1024) }
    END { printf "%s %s%s\n", label, t, s }'
}

sampler() { # time_s rss_mb anon_mb glibc_heap_mb c1_ticks c2_ticks phase
  local last_nmt=0 now rss phase
  while [[ -r /proc/$pid/status ]]; do
    phase=$(cat "$work/phase" 2>/dev/null || echo start)
    now=$(date +%s.%N)
    rss=$(rss_mb)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(awk -v a="$now" -v b="$t_start" 'BEGIN { printf "%.2f", a - b }')" "$rss" \
      "$(awk '/^RssAnon:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")" \
      "$(awk '/\[heap\]/ { h = 1; next } /^[0-9a-f]+-/ { h = 0 } h && /^Rss:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/smaps")" \
      "$(jit | tr ' ' '\t')" "$phase" >>"$work/samples.tsv"
    if [[ ${JITPEAK_NMT:-0} != 0 ]] && awk -v r="$rss" -v a="$above" 'BEGIN { exit !(r > a) }' &&
      (($(date +%s) - last_nmt >= 3)); then
      last_nmt=$(date +%s)
      taskset -c 0 bash -c "$(declare -f nmt); pid=$pid; nmt 'peak t=$(awk -v a="$now" -v b="$t_start" 'BEGIN { printf "%.1f", a - b }') rss=$rss $phase:'" >>"$work/nmt.txt" &
    fi
    sleep "$interval"
  done
}
echo start >"$work/phase"
sampler &
sampler_pid=$!
trap 'kill "$sampler_pid" "$pid" "$backend_pid" 2>/dev/null || true; wait 2>/dev/null || true' EXIT

echo "hoptrace inbound, $jar; JAVA_OPTS=$opts; MALLOC: $(env | grep '^MALLOC_' | tr '\n' ' ')"
echo "launcher: $(HOPTRACE_DRY_RUN=1 HOPTRACE_JAR=$jar JAVA_OPTS="$opts" "$here/../../bin/hoptrace" run | cut -c1-400)"
echo "load $(cut -d' ' -f1-3 /proc/loadavg); start RSS $(rss_mb) MB"
printf '%-12s %9s %8s %8s %8s %8s %9s %9s\n' phase requests us/req C1_ms C2_ms p99_us RSS_end RSS_max
for spec in $phases; do
  IFS=: read -r name conns secs <<<"$spec"
  echo "$name" >"$work/phase"
  t0=$(ticks); read -r a0 b0 < <(jit)
  if [[ $conns == rate ]]; then
    BENCH_RATE=2000 taskset -c 0 wrk -t1 -c20 -d"${secs}s" -s "$here/paced.lua" "$url" >"$work/$name.txt" 2>&1
  else
    taskset -c 0 wrk -t1 -c"$conns" -d"${secs}s" -s "$here/closed.lua" "$url" >"$work/$name.txt" 2>&1
  fi
  t1=$(ticks); read -r a1 b1 < <(jit)
  end=$(rss_mb)
  [[ ${JITPEAK_NMT:-0} == 0 ]] || (taskset -c 0 bash -c "$(declare -f nmt); pid=$pid; nmt 'end $name rss=$end:'" >>"$work/nmt.txt")
  req=$(awk '/requests in/ { print $1 }' "$work/$name.txt")
  max=$(awk -F'\t' -v p="$name" '$7 == p && $2 > m { m = $2 } END { print m + 0 }' "$work/samples.tsv")
  tick=$((1000 / $(getconf CLK_TCK)))
  printf '%-12s %9s %8.1f %8d %8d %8s %9s %9s\n' "$name" "$req" \
    "$(awk -v r="$req" -v d="$((t1 - t0))" -v t="$tick" 'BEGIN { print d * t * 1000 / r }')" \
    "$(((a1 - a0) * tick))" "$(((b1 - b0) * tick))" \
    "$(grep -o 'p99=[0-9]*' "$work/$name.txt" | cut -d= -f2 || echo -)" "$end" "$max"
done
# Over the whole run: the largest RSS, the time above 96 MB (samples above it x their spacing), the
# mean, and the steady RSS (the median of the last phase's samples).
awk -F'\t' -v last="$name" '
  NR > 1 && $7 != "start" { dt = $1 - t; if ($2 > 96) above += dt; sum += $2 * dt; total += dt }
  $7 != "start" && $2 > max { max = $2; at = $1 }
  $7 == last { v[++n] = $2 }
  { t = $1 }
  END { asort(v); printf "RSS max %.1f MB (t=%.1f s), above 96 MB for %.1f s of %.1f, mean %.1f MB, steady (median of %s) %.1f MB\n",
    max, at, above, total, sum / total, last, v[int((n + 1) / 2)] }' "$work/samples.tsv"
echo "load $(cut -d' ' -f1-3 /proc/loadavg); samples: $(wc -l <"$work/samples.tsv"); work directory: $work"
sleep 1
[[ ! -s $work/nmt.txt ]] || { echo "NMT (committed MB):"; cat "$work/nmt.txt"; }
