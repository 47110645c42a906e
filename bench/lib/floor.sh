#!/usr/bin/env bash
# The floor of a JVM tracing sidecar, next to nginx and hoptrace, in one run (bench/README.md,
# "The floor of a JVM sidecar (s29)"). Five proxies in front of one backend, all six on CPU 1
# (wrk on CPU 0): the bench's nginx sidecar, hoptrace --inbound through its launcher twice (row
# `hoptrace`: its defaults, inbound.engine = relay since s30; row `undertow`: inbound.engine =
# undertow, every request through Undertow's exchange and the same-loop client), and
# bench/floor/Floor.java twice on the launcher's JVM flags — `floor`: one selector thread relaying
# heads as bytes with new ids, traceparent and X-Request-Id added and one buffered JSON span line
# per request; `traced`: the same relay doing hoptrace's per-request tracing work with hoptrace's
# own classes (extractor, injector, ring, metrics, span-log writer; Floor.java's class comment).
# After a warm-up (FLOOR_WARMUP s per JVM at 16 connections, half that at the rate), FLOOR_ROUNDS
# rounds, each: every proxy FLOOR_SECONDS s at 2,000 req/s (the order reversed in every other
# round, so a drift across a round cancels), then every proxy FLOOR_SECONDS s closed-loop at 16
# connections. Prints each window's CPU per request and the per-round ratios to nginx, then span
# lines written against requests served (a few more lines: requests in flight when wrk stopped)
# and RSS.
#
#   bench/lib/floor.sh [--smoke] [JAR]   # default proxy/target/hoptrace.jar (its .jsa when present)
#
# --smoke (CI, .ci/run): 1 round of 1 s after 2 s of warm-up; exits 1 unless every proxy served
# requests with no errors and wrote one span line per request (the numbers mean nothing). It keeps
# Floor.java compiling against hoptrace's classes and both floors relaying.
set -euo pipefail
smoke=0
if [[ ${1:-} == --smoke ]]; then
  smoke=1
  shift
  export FLOOR_ROUNDS=1 FLOOR_SECONDS=1 FLOOR_WARMUP=2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
jar=$(readlink -f "${1:-$root/proxy/target/hoptrace.jar}")
rounds=${FLOOR_ROUNDS:-4}
seconds=${FLOOR_SECONDS:-5}
warmup=${FLOOR_WARMUP:-20} # s per JVM at 16 connections; half that at the rate
work=$(mktemp -d /tmp/hoptrace-floor.XXXXXX)
# shellcheck source=bench/lib/sidecar.sh
source "$here/sidecar.sh"

javac -cp "$jar" -d "$work/floor" "$root/bench/floor/Floor.java"
# The launcher's JVM flags, for the floor as for hoptrace (its class-data archive left out).
read -r -a launch <<<"$(HOPTRACE_DRY_RUN=1 HOPTRACE_JAR="$jar" HOPTRACE_CDS_ARCHIVE=/nonexistent \
  "$root/bin/hoptrace")"
floor_flags=()
for a in "${launch[@]:3}"; do
  [[ $a == -jar ]] && break
  floor_flags+=("$a")
done

declare -A pids urls served
pids_all=()
cleanup() { # the span logs reach gigabytes over a full run: the work directory goes too
  kill "${pids_all[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
started() { pids[$1]=$2 urls[$1]=$3 served[$1]=0 pids_all+=("$2"); }

backend=$(free_port) p_nginx=$(free_port) p_floor=$(free_port) p_traced=$(free_port)
p_hop=$(free_port) p_undertow=$(free_port)
write_backend_conf "$work/backend" "$backend"
taskset -c 1 nginx -p "$work/backend" -c "$work/backend/nginx.conf" &
pids_all+=("$!")
write_nginx_sidecar_conf "$work/nginx" "$p_nginx" "$backend" "$work/nginx-spans.log"
taskset -c 1 nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
started nginx "$!" "http://127.0.0.1:$p_nginx/r/nginx"
start_floor() { # row port [traced]
  MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=24576 taskset -c 1 java "${floor_flags[@]}" \
    -cp "$work/floor:$jar" Floor "$2" "$backend" "$work/$1-spans.log" ${3:-} \
    >"$work/$1.out" 2>&1 &
  started "$1" "$!" "http://127.0.0.1:$2/r/$1"
}
start_floor floor "$p_floor"
start_floor traced "$p_traced" traced
archive=${jar%.jar}.jsa
[[ -f $archive ]] || archive=/nonexistent
HOPTRACE_JAR="$jar" HOPTRACE_CDS_ARCHIVE="$archive" taskset -c 1 "$root/bin/hoptrace" run \
  --service bench-a --inbound "127.0.0.1:$p_hop" --app "127.0.0.1:$backend" \
  --span-log "$work/hoptrace-spans.log" --set span-log.rotate-size=0 \
  >"$work/hoptrace.out" 2>&1 &
started hoptrace "$!" "http://127.0.0.1:$p_hop/r/hoptrace"
HOPTRACE_JAR="$jar" HOPTRACE_CDS_ARCHIVE="$archive" taskset -c 1 "$root/bin/hoptrace" run \
  --service bench-a --inbound "127.0.0.1:$p_undertow" --app "127.0.0.1:$backend" \
  --span-log "$work/undertow-spans.log" --set span-log.rotate-size=0 --set inbound.engine=undertow \
  >"$work/undertow.out" 2>&1 &
started undertow "$!" "http://127.0.0.1:$p_undertow/r/undertow"
export BENCH_TARGET=""
rows=(nginx floor traced hoptrace undertow)
for row in "${rows[@]}"; do
  for _ in $(seq 150); do curl -s -o /dev/null "${urls[$row]}" && break; sleep 0.2; done
  served[$row]=1 # the readiness request
done
# nginx's CPU is its worker's (the master only waits); the JVMs' is the process's.
pids[nginx]=$(pgrep -P "${pids[nginx]}" | head -1)

declare -A errors
count() { # row: adds the requests (and errors) of the last wrk run to the row's totals
  served[$1]=$((served[$1] + $(awk '/requests in/ { print $1 }' "$work/wrk.txt")))
  if grep -q 'Non-2xx\|Socket errors' "$work/wrk.txt"; then
    errors[$1]=$((${errors[$1]:-0} + 1))
    grep 'Non-2xx\|Socket errors' "$work/wrk.txt" | sed "s/^/$1: /" >&2
  fi
}
# Both set globals (no subshell, so count's totals stay): closed sets rps, cpu (µs/req) and split
# (user and system), rate sets line (rate_window's).
closed() { # row seconds: closed loop at 16 connections
  local r u0 s0 u1 s1
  pid=${pids[$1]}
  read -r u0 s0 < <(awk '{ print $14, $15 }' "/proc/$pid/stat")
  taskset -c 0 wrk -t1 -c16 -d"$2s" -s "$here/closed.lua" "${urls[$1]}" >"$work/wrk.txt" 2>&1
  read -r u1 s1 < <(awk '{ print $14, $15 }' "/proc/$pid/stat")
  count "$1"
  r=$(awk '/requests in/ { print $1 }' "$work/wrk.txt")
  local us=$((1000000 / $(getconf CLK_TCK)))
  rps=$((r / $2)) cpu=$(((u1 - u0 + s1 - s0) * us / r))
  split="user $(((u1 - u0) * us * 10 / r)) + system $(((s1 - s0) * us * 10 / r)) (tenths of µs)"
}
rate() { # row seconds
  pid=${pids[$1]} url=${urls[$1]}
  line=$(rate_window "$2" "$1") # it sets no globals: a subshell is fine; count's totals are not
  count "$1"
}

echo "warm-up: the JVMs $warmup s at 16 connections and $((warmup / 2)) s at the rate, nginx 3 s" >&2
for row in floor traced hoptrace undertow; do
  closed "$row" "$warmup"
  rate "$row" $((warmup / 2))
done
closed nginx 3

declare -A rate_cpu closed_rps closed_cpu
for r in $(seq "$rounds"); do
  order=("${rows[@]}")
  ((r % 2 == 0)) && order=(undertow hoptrace traced floor nginx)
  for row in "${order[@]}"; do
    rate "$row" "$seconds"
    echo "round $r rate   $line" >&2
    rate_cpu[$r.$row]=$(sed -n 's/.*CPU \([0-9]*\) us\/req.*/\1/p' <<<"$line")
  done
  for row in "${order[@]}"; do
    closed "$row" "$seconds"
    echo "round $r closed $row: $rps req/s; CPU $cpu us/req, $split" >&2
    closed_rps[$r.$row]=$rps closed_cpu[$r.$row]=$cpu
  done
done

sleep 1.5 # the floor's and nginx's span buffers are flushed after a second
echo
echo "| round | nginx µs/req @2k | floor | traced | hoptrace | undertow | ×nginx: floor / traced / hoptrace / undertow | req/s @16: nginx / floor / traced / hoptrace / undertow (µs/req) |"
echo "|--:|--:|--:|--:|--:|--:|--:|--:|"
for r in $(seq "$rounds"); do
  awk -v r="$r" -v n="${rate_cpu[$r.nginx]}" -v f="${rate_cpu[$r.floor]}" -v t="${rate_cpu[$r.traced]}" \
    -v h="${rate_cpu[$r.hoptrace]}" -v y="${rate_cpu[$r.undertow]}" \
    -v cn="${closed_rps[$r.nginx]}" -v cf="${closed_rps[$r.floor]}" \
    -v ct="${closed_rps[$r.traced]}" -v ch="${closed_rps[$r.hoptrace]}" -v cy="${closed_rps[$r.undertow]}" \
    -v un="${closed_cpu[$r.nginx]}" -v uf="${closed_cpu[$r.floor]}" -v ut="${closed_cpu[$r.traced]}" \
    -v uh="${closed_cpu[$r.hoptrace]}" -v uy="${closed_cpu[$r.undertow]}" \
    'BEGIN { printf "| %d | %d | %d | %d | %d | %d | %.2f / %.2f / %.2f / %.2f | %d / %d / %d / %d / %d (%d / %d / %d / %d / %d) |\n",
      r, n, f, t, h, y, f / n, t / n, h / n, y / n, cn, cf, ct, ch, cy, un, uf, ut, uh, uy }'
done
echo
failed=0
for row in "${rows[@]}"; do
  lines=$(wc -l <"$work/$row-spans.log")
  rss=$(awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/${pids[$row]}/status")
  echo "$row: ${served[$row]} requests served, $lines span lines, ${errors[$row]:-0} runs with errors; RSS $rss MB"
  # wrk does not count the requests in flight when it stops: up to 20 per run more lines
  if ((served[$row] < 100 || lines < served[$row] || lines > served[$row] + 400 || ${errors[$row]:-0} > 0)); then
    echo "$row: FAILED (requests served, span lines or errors)" >&2
    failed=1
  fi
done
((smoke == 0)) || { ((failed == 0)) && echo "floor smoke: PASS" || echo "floor smoke: FAIL"; }
exit "$failed"
