#!/usr/bin/env bash
# Route matching micro-benchmarks (JMH). Builds bench/jmh with the `bench` profile and runs it.
#   bench/jmh.sh                      # all sizes, forks 3, warmup 3x2s, measure 5x2s
#   bench/jmh.sh -p routes=10000      # extra arguments go to JMH (they override the defaults)
# Results: the JMH table on stdout and bench/jmh/target/jmh-result.json.
set -euo pipefail
cd "$(dirname "$0")/.."

mvn -q -B -Pbench -pl bench/jmh -am package -DskipTests

result=bench/jmh/target/jmh-result.json
exec java -jar bench/jmh/target/benchmarks.jar RouteMatchBench \
  -f 3 -wi 3 -w 2s -i 5 -r 2s \
  -rf json -rff "$result" \
  "$@"
