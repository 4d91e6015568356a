"""The API reads from a real PostgreSQL streaming replica ([database] read_url,
CI_HEALTH_READ_DB) while writes go to the primary; /api/v1/status reports the
replica's lag. The standby is the one tools/standby.sh starts (make test runs
it through tools/services.sh): a missing standby is a failure, not a skip."""
from __future__ import annotations

import datetime as dt
import os
import time

import pytest
import sqlalchemy as sa

from health_api.app import create_app
from health_api.config import Config, load_config
from health_api.db.migrate import upgrade
from health_api.db.session import make_engine

from streams import ingest, stream

STANDBY = os.environ.get("CI_HEALTH_TEST_PG_STANDBY", "postgresql://postgres@127.0.0.1:5433")
UTC = dt.timezone.utc


def _wait_for(check, what: str, timeout: float = 60.0):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = check()
            if last:
                return last
        except sa.exc.OperationalError:  # the database is not on the standby yet
            pass
        time.sleep(0.2)
    pytest.fail(f"the standby at {STANDBY} did not {what} within {timeout:.0f} s "
                f"(is it running? bash tools/standby.sh)", pytrace=False)


def _runs_on(engine) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT COUNT(*) FROM runs").scalar()


def test_api_reads_from_the_replica_and_reports_its_lag(databases):
    primary_url = databases.new_url("postgresql", "replica")
    replica_url = f"{STANDBY}/{sa.make_url(primary_url).database}"
    engine = make_engine(primary_url)
    upgrade(engine)
    engine.dispose()
    start = dt.datetime.now(UTC).replace(microsecond=0) - dt.timedelta(hours=2)
    first = ingest(primary_url, stream(("pkg.a", "success"), start=start),
                   "--run-meta", "build_name=job-r")
    replica = make_engine(replica_url)
    _wait_for(lambda: _runs_on(replica) == 1, "replay the first run")

    app = create_app(db_url=primary_url, config=Config(environ={
        "CI_HEALTH_CACHE_DISABLED": "1", "CI_HEALTH_READ_DB": replica_url}))
    client = app.test_client()
    status = client.get("/api/v1/status").get_json()
    assert status["database"] == "ok"
    assert status["replica"]["streaming"] is True
    assert 0 <= status["replica"]["lag_seconds"] < 60
    assert [r["uuid"] for r in client.get("/api/v1/runs").get_json()["runs"]] == [first["uuid"]]

    # With replay paused, a run written to the primary is not served, and the lag shows.
    with replica.connect() as conn:
        conn.exec_driver_sql("SELECT pg_wal_replay_pause()")
        conn.commit()
    try:
        second = ingest(primary_url, stream(("pkg.a", "fail"), start=start + dt.timedelta(hours=1)),
                        "--run-meta", "build_name=job-r")
        time.sleep(1.5)
        assert len(client.get("/api/v1/runs").get_json()["runs"]) == 1
        paused = client.get("/api/v1/status").get_json()["replica"]
        assert paused["lag_seconds"] is not None and paused["lag_seconds"] >= 1.0
    finally:
        with replica.connect() as conn:
            conn.exec_driver_sql("SELECT pg_wal_replay_resume()")
            conn.commit()
    _wait_for(lambda: _runs_on(replica) == 2, "replay the second run")
    assert [r["uuid"] for r in client.get("/api/v1/runs").get_json()["runs"]] == [
        second["uuid"], first["uuid"]]
    assert client.get("/api/v1/status").get_json()["replica"]["lag_seconds"] < 60
    replica.dispose()


def test_without_replica_status_says_null(databases):
    url = databases.new_url("postgresql", "noreplica")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    app = create_app(db_url=url, config=Config(environ={"CI_HEALTH_CACHE_DISABLED": "1"}))
    assert app.test_client().get("/api/v1/status").get_json()["replica"] is None


def test_read_url_list_from_config(tmp_path):
    conf = tmp_path / "ci-health.conf"
    conf.write_text("[database]\nurl = sqlite:///x.db\n"
                    "read_url = postgresql://a/db , postgresql://b/db\n")
    assert load_config(conf, environ={}).read_urls == ["postgresql://a/db", "postgresql://b/db"]
    assert load_config(conf, environ={"CI_HEALTH_READ_DB": "postgresql://c/db"}).read_urls == [
        "postgresql://c/db"]
    assert load_config(conf, environ={}).db_url == "sqlite:///x.db"
