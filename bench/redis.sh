#!/usr/bin/env bash
# Overhead per Redis command: redis-benchmark straight to a redis-server and through hoptrace's
# TCP relay, in the same run, rounds alternating so all see the same machine load:
#   direct    redis-benchmark -> redis-server
#   relay     -> hoptrace route with protocol tcp   (the relay hop alone: bytes, no parsing)
#   hoptrace  -> hoptrace route with protocol redis (RESP parsed, one span built per command)
#
#   bench/redis.sh                       # defaults below
#   N=200000 C=50 P=1 ROUNDS=3 TESTS=get,set bench/redis.sh
#
# Needs redis-server and redis-benchmark (Debian: apt-get install -y redis-server redis-tools)
# and proxy/target/hoptrace.jar (built if missing). Binds 127.0.0.1 ephemeral ports only; both
# processes are stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-100000}         # requests per test per round
C=${C:-50}             # parallel connections
P=${P:-1}              # pipeline depth (1: one command per round trip, the worst case)
ROUNDS=${ROUNDS:-2}
WARMUP=${WARMUP:-$N}     # requests per test to warm the JIT up, per relay
TESTS=${TESTS:-ping_mbulk,set,get,incr,lpush,lpop,mset}
JAR=proxy/target/hoptrace.jar

command -v redis-server >/dev/null || { echo "redis-server missing (apt-get install -y redis-server)"; exit 1; }
command -v redis-benchmark >/dev/null || { echo "redis-benchmark missing (apt-get install -y redis-tools)"; exit 1; }
[ -f "$JAR" ] || mvn -B -q -DskipTests package -pl proxy -am

tmp=$(mktemp -d -t hoptrace-redis-bench.XXXXXX)
redis_pid=
relay_pid=
tcp_pid=
cleanup() {
  [ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null && wait "$relay_pid" 2>/dev/null || true
  [ -n "$tcp_pid" ] && kill "$tcp_pid" 2>/dev/null && wait "$tcp_pid" 2>/dev/null || true
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# A free loopback port: nothing answers on it (bounded number of tries).
free_port() {
  local p i
  for i in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  echo "no free port found" >&2; return 1
}

# Start redis-server on a free port; another process may take the port between the check and the
# bind, so retry a few times and fail loudly rather than benchmark someone else's server.
redis_port=
for _ in 1 2 3 4 5; do
  port=$(free_port)
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
    --daemonize no --loglevel warning >"$tmp/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 1 100); do
    kill -0 "$redis_pid" 2>/dev/null || break
    if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then redis_port=$port; break 2; fi
    sleep 0.05
  done
  kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null || true; redis_pid=
done
[ -n "$redis_port" ] || { echo "redis-server did not start:"; cat "$tmp/redis.log"; exit 1; }

start_relay() { # protocol outfile
  java -XX:+UseParallelGC -Xms64m -Xmx256m -cp "$JAR" io.hoptrace.proxy.tcp.RelayBenchMain \
    "$1" "127.0.0.1:$redis_port" >"$2" 2>&1 &
}
await_port() { # outfile
  local port= _
  for _ in $(seq 1 200); do
    port=$(sed -n 's/^listening //p' "$1")
    [ -n "$port" ] && { echo "$port"; return 0; }
    sleep 0.05
  done
  echo "relay did not start: $(cat "$1")" >&2; return 1
}
start_relay redis "$tmp/relay.out"; relay_pid=$!
start_relay tcp "$tmp/tcp.out"; tcp_pid=$!
relay_port=$(await_port "$tmp/relay.out")
tcp_port=$(await_port "$tmp/tcp.out")

echo "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on :$redis_port; hoptrace protocol redis on :$relay_port, protocol tcp on :$tcp_port"
echo "N=$N C=$C P=$P ROUNDS=$ROUNDS tests=$TESTS; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# Warm the JIT on both relay paths before measuring.
redis-benchmark -h 127.0.0.1 -p "$relay_port" -n "$WARMUP" -c "$C" -P "$P" -t ping_mbulk,set,get -q >/dev/null
redis-benchmark -h 127.0.0.1 -p "$tcp_port" -n "$WARMUP" -c "$C" -P "$P" -t ping_mbulk,set,get -q >/dev/null

bench() { # port label round
  redis-benchmark -h 127.0.0.1 -p "$1" -n "$N" -c "$C" -P "$P" -t "$TESTS" --csv \
    | tail -n +2 | tr -d '"' | sed "s/^/$2,$3,/"
}
{
  for r in $(seq 1 "$ROUNDS"); do
    bench "$redis_port" direct "$r"
    bench "$tcp_port" relay "$r"
    bench "$relay_port" hoptrace "$r"
  done
} >"$tmp/results.csv"

# Per test: the best round of each (least disturbed by the machine's other tenants): requests/s,
# mean latency, and the mean latency added per command by the relay hop and by hoptrace.
awk -F, '
  { m = $1; k = $3; rps = $4 + 0
    if (!(k in seen)) { seen[k] = 1; names[++n] = k }
    if (rps > best[m, k]) { best[m, k] = rps; avg[m, k] = $5 + 0; p99[m, k] = $9 + 0 } }
  END {
    printf "%-16s %10s %10s %10s | %8s %8s %8s | %9s %9s | %8s %8s\n", "test", "direct/s", "relay/s", "hoptrace/s", "avg ms d", "avg ms r", "avg ms h", "+us relay", "+us hoptr", "p99 d", "p99 h"
    for (i = 1; i <= n; i++) { k = names[i]
      printf "%-16s %10.0f %10.0f %10.0f | %8.3f %8.3f %8.3f | %9.1f %9.1f | %8.3f %8.3f\n", k, best["direct", k], best["relay", k], best["hoptrace", k], avg["direct", k], avg["relay", k], avg["hoptrace", k], (avg["relay", k] - avg["direct", k]) * 1000, (avg["hoptrace", k] - avg["direct", k]) * 1000, p99["direct", k], p99["hoptrace", k] }
  }' "$tmp/results.csv"

kill "$relay_pid"; wait "$relay_pid" 2>/dev/null || true; relay_pid=
echo "$(grep '^spans' "$tmp/relay.out") built by the relay (one per relayed command, warm-up included)"
