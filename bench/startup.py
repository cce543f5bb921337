#!/usr/bin/env python3
"""Start-up time: process start to the first 200 from GET /status/ready, for one or more jars.

  bench/startup.py [runs] [jar ...]        # defaults: 7 runs of service/target/ballast.jar

Each run starts a traditional node (CP and DP in one process, filesystem storage) in a new
temporary folder on free ports of 127.0.0.1, so every run starts from an empty store and cache.
With several jars the runs alternate between them (A B A B ...), so that a machine that gets
busier or quieter during the run affects every jar alike. Prints each run and, per jar, the
median, min and max in milliseconds. Every node started here is killed by PID.
"""
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

CONFIG = """\
deployment:
  role: traditional
  admin:
    admin_key:
      - {{name: admin, key: startup-bench-key, role: admin}}
    admin_listen: {{ip: 127.0.0.1, port: {admin}}}
apisix:
  node_listen: [{{ip: 127.0.0.1, port: {proxy}}}]
  status: {{ip: 127.0.0.1, port: {status}}}
ballast:
  data_dir: {data}
fallback_cp:
  filesystem:
    path: {data}/storage
    config_bucket: config
    resource_bucket: resources
  cron_spec: '@every 1m'
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready(url):
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def one_run(jar):
    with tempfile.TemporaryDirectory(prefix="ballast-startup.") as work:
        data = os.path.join(work, "data")
        for bucket in ("config", "resources"):
            os.makedirs(os.path.join(data, "storage", bucket))
        status = free_port()
        config = os.path.join(work, "config.yaml")
        with open(config, "w") as f:
            f.write(CONFIG.format(admin=free_port(), proxy=free_port(), status=status, data=data))
        started = time.perf_counter()
        node = subprocess.Popen(["java", "-jar", jar, "-c", config],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while not ready(f"http://127.0.0.1:{status}/status/ready"):
                if time.perf_counter() - started > 60 or node.poll() is not None:
                    sys.exit(f"{jar}: not ready within 60 s (exit code {node.poll()})")
                time.sleep(0.005)
            return (time.perf_counter() - started) * 1000
        finally:
            node.kill()
            node.wait()


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    jars = sys.argv[2:] or ["service/target/ballast.jar"]
    samples = {jar: [] for jar in jars}
    for i in range(runs):
        for jar in jars:
            samples[jar].append(one_run(jar))
            print(f"run {i} {jar}: {samples[jar][-1]:.0f} ms", flush=True)
    for jar, values in samples.items():
        print(f"{jar}: median {statistics.median(values):.0f} ms, "
              f"min {min(values):.0f} ms, max {max(values):.0f} ms over {runs} runs")


if __name__ == "__main__":
    main()
