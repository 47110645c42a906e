#!/usr/bin/env bash
# The correlator accuracy benchmark (docs/accuracy.md). One command:
#   bench/accuracy.sh [--topologies mixed,chain,fanout] [--rules learned,most_recent,oldest]
#                     [--dist exp|fixed|uniform|lognormal] [--warmup RATE:SECONDS]
#                     [--phases RATE:SECONDS,...] [--max-requests N] [--out DIR] [--seed N]
# Builds the testbed (offline), starts toy services behind in-process hoptraces on 127.0.0.1
# ephemeral ports, runs open-loop Poisson load, scores, and writes DIR/report.md
# (default target/accuracy/report.md). Every load phase is bounded in time and count.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -o -q -pl testbed -am package -DskipTests
cp_file=testbed/target/classpath.txt
mvn -B -o -q -pl testbed dependency:build-classpath -Dmdep.outputFile=target/classpath.txt >/dev/null
# this build's modules from their target/classes, never a hoptrace jar from the local repository
deps="$(tr ':' '\n' < "$cp_file" | grep -v '/io/hoptrace/' | paste -sd: -)"
cp="testbed/target/classes:propagation-core/target/classes:config/target/classes:traces/target/classes:proxy/target/classes:$deps"
exec java -Xmx1g ${JAVA_OPTS:-} -cp "$cp" io.hoptrace.testbed.AccuracyBench "$@"
