#!/usr/bin/env bash
# Where a proxy hop's added latency goes at a fixed rate (bench/README.md, "Critical path latency
# (s20)"). At 2,000 req/s most requests are alone in the proxy, so its added latency is: the
# wake-up on the client's request, the work from read(client) to write(upstream), the wake-up on
# the app's response, and the work from read(upstream) to the write to the client. Starts a backend
# nginx and one proxy — a hoptrace sidecar through the launcher (the JVM flags users run; inbound
# or outbound row, as sidecar.sh starts them) or nginx configured as the bench's tracing sidecar —
# warms it up (16 connections closed loop, then the rate), measures wrk's latency at the rate
# untraced, then records the proxy's event-loop threads with `perf record` (system-call
# tracepoints and sched_wakeup, with timestamps) over a second run at the rate, and prints, per
# segment, the median and p90 in µs. Per event-loop thread, in time order: a read that returns
# data opens a segment, the next write to the other side closes it (a second read of the same side
# first: left out, two requests interleaved); that write's return opens a tail, closed by the next
# epoll_wait (left out if data is read first):
#
#   wake.req    sched_wakeup of the thread -> epoll_wait returns, before a request is read (only
#               when the thread slept: a read that found its data without one is counted apart)
#   req         read(client) returns data -> the write to the upstream socket enters
#   req.tail    that write returns -> the next epoll_wait enters (on the critical path here: the
#               backend shares the proxy's CPU)
#   wake.resp   sched_wakeup -> epoll_wait returns, before a response is read
#   resp        read(upstream) returns data -> the write to the client socket enters
#   resp.tail   that write returns -> the next epoll_wait enters (work that delays a request
#               arriving right behind this one)
#
# Client and upstream sockets are told apart by port (/proc/PID/fd and /proc/net/tcp{,6}, read
# during the traced run): a client socket's local port is the proxy's listening port, an upstream
# one's remote port the backend's. Recording costs a few µs per system call, alike for every proxy
# (they make the same calls per request): compare proxies traced in the same session, not these
# figures with untraced ones. wrk on CPU 0, backend and proxy on CPU 1.
#
#   bench/lib/latency-split.sh [JAR|nginx] [inbound|outbound]    (wrap it in the shared bench lock)
#
# Environment: SPLIT_WARMUP (15 s closed loop), SPLIT_RATE_WARMUP (5 s at the rate, discarded),
# SPLIT_DURATION (10 s: the untraced run at the rate), SPLIT_TRACE (3 s traced), BENCH_RATE
# (2000), HOPTRACE_RUN_ARGS, JAVA_OPTS (after the launcher's flags), SPLIT_KEEP=1 (keep the work
# directory, with perf's data and every segment's figures, turns.tsv).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jar=${1:-$here/../../proxy/target/hoptrace.jar}
mode=${2:-inbound}
warmup=${SPLIT_WARMUP:-15}
rate_warmup=${SPLIT_RATE_WARMUP:-5}
duration=${SPLIT_DURATION:-10}
trace=${SPLIT_TRACE:-3}
export BENCH_RATE=${BENCH_RATE:-2000}
work=$(mktemp -d /tmp/hoptrace-split.XXXXXX)
command -v perf >/dev/null || { echo "needs perf (apt-get install linux-perf)" >&2; exit 2; }
# shellcheck source=bench/lib/sidecar.sh
source "$here/sidecar.sh"
if [[ $jar == nginx ]]; then
  start_nginx_sidecar split
  listen_port=$inbound
else
  start_launched_sidecar "$mode" split "$jar" "${JAVA_OPTS:-}"
  listen_port=${url#http://127.0.0.1:}
  listen_port=${listen_port%%/*}
fi
[[ ${SPLIT_KEEP:-0} == 1 ]] || trap 'kill "$pid" "$backend_pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
backend_port=$(awk '/listen/ { sub(/.*:/, "", $2); print $2 + 0; exit }' "$work/backend/nginx.conf")

# The proxy's event-loop threads: the JVM's XNIO I/O threads, or nginx's worker.
loop_tids() {
  local t
  if [[ $jar == nginx ]]; then
    pgrep -P "$pid"
  else
    for t in /proc/"$pid"/task/*; do
      [[ $(cat "$t/comm" 2>/dev/null) == *"I/O"* ]] && basename "$t"
    done
  fi
}
# The sockets of process $1 (fd and inode) and its TCP table, for the analysis below.
sockets() {
  local p=$1
  find "/proc/$p/fd" -maxdepth 1 -type l -printf '%f %l\n' 2>/dev/null |
    awk '$2 ~ /^socket:/ { gsub(/[^0-9]/, "", $2); print $1, $2 }' >"$work/fds"
  cat "/proc/$p/net/tcp" "/proc/$p/net/tcp6" >"$work/tcp" # a JVM's sockets are IPv6 ones
}

rate() { # seconds out
  taskset -c 0 wrk -t1 -c20 -d"$1s" --timeout 2s -s "$here/paced.lua" "$url" >"$2" 2>&1 || true
}

taskset -c 0 wrk -t1 -c16 -d"${warmup}s" -s "$here/closed.lua" "$url" >/dev/null 2>&1 || true
rate "$rate_warmup" /dev/null
rate "$duration" "$work/rate.txt"
load=$(cut -d' ' -f1-3 /proc/loadavg)

mapfile -t tids < <(loop_tids)
((${#tids[@]})) || { echo "no event-loop thread found" >&2; exit 1; }
proxy_pid=$pid
[[ $jar == nginx ]] && proxy_pid=${tids[0]}
filter=$(printf 'common_pid == %s || ' "${tids[@]}")
filter=${filter% || }
wake_filter=$(printf 'pid == %s || ' "${tids[@]}")
wake_filter=${wake_filter% || }
events=()
for s in read recvfrom readv write writev sendto sendmsg epoll_wait epoll_pwait; do
  events+=(-e "syscalls:sys_enter_$s" --filter "$filter" -e "syscalls:sys_exit_$s" --filter "$filter")
done
events+=(-e sched:sched_wakeup --filter "$wake_filter")
perf record -q -a -o "$work/perf.data" "${events[@]}" -- sleep "$((trace + 1))" 2>"$work/perf.err" &
perf_pid=$!
sleep 0.5
rate "$trace" "$work/traced.txt" &
wrk_pid=$!
sleep 1
sockets "$proxy_pid"
wait "$wrk_pid"
wait "$perf_pid" || { cat "$work/perf.err" >&2; exit 1; }
perf script -i "$work/perf.data" --ns -F tid,time,event,trace >"$work/perf.txt" 2>/dev/null

label=$(if [[ $jar == nginx ]]; then echo nginx; else echo "$(basename "$jar") $mode"; fi)
echo "== $label: rate $(grep -o 'p50=[0-9]* p90=[0-9]* p99=[0-9]*' "$work/rate.txt" || echo '?') us (untraced, $BENCH_RATE req/s, 20 conns), traced run $(grep -o 'p50=[0-9]*' "$work/traced.txt" || echo '?') us; threads ${tids[*]}; load $load"
python3 - "$work/perf.txt" "$work/fds" "$work/tcp" "$listen_port" "$backend_port" "$work/turns.tsv" <<'PY'
import re, sys
perf, fds, tcp, listen, backend, turns_out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
inode_fd = {}
for line in open(fds):
    fd, inode = line.split()
    inode_fd[inode] = int(fd)
client, upstream = set(), set()
for line in open(tcp):
    f = line.split()
    if len(f) < 10 or f[0] == "sl": continue
    fd = inode_fd.get(f[9])
    if fd is None: continue
    local, remote = int(f[1].rsplit(":", 1)[1], 16), int(f[2].rsplit(":", 1)[1], 16)
    if local == listen: client.add(fd)
    elif remote == backend: upstream.add(fd)
READS = {"read", "recvfrom", "readv"}
WRITES = {"write", "writev", "sendto", "sendmsg"}
POLL = {"epoll_wait", "epoll_pwait"}
ev = re.compile(r"^\s*(\d+)\s+([\d.]+):\s+(\S+):\s*(.*)$")
segs = {k: [] for k in ("wake.req", "req", "req.tail", "wake.resp", "resp", "resp.tail")}
counts = {"req": 0, "resp": 0, "nosleep": 0}
rows = []
# Per thread, in time order: a read that returns data opens a segment, the next write to the other
# side closes it (a second read of the same side first: left out, the two are interleaved); that
# write's return opens a tail, closed by the next epoll_wait (left out if data is read first).
state = {}
def fresh():
    return {"in_poll": False, "wake": None, "exit": None, "first": True, "pending": None,
            "open": None, "tail": None}
for line in open(perf):
    m = ev.match(line)
    if not m: continue
    tid, ts, name, rest = int(m.group(1)), float(m.group(2)) * 1e6, m.group(3), m.group(4)
    if name == "sched:sched_wakeup":
        t = int(re.search(r"pid=(\d+)", rest).group(1))
        s = state.get(t)
        if s and s["in_poll"] and s["wake"] is None: s["wake"] = ts
        continue
    s = state.setdefault(tid, fresh())
    kind, _, call = name.partition(":")[2].partition("_")[2].partition("_")
    if kind == "enter":
        if call in POLL:
            if s["tail"] is not None:
                k, t0 = s["tail"]
                segs[k + ".tail"].append(ts - t0)
                s["tail"] = None
            s["in_poll"] = True; s["wake"] = None; s["exit"] = None
        elif call in READS or call in WRITES:
            fd = int(re.search(r"fd: (0x[0-9a-f]+)", rest).group(1), 16)
            s["pending"] = ("r" if call in READS else "w", fd, ts)
            if call in WRITES and s["open"] is not None:
                k, t0 = s["open"]
                if (k == "req" and fd in upstream) or (k == "resp" and fd in client):
                    segs[k].append(ts - t0); counts[k] += 1
                    s["open"] = None; s["closing"] = k
    else:
        r = rest.strip()
        ret = int(r.split()[0], 16) if r.startswith("0x") else 0
        if ret >= 1 << 63: ret -= 1 << 64
        if call in POLL:
            s["in_poll"] = False
            s["exit"] = ts if ret > 0 else None
            s["first"] = True
        elif s["pending"] is not None and (call in READS or call in WRITES):
            rw, fd, t_enter = s["pending"]
            s["pending"] = None
            if rw == "r" and ret > 0 and (fd in client or fd in upstream):
                k = "req" if fd in client else "resp"
                s["tail"] = None
                s["open"] = (k, ts) if s["open"] is None or s["open"][0] != k else None
                if s["first"] and s["exit"] is not None:
                    if s["wake"] is not None: segs["wake." + k].append(s["exit"] - s["wake"])
                    else: counts["nosleep"] += 1
                s["first"] = False
            elif rw == "w" and s.get("closing"):
                s["tail"] = (s.pop("closing"), ts)
def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")
with open(turns_out, "w") as f:
    for k, xs in segs.items(): f.write(k + "\t" + " ".join(f"{x:.2f}" for x in xs) + "\n")
print(f"  sockets: {len(client)} client, {len(upstream)} upstream; {counts['req']} requests, {counts['resp']} responses; "
      f"{counts['nosleep']} reads found their data without a sleep (no wake-up)")
for k in ("wake.req", "req", "req.tail", "wake.resp", "resp", "resp.tail"):
    xs = segs[k]
    print(f"  {k:10s} median {pct(xs, .5):7.1f} us  p90 {pct(xs, .9):7.1f} us  (n={len(xs)})")
med = lambda k: pct(segs[k], .5)
print(f"  sum of medians (wake.req + req + wake.resp + resp) {med('wake.req') + med('req') + med('wake.resp') + med('resp'):.1f} us")
PY
