#!/usr/bin/env python3
"""CP -> DP propagation: time from an Admin API write's response to the DP serving the route.

Start a control plane and a data plane first (examples/control-plane.yaml and
examples/data-plane.yaml) and an upstream on 127.0.0.1:18080, e.g.
`python3 -m http.server 18080 --bind 127.0.0.1`. Then:
  BALLAST_ADMIN_KEY=... bench/propagation.py [rounds]
Prints one line per round and the median and 95th percentile.
"""
import json
import os
import statistics
import sys
import time
import urllib.error
import urllib.request

ADMIN = os.environ.get("ADMIN_URL", "http://127.0.0.1:9180")
PROXY = os.environ.get("PROXY_URL", "http://127.0.0.1:9080")
UPSTREAM = os.environ.get("UPSTREAM", "127.0.0.1:18080")
KEY = os.environ["BALLAST_ADMIN_KEY"]


def routed(url):
    """True once the DP has a route for url: anything but its own 404 Route Not Found."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError as e:
        return b"Route Not Found" not in e.read()


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    run = int(time.time())
    samples = []
    for i in range(rounds):
        path = f"/bench-{run}-{i}"
        body = json.dumps({"uri": path, "upstream": {"nodes": {UPSTREAM: 1}}}).encode()
        request = urllib.request.Request(
            f"{ADMIN}/apisix/admin/routes/bench-{run}-{i}", data=body, method="PUT",
            headers={"X-API-KEY": KEY, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status in (200, 201), response.status
        written = time.perf_counter()
        deadline = written + 10
        while not routed(PROXY + path):
            if time.perf_counter() > deadline:
                sys.exit(f"round {i}: the DP did not serve {path} within 10 s")
        samples.append((time.perf_counter() - written) * 1000)
        print(f"round {i}: {samples[-1]:.1f} ms")
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    print(f"propagation over {rounds} writes: median {statistics.median(samples):.1f} ms, "
          f"p95 {p95:.1f} ms, max {samples[-1]:.1f} ms")


if __name__ == "__main__":
    main()
