#!/usr/bin/env python3
"""DP cold start from storage: process start to the first proxied answer of a stored route.

Needs a control plane that has exported at least one route to the storage folder of
examples/data-plane-standalone.yaml (run it with examples/control-plane.yaml and wait for one
cron_spec tick). Then, from the folder holding data/storage:
  bench/cold_start.py service/target/ballast.jar examples/data-plane-standalone.yaml /path [runs]
Each run starts the standalone DP with an empty local cache, so it must read storage.
"""
import shutil
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request

PROXY = "http://127.0.0.1:9081"


def routed(url):
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except urllib.error.HTTPError as e:
        return b"Route Not Found" not in e.read()
    except OSError:
        return False  # not listening yet


def main():
    jar, config, path = sys.argv[1:4]
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    samples = []
    for i in range(runs):
        shutil.rmtree("data/dp-standalone", ignore_errors=True)
        started = time.perf_counter()
        node = subprocess.Popen(["java", "-jar", jar, "-c", config],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = started + 60
            while not routed(PROXY + path):
                if time.perf_counter() > deadline or node.poll() is not None:
                    sys.exit(f"run {i}: no answer for {path} within 60 s")
                time.sleep(0.01)
            samples.append((time.perf_counter() - started) * 1000)
            print(f"run {i}: {samples[-1]:.0f} ms")
        finally:
            node.kill()
            node.wait()
    print(f"cold start over {runs} runs: median {statistics.median(samples):.0f} ms, "
          f"min {min(samples):.0f} ms, max {max(samples):.0f} ms")


if __name__ == "__main__":
    main()
