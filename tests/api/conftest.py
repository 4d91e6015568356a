"""API fixtures: one demo-data database per engine for the session (read-only
tests), the Flask app over it, and raw rows to compute expectations from."""
from __future__ import annotations

from collections import defaultdict

import pytest
import sqlalchemy as sa

from health_api.app import create_app
from health_api.db import models as m
from health_api.db.migrate import upgrade
from health_api.db.session import make_engine
from health_api.demo.gate import generate

from api_helpers import END, START, iso, no_cache_config  # noqa: F401
from engines import ENGINES



@pytest.fixture(scope="session", params=ENGINES)
def demo_url(request, databases):
    url = databases.new_url(request.param, "demo")
    engine = make_engine(url)
    upgrade(engine)
    generate(engine, days=3, jobs=4, runs_per_day=3, seed=1, end=END)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def raw(demo_url):
    """Everything the expectations are computed from, read with plain selects."""
    engine = make_engine(demo_url)
    with engine.connect() as conn:
        runs = [dict(r._mapping) for r in conn.execute(sa.select(m.runs))]
        meta = defaultdict(dict)
        for run_id, k, v in conn.execute(sa.select(m.run_metadata.c.run_id, m.run_metadata.c.key,
                                                   m.run_metadata.c.value)):
            meta[run_id][k] = v
        tests = {i: t for i, t in conn.execute(sa.select(m.tests.c.id, m.tests.c.test_id))}
        results = [dict(r._mapping) for r in conn.execute(
            sa.select(m.test_runs.c.id, m.test_runs.c.test_id, m.test_runs.c.run_id,
                      m.test_runs.c.status, m.test_runs.c.start_time))]
        attachments = {r.test_run_id: bytes(r.attachment) for r in conn.execute(
            sa.select(m.attachments.c.test_run_id, m.attachments.c.attachment))}
    engine.dispose()
    for run in runs:
        run["meta"] = meta[run["id"]]
        f, p = run["fails"] or 0, run["passes"] or 0
        run["outcome"] = "failed" if f > 0 else "passed" if p > 0 else "empty"
    return {"runs": runs, "tests": tests, "results": results, "attachments": attachments}


@pytest.fixture(scope="session")
def app(demo_url):
    return create_app(db_url=demo_url, config=no_cache_config())


@pytest.fixture
def client(app):
    return app.test_client()
