#!/usr/bin/env bash
# Starts hoptrace on a given Java runtime (the jlinked one the image ships) in front of a toy app,
# sends one request through it, and checks the answer and the span line. CI runs it on the output
# of scripts/jlink-runtime.sh, so the runtime the Dockerfile builds is one that serves traffic.
#
# usage: scripts/check-runtime.sh JAVA_HOME_DIR [JAR]
set -euo pipefail
jre=${1:?usage: scripts/check-runtime.sh JAVA_HOME_DIR [JAR]}
jar=${2:-proxy/target/hoptrace.jar}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

echo 'hello from the app' > "$work/index.html"
python3 -m http.server 0 --bind 127.0.0.1 --directory "$work" > "$work/app.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do
  app_port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$work/app.out" | sed -n 1p)
  [ -n "$app_port" ] && break
  sleep 0.1
done
[ -n "${app_port:-}" ] || { echo "check-runtime: toy app did not start" >&2; exit 1; }

"$jre/bin/java" -XX:+UseSerialGC -Xmx96m -jar "$jar" run --service runtime-check \
  --inbound 127.0.0.1:0 --app "127.0.0.1:$app_port" --span-log "$work/spans.log" \
  2> "$work/hoptrace.err" &
pids+=($!)
for _ in $(seq 1 100); do
  port=$(sed -n 's/^hoptrace: inbound listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/hoptrace.err" | sed -n 1p)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "${port:-}" ] || { echo "check-runtime: hoptrace did not start" >&2; cat "$work/hoptrace.err" >&2; exit 1; }

body=$(curl -sS --max-time 10 "http://127.0.0.1:$port/index.html")
[ "$body" = "hello from the app" ] || { echo "check-runtime: unexpected body: $body" >&2; exit 1; }
for _ in $(seq 1 50); do
  grep -q '"kind":"SERVER"' "$work/spans.log" 2>/dev/null && break
  sleep 0.1
done
grep -q '"name":"get /index.html"' "$work/spans.log" \
  || { echo "check-runtime: no span line for the request" >&2; exit 1; }
echo "check-runtime: $jre served a request through hoptrace and wrote its span line"
