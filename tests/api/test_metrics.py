"""Issue 16 observability: each figure /metrics promises moves when it should
(ingest rate and failures, cache hits and misses, DB pool use), on every engine."""
from __future__ import annotations

import pytest

from api_helpers import no_cache_config
from health_api.app import create_app
from health_api.config import Config
from health_api.ingest import service
from health_api.ingest.records import DeadlockError
from health_api.tokens import create_token
from streams import stream


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


@pytest.fixture(autouse=True)
def _no_multiprocess_dir(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
