#!/usr/bin/env bash
# Proxy throughput and latency: Ballast vs nginx vs Spring Cloud Gateway, with wrk, on this machine.
#
#   bench/proxy.sh [duration_s] [connections] [warmup_s]     # defaults: 20 50 10
#
# Starts, each on a free 127.0.0.1 port: an upstream (nginx, `return 200` with a 100-byte body),
# Ballast (traditional role, one route PUT through the Admin API), nginx as a reverse proxy
# (worker_processes 1, upstream keepalive) and the Spring Cloud Gateway jar from bench/scg. Each
# target gets a warm-up, then `wrk -t1 -c<connections> -d<duration>s --latency`; the upstream alone
# is the baseline. Everything started here is killed by PID on exit.
#
# JAVA_OPTS (default: a fixed 512 MiB heap, the JVM's default collector) applies to Ballast and SCG.
# Ballast's per-request access log (logger ballast.access) is turned off, as nginx's is here
# (access_log off) and as SCG's is by default; BALLAST_OPTS adds flags for Ballast only.
# TARGETS (default "nginx ballast scg") picks the proxies to measure; BALLAST_JAR (default
# service/target/ballast.jar, built here) measures another build, e.g. to compare two commits.
# WRK_OPTS adds wrk flags, e.g. WRK_OPTS='-H Connection:close' for a new connection per request.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

duration=${1:-20}
connections=${2:-50}
warmup=${3:-10}
java_opts=${JAVA_OPTS:--Xms512m -Xmx512m}
ballast_opts="$java_opts -Dlogging.level.ballast.access=WARN ${BALLAST_OPTS:-}"
targets=" ${TARGETS:-nginx ballast scg} "
wants() { [[ $targets == *" $1 "* ]]; }
ballast_jar=${BALLAST_JAR:-$root/service/target/ballast.jar}
admin_key=bench-admin-key-not-secret

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y "${need[@]}" >/dev/null
  else
    echo "missing: ${need[*]}; install with: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d /tmp/ballast-proxy-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits until GET url answers 200; fails with the log's tail otherwise.
await_ok() {
  local url=$1 log=$2
  for _ in $(seq 1 120); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$url")" = 200 ]; then return 0; fi
    sleep 0.5
  done
  echo "no 200 from $url within 60 s; last lines of $log:" >&2
  tail -20 "$log" >&2
  exit 1
}

if [ -z "${BALLAST_JAR:-}" ]; then
  echo "building Ballast ..." >&2
  mvn -q -B -DskipTests package
fi
if wants scg; then
  echo "building the SCG jar ..." >&2
  mvn -q -B -Pbench -pl bench/scg -am package -DskipTests
fi

# nginx: foreground (daemon off) so that the PID we hold is the master's and the trap can kill it.
start_nginx() {
  local name=$1 http_block=$2
  mkdir -p "$work/$name"
  cat >"$work/$name/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/$name/nginx.pid;
error_log $work/$name/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/$name/body;
  proxy_temp_path $work/$name/proxy;
  # Serve wrk's keep-alive connections for the whole run, as Ballast and SCG do.
  keepalive_requests 1000000;
  $http_block
}
EOF
  "$nginx_bin" -p "$work/$name" -c "$work/$name/nginx.conf" -e "$work/$name/error.log" \
    >"$work/$name/stdout.log" 2>&1 &
  pids+=($!)
}

# The upstream is nginx too: a C server on one worker costs the least CPU per request, so the
# 2 cores go to wrk and the proxy under test, and the baseline shows the upstream's own ceiling.
body=$(printf 'ballast-bench-%086d' 0)
up_port=$(free_port)
start_nginx upstream "server {
    listen 127.0.0.1:$up_port;
    location / { default_type text/plain; return 200 '$body'; }
  }"
await_ok "http://127.0.0.1:$up_port/bench" "$work/upstream/error.log"

if wants nginx; then
nginx_port=$(free_port)
start_nginx proxy "upstream backend {
    server 127.0.0.1:$up_port;
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
    }
  }"
await_ok "http://127.0.0.1:$nginx_port/bench" "$work/proxy/error.log"
fi

if wants ballast; then
ballast_port=$(free_port)
admin_port=$(free_port)
status_port=$(free_port)
conf_port=$(free_port)
mkdir -p "$work/ballast"
cat >"$work/ballast/config.yaml" <<EOF
deployment:
  role: traditional
  admin:
    admin_key:
      - name: admin
        key: \${{BALLAST_ADMIN_KEY}}
        role: admin
    admin_listen:
      ip: 127.0.0.1
      port: $admin_port
  role_control_plane:
    conf_server:
      listen: 127.0.0.1:$conf_port
apisix:
  node_listen:
    - ip: 127.0.0.1
      port: $ballast_port
  status:
    ip: 127.0.0.1
    port: $status_port
ballast:
  data_dir: $work/ballast/data
fallback_cp:
  filesystem:
    path: $work/ballast/storage
    config_bucket: ballast-config
    resource_bucket: ballast-resources
  cron_spec: '@every 1m'
EOF
# The key reaches Ballast through the environment, not the command line or the config file.
BALLAST_ADMIN_KEY=$admin_key java $ballast_opts -jar "$ballast_jar" \
  -c "$work/ballast/config.yaml" >"$work/ballast/node.log" 2>&1 &
pids+=($!)
await_ok "http://127.0.0.1:$status_port/status/ready" "$work/ballast/node.log"
curl -sf -o /dev/null -X PUT "http://127.0.0.1:$admin_port/apisix/admin/routes/bench" \
  -H "X-API-KEY: $admin_key" \
  -d "{\"uri\":\"/*\",\"upstream\":{\"type\":\"roundrobin\",\"nodes\":{\"127.0.0.1:$up_port\":1}}}"
await_ok "http://127.0.0.1:$ballast_port/bench" "$work/ballast/node.log"
fi

if wants scg; then
scg_port=$(free_port)
mkdir -p "$work/scg"
java $java_opts -jar "$root/bench/scg/target/scg.jar" \
  --server.port="$scg_port" --upstream.url="http://127.0.0.1:$up_port" \
  >"$work/scg/scg.log" 2>&1 &
pids+=($!)
await_ok "http://127.0.0.1:$scg_port/bench" "$work/scg/scg.log"
fi

# wrk prints latencies as 812.00us / 1.23ms / 1.05s; the table is in ms.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n }'
}

results="$work/results.tsv"
: >"$results"
run() {
  local name=$1 url=$2 out="$work/wrk-$1.txt"
  echo "$name: warm-up ${warmup}s, then ${duration}s with $connections connections" >&2
  wrk -t1 -c"$connections" -d"${warmup}s" ${WRK_OPTS:-} "$url" >/dev/null
  wrk -t1 -c"$connections" -d"${duration}s" --latency ${WRK_OPTS:-} "$url" >"$out"
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  errors=$(awk '/Non-2xx|Socket errors/ {sub(/^ +/, ""); printf "%s; ", $0}' "$out")
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$rps" "$p50" "$p99" "${errors:-none}" >>"$results"
}

run upstream "http://127.0.0.1:$up_port/bench"
if wants nginx; then run nginx "http://127.0.0.1:$nginx_port/bench"; fi
if wants ballast; then run ballast "http://127.0.0.1:$ballast_port/bench"; fi
if wants scg; then run scg "http://127.0.0.1:$scg_port/bench"; fi

echo
echo "wrk -t1 -c$connections -d${duration}s --latency (after ${warmup}s warm-up); $(nproc) cores;" \
  "JAVA_OPTS: $java_opts; Ballast: $ballast_opts"
awk -F'\t' '
  $1 == "nginx" { nrps = $2; np99 = $4 }
  # Without nginx in the run, the ratios are to the upstream alone.
  $1 == "upstream" && !nrps { nrps = $2; np99 = $4 }
  { name[NR] = $1; rps[NR] = $2; p50[NR] = $3; p99[NR] = $4; err[NR] = $5 }
  END {
    printf "| %-8s | %10s | %8s | %8s | %9s | %9s | %s\n", \
      "target", "req/s", "p50 ms", "p99 ms", "rps/nginx", "p99/nginx", "errors"
    for (i = 1; i <= NR; i++)
      printf "| %-8s | %10.0f | %8.3f | %8.3f | %9.2f | %9.2f | %s\n", \
        name[i], rps[i], p50[i], p99[i], rps[i] / nrps, p99[i] / np99, err[i]
  }' "$results"
echo "raw wrk output: $work" >&2
