"""Issue 16 observability: each figure /metrics promises moves when it should
(ingest rate and failures, cache hits and misses, DB pool use), on every engine."""
from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request

import pytest

from api_helpers import no_cache_config
from health_api.app import create_app
from health_api.config import Config
from health_api.ingest import service
from health_api.ingest.records import DeadlockError
from health_api.tokens import create_token
from streams import start_server, stream


def scrape(client) -> dict[str, float]:
    text = client.get("/metrics").get_data(as_text=True)
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines() if line.startswith("ci_health_")}


def test_ingest_rate_and_failures(db_url, engine, monkeypatch):
    client = create_app(db_url=db_url, config=no_cache_config()).test_client()
    _, token = create_token(engine, "Acme CI")
    auth = {"Authorization": f"Bearer {token}"}
    stored = 'ci_health_uploads_total{format="subunit",outcome="stored"}'
    refused = 'ci_health_uploads_total{format="subunit",outcome="refused"}'
    failed = 'ci_health_uploads_total{format="subunit",outcome="failed"}'
    results = "ci_health_uploaded_results_total"
    before = scrape(client)
    body = stream(("t.a", "success"), ("t.b", "fail"), ("t.c", "success"))
    assert client.post("/api/v1/runs", data=body, headers=auth).status_code == 201
    assert client.post("/api/v1/runs", data=b"not subunit", headers=auth).status_code == 400

    def deadlocked(*args, **kwargs):
        raise DeadlockError("deadlocked with concurrent ingests")
    monkeypatch.setattr(service, "ingest_run", deadlocked)
    assert client.post("/api/v1/runs", data=body, headers=auth).status_code == 503
    after = scrape(client)
    assert after[stored] - before.get(stored, 0) == 1
    assert after[refused] - before.get(refused, 0) == 1
    assert after[failed] - before.get(failed, 0) == 1
    assert after[results] - before.get(results, 0) == 3


def test_cache_hit_rate(db_url):
    client = create_app(db_url=db_url, config=Config(environ={})).test_client()
    hit, miss = ('ci_health_cache_lookups_total{result="hit"}',
                 'ci_health_cache_lookups_total{result="miss"}')
    before = scrape(client)
    for _ in range(3):
        assert client.get("/api/v1/runs?limit=7").status_code == 200
    after = scrape(client)
    assert after[miss] - before.get(miss, 0) == 1
    assert after[hit] - before.get(hit, 0) == 2


def test_db_pool_use(db_url, engine):
    app = create_app(db_url=db_url, config=no_cache_config())
    client = app.test_client()
    assert client.get("/api/v1/runs").status_code == 200
    pool = app.extensions["ci_health_engine"].pool
    if engine.dialect.name == "sqlite":
        # a fresh connection per request (NullPool): no pool to size
        assert scrape(client)["ci_health_db_pool_size"] == 0
        return
    idle = scrape(client)
    assert idle["ci_health_db_pool_size"] == pool.size() > 0
    with app.extensions["ci_health_engine"].connect(), \
            app.extensions["ci_health_engine"].connect():
        busy = scrape(client)
    assert busy["ci_health_db_pool_checked_out"] == idle["ci_health_db_pool_checked_out"] + 2


def pool_series(base: str) -> dict[str, dict[str, float]]:
    """{metric: {pid: value}} of the pool gauges in one scrape of a served app."""
    text = urllib.request.urlopen(base + "/metrics", timeout=30).read().decode()
    out: dict[str, dict[str, float]] = {"ci_health_db_pool_size": {},
                                        "ci_health_db_pool_checked_out": {}}
    for line in text.splitlines():
        name, _, rest = line.partition("{")
        if name in out:
            labels, value = rest.rsplit("} ", 1)
            pid = dict(kv.split("=", 1) for kv in labels.split(","))["pid"].strip('"')
            out[name][pid] = float(value)
    return out


def worker_pids(master: int) -> set[str]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return set(out.split())


def wait_for(check, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


def test_db_pool_per_worker_multiprocess(db_url, tmp_path):
    """2 gunicorn workers in multiprocess mode: whichever worker answers, the scrape
    lists both workers' pools (one series per pid, the configured size); a worker
    that exits leaves no series and its replacement appears."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    proc, base = start_server(db_url, tmp_path / "serve.log", workers=2,
                              env={"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)})
    try:
        pids = wait_for(lambda: len(worker_pids(proc.pid)) == 2 and worker_pids(proc.pid))
        assert len(pids) == 2
        for _ in range(20):  # reads on both workers (each takes and returns connections)
            assert urllib.request.urlopen(base + "/api/v1/runs", timeout=30).status == 200
        sqlite = db_url.startswith("sqlite")
        # A worker's series appears at 0 when it imports the metrics (prometheus_client
        # writes the key then) and takes its pool's size once its app is built: a
        # worker still starting lists 0 for a moment. Wait until each has its pool.
        series = wait_for(lambda: (s := pool_series(base))["ci_health_db_pool_size"].keys()
                          == pids and (sqlite or all(s["ci_health_db_pool_size"].values()))
                          and s)
        assert series, pool_series(base)
        sizes = set(series["ci_health_db_pool_size"].values())
        if sqlite:
            assert sizes == {0.0}  # a connection per request (NullPool)
        else:
            assert len(sizes) == 1 and sizes.pop() > 0
        # idle: every connection a request took is back
        assert series["ci_health_db_pool_checked_out"] == {pid: 0.0 for pid in pids}
        gone = sorted(pids)[0]
        os.kill(int(gone), signal.SIGKILL)
        renewed = wait_for(lambda: len(worker_pids(proc.pid)) == 2
                           and gone not in worker_pids(proc.pid) and worker_pids(proc.pid))
        assert renewed and gone not in renewed
        after = wait_for(lambda: (s := pool_series(base))["ci_health_db_pool_size"].keys()
                         == renewed and s)
        assert after, (renewed, pool_series(base))
        assert gone not in after["ci_health_db_pool_checked_out"]
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.fixture(autouse=True)
def _no_multiprocess_dir(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
