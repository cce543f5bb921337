#!/usr/bin/env bash
# Publish and pull time of a 10,000-route snapshot through each storage backend on loopback, and
# the bytes of an unchanged poll. Starts S3Proxy and Azurite as processes (storage-testkit) and
# kills them when done. Usage: bench/storage.sh [routes] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -pl chaos-tests -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
java -Xmx512m -cp "chaos-tests/target/test-classes:$(cat chaos-tests/target/bench.classpath)" \
  io.ballast.bench.StorageBench "${1:-10000}" "${2:-10}"
