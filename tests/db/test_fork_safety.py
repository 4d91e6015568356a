"""Pooled connections never cross a fork.

`ci-health serve` opens the engine in gunicorn's master (to check the schema)
and then forks the workers: a worker that reused the master's pooled
connection would share one socket with its sibling (requests hung for the
gunicorn timeout, then failed with "connection in transaction status").
"""
from __future__ import annotations

import concurrent.futures
import os
import urllib.request

import pytest

from health_api.db.session import dispose_engines, get_engine

from streams import start_server

POOLED = ("postgresql", "mysql")
BACKEND_ID = {"postgresql": "SELECT pg_backend_pid()", "mysql": "SELECT CONNECTION_ID()"}


@pytest.fixture(params=POOLED)
def pooled_url(request, migrated_urls):
    yield migrated_urls(request.param)
    dispose_engines()


def test_forked_child_gets_its_own_connection(pooled_url):
    engine = get_engine(pooled_url)
    query = BACKEND_ID[engine.dialect.name]
    with engine.connect() as conn:  # leaves one connection in the pool
        parent_id = conn.exec_driver_sql(query).scalar()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its backend, never return into pytest
        code = 1
        try:
            with get_engine(pooled_url).connect() as conn:
                os.write(write, str(conn.exec_driver_sql(query).scalar()).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as pipe:
        child_id = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert child_id and int(child_id) != parent_id
    # the parent's pooled connection survived the child
    with engine.connect() as conn:
        assert conn.exec_driver_sql(query).scalar() == parent_id


def test_serve_workers_answer_concurrent_first_requests(pooled_url, tmp_path):
    log = tmp_path / "serve.log"
    proc, base = start_server(pooled_url, log, workers=2)
    try:
        paths = ["/api/v1/status", "/api/v1/metadata/keys", "/api/v1/failures/recent?limit=5",
                 "/api/v1/runs?limit=5", "/api/v1/jobs"] * 8

        def fetch(path: str) -> int:
            with urllib.request.urlopen(base + path, timeout=20) as response:
                response.read()
                return response.status
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(fetch, paths))
        assert statuses == [200] * len(paths), log.read_text()[-3000:]
        assert "Traceback" not in log.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
