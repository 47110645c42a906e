#!/usr/bin/env bash
# RSS of one sidecar through the bench's inbound row and then its outbound row, as bench/run.sh's
# sidecar A serves them (one JVM, with its admin listener and traces page), sampled finely, with
# where it sits at each phase's end (bench/README.md, "RSS at 64 connections (s20)"). Starts a
# backend nginx and one sidecar through the launcher (bin/hoptrace, the jar's class-data archive),
# then for each row: 20 s at 16 connections (warm-up), 1, 16 and 64 connections 10 s each, 8 s at
# 2,000 req/s, 5 s idle, 4 + 15 s at 2,000 req/s (the bench's rate warm-up, gap and pairs, in
# time). Every RSSROWS_INTERVAL seconds (0.15) a sampler reads VmRSS and the C1/C2 threads' CPU.
# Prints one line per phase: requests, CPU us/req of the sidecar, C2 ms, RSS at its end (as
# bench/run.sh reads it) and the largest sampled in it, and resident MB by part at its end from
# /proc/PID/smaps: the Java heap's range, glibc's [heap], other anonymous memory (code cache,
# metaspace, stacks, direct buffers in mmaps, arenas), the class-data archives, libjvm, the rest.
# RSSROWS_NMT=1 adds native memory tracking and an NMT summary at each phase's end ("Other" is
# the direct buffers).
# wrk on CPU 0, backend and sidecar on CPU 1.
#
#   bench/lib/rss-rows.sh [JAR]            (wrap it in the shared bench lock)
#
# Environment: JAVA_OPTS (after the launcher's flags), HOPTRACE_JAVA_OPTS (replaces them), the
# launcher's MALLOC_* variables, RSSROWS_ROWS ("inbound outbound"), RSSROWS_PHASES
# ("warmup:16:20 ..."; name:connections:seconds, connections "rate" = 2,000 req/s paced, 0 = idle).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jar=$(readlink -f "${1:-$here/../../proxy/target/hoptrace.jar}")
interval=${RSSROWS_INTERVAL:-0.15}
rows=${RSSROWS_ROWS:-inbound outbound}
phases=${RSSROWS_PHASES:-warmup:16:20 c1:1:10 c16:16:10 c64:64:10 warmup-rate:rate:8 gap:0:5 warmup-rate2:rate:4 rate:rate:15}
work=$(mktemp -d /tmp/hoptrace-rssrows.XXXXXX)
# shellcheck source=bench/lib/sidecar.sh
source "$here/sidecar.sh"
admin=$(free_port)
HOPTRACE_RUN_ARGS="--admin 127.0.0.1:$admin ${HOPTRACE_RUN_ARGS:-}"
opts=${JAVA_OPTS:-}
[[ ${RSSROWS_NMT:-0} == 0 ]] || opts="-XX:NativeMemoryTracking=summary $opts"
start_launched_sidecar inbound rssrows "$jar" "$opts"
t_start=$(date +%s.%N)

c2() { cat /proc/"$pid"/task/*/stat 2>/dev/null | awk '/\(C2 CompilerThre/ { l = $0; sub(/^.*\) /, "", l); split(l, f, " "); t += f[12] + f[13] } END { print t + 0 }'; }
rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status"; }

# The Java heap's reserved range: from the young generation's start to the old one's end.
read -r heap_lo heap_hi < <(jcmd "$pid" GC.heap_info 2>/dev/null | awk '
  /def new generation/ { l = $0; sub(/.*\[/, "", l); sub(/,.*/, "", l) }
  /tenured generation/ { h = $0; sub(/\).*/, "", h); sub(/.*, */, "", h) }
  END { print l, h }')
parts() { # resident MB by part, from smaps
  awk -v lo="$((${heap_lo:-0}))" -v hi="$((${heap_hi:-0}))" '
    function hex(x,  i, v) { v = 0; for (i = 1; i <= length(x); i++) v = v * 16 + index("0123456789abcdef", substr(x, i, 1)) - 1; return v }
    /^[0-9a-f]+-[0-9a-f]+ / { split($1, r, "-"); s = hex(r[1]); n = $6
      if (n == "") k = (s >= lo && s < hi) ? "javaheap" : "anon"
      else if (n == "[heap]") k = "glibc"
      else if (n ~ /\.jsa$/) k = "cds"
      else if (n ~ /libjvm/) k = "libjvm"
      else k = "other"
      next }
    /^Rss:/ { m[k] += $2 }
    END { printf "javaheap=%.1f glibc=%.1f anon=%.1f cds=%.1f libjvm=%.1f other=%.1f",
      m["javaheap"] / 1024, m["glibc"] / 1024, m["anon"] / 1024, m["cds"] / 1024, m["libjvm"] / 1024, m["other"] / 1024 }' "/proc/$pid/smaps"
}
nmt() {
  jcmd "$pid" VM.native_memory summary scale=KB 2>/dev/null | awk '
    /^-/ && /committed=/ { name = $0; sub(/^- */, "", name); sub(/ *\(.*/, "", name); gsub(/ /, "_", name)
      c = $0; sub(/.*committed=/, "", c); sub(/KB.*/, "", c); if (c + 0 >= 300) s = s sprintf("%s=%.1f ", name, c / 1024) }
    /^Total:/ { c = $0; sub(/.*committed=/, "", c); sub(/KB.*/, "", c); t = sprintf("NMT_total=%.1f ", c / 1024) }
    END { printf "%s%s", t, s }'
}
sampler() {
  local phase
  while [[ -r /proc/$pid/status ]]; do
    phase=$(cat "$work/phase" 2>/dev/null || echo start)
    printf '%s\t%s\t%s\n' "$(awk -v a="$(date +%s.%N)" -v b="$t_start" 'BEGIN { printf "%.2f", a - b }')" "$(rss_mb)" "$phase" >>"$work/samples.tsv"
    sleep "$interval"
  done
}
echo start >"$work/phase"
sampler &
sampler_pid=$!
trap 'kill "$sampler_pid" "$pid" "$backend_pid" 2>/dev/null || true; wait 2>/dev/null || true' EXIT

echo "hoptrace, $jar; rows: $rows; JAVA_OPTS=$opts; MALLOC: $(env | grep '^MALLOC_' | tr '\n' ' ')"
echo "launcher: $(HOPTRACE_DRY_RUN=1 HOPTRACE_JAR=$jar JAVA_OPTS="$opts" "$here/../../bin/hoptrace" run | cut -c1-400)"
echo "load $(cut -d' ' -f1-3 /proc/loadavg); start RSS $(rss_mb) MB; $(parts)"
printf '%-22s %8s %7s %6s %7s %7s %7s  %s\n' phase requests us/req C2_ms p99_us RSS_end RSS_max "parts at the end (MB)"
tick=$((1000 / $(getconf CLK_TCK)))
for row in $rows; do
  if [[ $row == inbound ]]; then u=$inbound_url t=""; else u=$outbound_url t=$outbound_target; fi
  for spec in $phases; do
    IFS=: read -r name conns secs <<<"$spec"
    label=$row.$name
    echo "$label" >"$work/phase"
    t0=$(ticks) k0=$(c2)
    if [[ $conns == rate ]]; then
      BENCH_TARGET=$t BENCH_RATE=2000 taskset -c 0 wrk -t1 -c20 -d"${secs}s" -s "$here/paced.lua" "$u" >"$work/$label.txt" 2>&1
    elif [[ $conns == 0 ]]; then
      sleep "$secs"
      echo "0 requests in" >"$work/$label.txt"
    else
      BENCH_TARGET=$t taskset -c 0 wrk -t1 -c"$conns" -d"${secs}s" -s "$here/closed.lua" "$u" >"$work/$label.txt" 2>&1
    fi
    t1=$(ticks) k1=$(c2)
    end=$(rss_mb)
    p=$(parts)
    [[ ${RSSROWS_NMT:-0} == 0 ]] || p="$p | $(nmt)"
    req=$(awk '/requests in/ { print $1 }' "$work/$label.txt")
    max=$(awk -F'\t' -v p="$label" '$3 == p && $2 > m { m = $2 } END { print m + 0 }' "$work/samples.tsv")
    printf '%-22s %8s %7.1f %6d %7s %7s %7s  %s\n' "$label" "$req" \
      "$(awk -v r="$req" -v d="$((t1 - t0))" -v t="$tick" 'BEGIN { print (r > 0 ? d * t * 1000 / r : 0) }')" \
      "$(((k1 - k0) * tick))" "$(grep -o 'p99=[0-9]*' "$work/$label.txt" | cut -d= -f2 || echo -)" "$end" "$max" "$p"
  done
done
# Per row: the largest RSS after the warm-up, the seconds above 96 MB after it, the steady RSS
# (the median of the last phase).
awk -F'\t' '
  NR > 1 { dt = $1 - t; split(p, a, "."); if (a[2] != "warmup" && p != "start") { if ($2 > 96) above[a[1]] += dt; tot[a[1]] += dt } }
  { t = $1; p = $3; split($3, b, "."); if (b[2] != "warmup" && $3 != "start" && $2 > max[b[1]]) { max[b[1]] = $2; at[b[1]] = $3 }
    if (b[2] == "warmup" && $2 > wmax[b[1]]) wmax[b[1]] = $2 }
  END { for (r in max) printf "%s: warm-up max %.1f MB; after it max %.1f MB (%s), above 96 MB for %.1f s of %.1f\n", r, wmax[r], max[r], at[r], above[r], tot[r] }' "$work/samples.tsv"
echo "load $(cut -d' ' -f1-3 /proc/loadavg); samples: $(wc -l <"$work/samples.tsv"); work directory: $work"
