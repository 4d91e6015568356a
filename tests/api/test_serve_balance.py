"""`ci-health serve` spreads kept-alive connections over its workers.

A client that keeps its connection alive (a proxy's upstream pool, a browser, the
load bench) is served by the worker that accepted it for as long as it lasts. With
gunicorn's own gthread worker, a burst of new connections went mostly to whichever
worker woke first (bench/load.py: two of four workers served 90% of the requests);
health_api.serve_worker makes a worker with requests in flight step back before it
accepts another, so that an idler worker takes it.
"""
from __future__ import annotations

import collections
import http.client
import time
import urllib.parse
import urllib.request

from streams import start_server

#: more workers than this machine's 2 cores, as in bench/load.py: the first worker the
#: scheduler runs used to take most of a burst before the others ran at all
WORKERS = 4
CONNECTIONS = 8
#: enough bursts to judge by their average: the scheduler decides who runs when, and on
#: a loaded machine (the suite runs on 2 cores beside this server's 4 workers) even
#: with the step back one burst in 10-40 leaves 4 connections on one worker
BURSTS = 8


def _worker_of_each_connection(base: str) -> list[str]:
    """Open CONNECTIONS connections in a burst, as one client process does (wrk, a
    proxy's pool), then keep each alive over several requests: the worker (the request
    id's per-process prefix) that answered each one."""
    url = urllib.parse.urlsplit(base)
    conns = [http.client.HTTPConnection(url.hostname, url.port, timeout=30)
             for _ in range(CONNECTIONS)]
    for conn in conns:  # all in the listen backlog before any worker runs
        conn.connect()
    found: list[set[str]] = [set() for _ in conns]
    try:
        for _ in range(5):
            for conn in conns:
                conn.request("GET", "/api/v1/status")
            for slot, conn in enumerate(conns):
                response = conn.getresponse()
                response.read()
                assert response.status == 200
                found[slot].add(response.getheader("X-Request-ID")[:16])
    finally:
        for conn in conns:
            conn.close()
    assert all(len(workers) == 1 for workers in found), found  # kept alive: one worker each
    return [workers.pop() for workers in found]


def _wait_for_workers(base: str, count: int) -> None:
    """Each worker loads the app after the fork: until it has, it accepts nothing."""
    seen: set[str] = set()
    deadline = time.monotonic() + 90
    while len(seen) < count:
        assert time.monotonic() < deadline, f"{len(seen)} of {count} workers answered"
        with urllib.request.urlopen(base + "/api/v1/status", timeout=10) as response:
            seen.add(response.headers["X-Request-ID"][:16])
        time.sleep(0.05)


def test_kept_alive_connections_spread_over_the_workers(migrated_urls, tmp_path):
    proc, base = start_server(migrated_urls("sqlite"), tmp_path / "serve.log", workers=WORKERS)
    try:
        _wait_for_workers(base, WORKERS)
        bursts = [collections.Counter(_worker_of_each_connection(base)) for _ in range(BURSTS)]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # 2 each at best. Measured on this kind of machine, 40-80 bursts each way: with the
    # step back, the busiest worker of a burst took 2-3 connections, and 4 in 1 burst of
    # 40 (quiet or 2 busy processes) to 8 of 80 (4 busy processes). Without it, 4 or
    # more in 30 of 40 bursts and 5 or more in half of them (mean 5.3-6.1). One burst
    # of 5 did come with it, under the whole suite on 2 cores (the busiest of the other
    # bursts 3): one burst over 4 is the scheduler's, two are not.
    busiest = sorted(max(per_worker.values()) for per_worker in bursts)
    assert busiest[-2] <= 4 and sum(busiest) / len(busiest) <= 3.4, bursts
