"""Issue 16, "Faults": the response cache's Redis killed under load. Every
request is still answered 200 (the API computes what the cache held), from
the same workers."""
from __future__ import annotations

import statistics
import time

import pytest

from fault_helpers import Load, eventually, worker_pids
from streams import ingest, start_server, stream

PATHS = ["/api/v1/runs", "/api/v1/jobs", "/api/v1/failures/recent",
         "/api/v1/runs/over_time?key=build_name", "/api/v1/metadata/keys"]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_redis_killed_under_load(db_url, private_redis, tmp_path):
    for job in ("a", "b", "c"):
        ingest(db_url, stream(("t.a", "success"), ("t.b", "fail")), "--run-meta",
               f"build_name={job}")
    proc, base = start_server(db_url, tmp_path / "serve.log", workers=2,
                              env={"CI_HEALTH_CACHE_DISABLED": "false",
                                   "CI_HEALTH_CACHE_REDIS_URL": private_redis.url})
    load = Load(base, PATHS, threads=4, timeout=30)
    try:
        workers = worker_pids(proc.pid)
        assert eventually(lambda: len(load.answers) >= 200, 60)
        killed = time.monotonic()
        private_redis.kill()
        assert eventually(lambda: len(load.since(killed)) >= 200, 60)
        answers = load.finish()
        statuses = {a[2] for a in answers}
        assert statuses == {200}, f"statuses {statuses}: {(tmp_path / 'serve.log').read_text()[-2000:]}"
        assert worker_pids(proc.pid) == workers
        before = [a[3] for a in answers if a[0] < killed]
        after = [a[3] for a in answers if a[0] >= killed]
        print(f"redis killed: {len(before)} answers before, {len(after)} after, all 200; median "
              f"{statistics.median(before) * 1000:.1f} ms before, "
              f"{statistics.median(after) * 1000:.1f} ms after")
    finally:
        load.finish()
        proc.terminate()
        proc.wait(30)
