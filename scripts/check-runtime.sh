#!/usr/bin/env bash
# Starts hoptrace on a given Java runtime (the jlinked one the image ships) the way the image does:
# a class-data archive made by scripts/cds-archive.sh, then bin/hoptrace (the launcher) in front of
# a toy app. Sends one request through it and checks the answer, the span line, the launcher's JVM
# flags and environment, and that hoptrace's classes came from the archive. CI runs it on the
# output of scripts/jlink-runtime.sh, so the runtime the Dockerfile builds is one that serves traffic.
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

here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
"$here/cds-archive.sh" "$jre/bin/java" "$jar" "$work/hoptrace.jsa" > "$work/cds.out" 2>&1 \
  || { echo "check-runtime: no class-data archive" >&2; cat "$work/cds.out" >&2; exit 1; }

JAVA=$jre/bin/java HOPTRACE_JAR=$jar HOPTRACE_CDS_ARCHIVE=$work/hoptrace.jsa \
  JAVA_OPTS="-Xlog:class+load=info:file=$work/classes.log" \
  "$here/../bin/hoptrace" run --service runtime-check \
  --inbound 127.0.0.1:0 --app "127.0.0.1:$app_port" --span-log "$work/spans.log" \
  2> "$work/hoptrace.err" &
pids+=($!)
hoptrace_pid=$!
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

# The launcher's flags and environment reached the JVM (it execs java: same PID).
cmdline=$(tr '\0' ' ' < "/proc/$hoptrace_pid/cmdline")
for flag in -XX:+UseSerialGC -Xmx96m -Xmn8m -Xss256k -XX:-UsePerfData -XX:MinHeapFreeRatio=20 "-XX:SharedArchiveFile=$work/hoptrace.jsa"; do
  [[ " $cmdline " == *" $flag "* ]] || { echo "check-runtime: $flag not on the command line: $cmdline" >&2; exit 1; }
done
for var in MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=24576; do
  tr '\0' '\n' < "/proc/$hoptrace_pid/environ" | grep -qx "$var" \
    || { echo "check-runtime: $var not in hoptrace's environment" >&2; exit 1; }
done
# Perf data off (no hsperfdata file: jps/jstat do not see it), and jcmd still attaches by PID, as
# the launcher's comment tells operators.
perfdata=/tmp/hsperfdata_$(id -un)/$hoptrace_pid
[[ ! -e $perfdata ]] || { echo "check-runtime: $perfdata exists: perf data is on" >&2; exit 1; }
"$jre/bin/jcmd" "$hoptrace_pid" VM.version 2>&1 | grep -q 'JDK [0-9]' \
  || { echo "check-runtime: jcmd $hoptrace_pid VM.version failed" >&2; "$jre/bin/jcmd" "$hoptrace_pid" VM.version >&2 || true; exit 1; }
# hoptrace's own classes came from the archive, not from the jar; and from one static archive of
# the JDK's classes and hoptrace's (scripts/cds-archive.sh), not from a dynamic one layered on the
# JDK's ("shared objects file (top)", the archive until session 21).
shared=$(grep -c 'io\.hoptrace\..* source: shared objects file$' "$work/classes.log" || true)
from_jar=$(grep -c 'io\.hoptrace\..* source: jar:' "$work/classes.log" || true)
layered=$(grep -c 'source: shared objects file (top)' "$work/classes.log" || true)
((shared >= 100 && layered == 0)) \
  || { echo "check-runtime: $shared hoptrace classes from the archive ($from_jar from the jar, $layered from a dynamic archive)" >&2; exit 1; }
echo "check-runtime: $jre served a request through bin/hoptrace and wrote its span line;" \
  "$shared hoptrace classes from the class-data archive, $from_jar from the jar"
