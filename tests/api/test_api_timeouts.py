"""Issue 16 defect 3: a hung database (reachable, never answering) costs a
request at most the configured timeout and is answered 503 JSON; the static
dashboard and /api/v1/status keep answering."""
from __future__ import annotations

import socket
import threading
import time

import pytest
import sqlalchemy as sa

from api_helpers import no_cache_config
from health_api.app import create_app
from health_api.db.session import make_engine
from streams import ingest, stream


class SilentServer:
    """Accepts TCP connections and never sends a byte: a hung database server."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self):
        self.closed = True
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def silent_server():
    server = SilentServer()
    yield server
    server.close()


def _timed(client, url):
    started = time.monotonic()
    response = client.get(url)
    return response, time.monotonic() - started


@pytest.mark.parametrize("scheme", ["postgresql", "mysql"])
def test_hung_server_is_503_within_the_connect_timeout(silent_server, scheme):
    url = f"{scheme}://root@127.0.0.1:{silent_server.port}/ci_health"
    app = create_app(db_url=url, config=no_cache_config(
        CI_HEALTH_DATABASE_CONNECT_TIMEOUT="2", CI_HEALTH_DATABASE_STATEMENT_TIMEOUT="3"))
    client = app.test_client()
    runs, seconds = _timed(client, "/api/v1/runs")
    assert runs.status_code == 503, runs.data
    assert runs.get_json()["error"]["message"] == "the database is unavailable; retry shortly"
    assert seconds < 8  # MariaDB: the handshake is bounded by the statement timeout
    status, seconds = _timed(client, "/api/v1/status")
    assert status.status_code == 503 and status.get_json()["database"] == "unavailable"
    assert seconds < 8  # MariaDB: the handshake is bounded by the statement timeout
    page, seconds = _timed(client, "/")
    assert page.status_code == 200 and seconds < 1
    assert client.get("/api/v1/openapi.json").status_code == 200


def _lock_runs(db_url):
    """Another session holding a lock that blocks every read of ``runs``."""
    engine = make_engine(db_url)
    conn = engine.connect()
    if engine.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE runs IN ACCESS EXCLUSIVE MODE")
    else:
        conn.exec_driver_sql("LOCK TABLES runs WRITE")
    return engine, conn


@pytest.mark.parametrize("db_url", ["postgresql", "mysql"], indirect=True)
def test_statement_blocked_by_a_lock_is_503_within_the_statement_timeout(db_url):
    ingest(db_url, stream(("t.a", "success")), "--run-meta", "build_name=a")
    app = create_app(db_url=db_url, config=no_cache_config(
        CI_HEALTH_DATABASE_STATEMENT_TIMEOUT="1.5"))
    client = app.test_client()
    assert client.get("/api/v1/runs").get_json()["total"] == 1
    engine, conn = _lock_runs(db_url)
    try:
        runs, seconds = _timed(client, "/api/v1/runs")
        page, page_seconds = _timed(client, "/")
    finally:
        if engine.dialect.name != "postgresql":
            conn.exec_driver_sql("UNLOCK TABLES")
        conn.close()
        engine.dispose()
    assert runs.status_code == 503, runs.data
    assert 1.0 < seconds < 8
    assert page.status_code == 200 and page_seconds < 1
    # and it recovers: the timed-out connection is not reused broken
    again = client.get("/api/v1/runs")
    assert again.status_code == 200 and again.get_json()["total"] == 1
    with make_engine(db_url).connect() as check:
        assert check.execute(sa.text("SELECT COUNT(*) FROM runs")).scalar() == 1
