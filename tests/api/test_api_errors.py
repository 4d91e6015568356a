"""Bad input is a 400/404 naming the parameter, never a 500; caching and ETags;
special test ids; a database that goes away gives 503 and comes back."""
from __future__ import annotations

import os
import shutil
import urllib.parse

import pytest
import sqlalchemy as sa

from api_helpers import iso, START, END
from health_api.app import create_app
from health_api.config import Config
from health_api.db.session import make_engine
from streams import ingest, stream

BAD = [
    ("/api/v1/runs/over_time?key=no_such_key", 400, "key"),
    ("/api/v1/runs/over_time", 400, "key"),
    ("/api/v1/runs/over_time?key=build_name&start=yesterday", 400, "start"),
    ("/api/v1/runs/over_time?key=build_name&stop=2026-13-45", 400, "stop"),
    (f"/api/v1/runs/over_time?key=build_name&start={iso(END)}&stop={iso(START)}", 400, "stop"),
    ("/api/v1/runs/over_time?key=build_name&resolution=week", 400, "resolution"),
    ("/api/v1/runs/over_time?key=build_name&resolution=sec&start=2026-10-01&stop=2026-10-03",
     400, "resolution"),
    ("/api/v1/runs/over_time?key=build_name&meta=nocolon", 400, "meta"),
    ("/api/v1/runs/over_time?key=build_name&meta=unknown:x", 400, "meta"),
    ("/api/v1/runs?limit=0", 400, "limit"),
    ("/api/v1/runs?limit=100000", 400, "limit"),
    ("/api/v1/runs?limit=ten", 400, "limit"),
    ("/api/v1/runs?offset=-1", 400, "offset"),
    ("/api/v1/runs?offset=1e3", 400, "offset"),
    ("/api/v1/runs?limit=1&limit=2", 400, "limit"),
    ("/api/v1/runs?outcome=maybe", 400, "outcome"),
    ("/api/v1/runs/no-such-run", 404, "run_id"),
    ("/api/v1/jobs/no-such-job", 404, "name"),
    ("/api/v1/jobs/no-such-job/tests", 404, "name"),
    ("/api/v1/jobs?start=0001-01-01", 400, "start"),
    ("/api/v1/tests/a/b%2Fc", 404, "test_id"),
    ("/api/v1/tests/100%25", 404, "test_id"),
    ("/api/v1/tests/" + urllib.parse.quote("tést.ünï"), 404, "test_id"),
    ("/api/v1/tests/" + urllib.parse.quote("<script>alert(1)</script>"), 404, "test_id"),
    ("/api/v1/tests?mode=regex", 400, "mode"),
    ("/api/v1/tests?q=" + "x" * 300, 400, "q"),
    ("/api/v1/metadata/values?key=nope", 400, "key"),
    ("/api/v1/feeds/failures/atom?key=build_name", 400, "value"),
    ("/runs/group_by/build_name?datetime_resolution=fortnight", 400, "datetime_resolution"),
    ("/test_runs/x?start_date=garbage", 400, "start_date"),
    ("/test_runs/x?start_date=2026-10-02T00:00:00Z&stop_date=2026-10-01T00:00:00Z", 400,
     "stop_date"),
    ("/test_runs/x?datetime_resolution=week", 400, "datetime_resolution"),
    ("/tests/prefix/x?limit=-5", 400, "limit"),
    ("/build_name/x/test_runs?datetime_resolution=week", 400, "datetime_resolution"),
    (f"/build_name/x/test_runs?start_date={iso(END)}&stop_date={iso(START)}", 400, "stop_date"),
    ("/build_name/x/test_runs?datetime_resolution=min&stop_date=yesterday", 400, "stop_date"),
    ("/runs/key/build_name/x/recent/detail?num_runs=0", 400, "num_runs"),
    ("/runs/key/build_name/x/recent/detail?num_runs=101", 400, "num_runs"),
    # an empty filter reached the query as None; NUL is not text on PostgreSQL (issue 16)
    ("/api/v1/runs?meta=", 400, "meta"),
    ("/api/v1/failures/recent?meta=", 400, "meta"),
    ("/api/v1/runs/over_time?key=build_name&meta=", 400, "meta"),
    ("/api/v1/runs?meta=build_name:%00", 400, "meta"),
    ("/api/v1/runs/over_time?key=build_name%00", 400, "key"),
]


@pytest.mark.parametrize("url,status,field", BAD)
def test_bad_input(client, url, status, field):
    r = client.get(url)
    assert r.status_code == status, r.data
    body = r.get_json()
    assert body["error"]["field"] == field and body["error"]["message"]


def test_unknown_route_is_json_404(client):
    r = client.get("/api/v1/nope")
    assert r.status_code == 404 and r.get_json()["error"]["message"]


SPECIAL = ["pkg.test_a/b", "pkg.test_100%_done", "pkg.tëst_ünïcode_✓", "pkg.<script>alert(1)</script>",
           "pkg.test_under_score"]


def test_special_test_ids(db_url):
    ingest(db_url, stream(*[(t, "fail" if i == 0 else "success") for i, t in enumerate(SPECIAL)]),
           "--run-meta", "build_name=special-job")
    client = create_app(db_url=db_url, config=Config(environ={"CI_HEALTH_CACHE_DISABLED": "1"})).test_client()
    for test_id in SPECIAL:
        r = client.get("/api/v1/tests/" + urllib.parse.quote(test_id, safe="")
                       + "?start=2026-09-30&stop=2026-10-03")
        assert r.status_code == 200, (test_id, r.data)
        data = r.get_json()
        assert data["test"]["test_id"] == test_id
        total = sum(p["success"] + p["failure"] for p in data["points"])
        assert total == 1
    hits = client.get("/api/v1/tests?mode=substring&q=" + urllib.parse.quote("%")).get_json()
    assert [t["test_id"] for t in hits["tests"]] == ["pkg.test_100%_done"]
    hits = client.get("/api/v1/tests?q=" + urllib.parse.quote("pkg.të")).get_json()
    assert [t["test_id"] for t in hits["tests"]] == ["pkg.tëst_ünïcode_✓"]
    hits = client.get("/api/v1/tests?mode=substring&q=_under").get_json()
    assert [t["test_id"] for t in hits["tests"]] == ["pkg.test_under_score"]
    assert client.get("/api/v1/jobs/special-job").status_code == 200


def test_cache_etag_and_keys(db_url):
    app = create_app(db_url=db_url, config=Config(environ={}))
    client = app.test_client()
    ingest(db_url, stream(("t.a", "success")), "--run-meta", "build_name=a", "--run-meta",
           "project=p")
    first = client.get("/api/v1/runs?meta=build_name:a")
    assert first.status_code == 200 and first.headers["ETag"]
    assert "max-age" in first.headers["Cache-Control"]
    again = client.get("/api/v1/runs?meta=build_name:a",
                       headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    ingest(db_url, stream(("t.a", "fail")), "--run-meta", "build_name=a", "--run-meta",
           "project=q")
    # served from the cache: the same answer until it expires
    assert client.get("/api/v1/runs?meta=build_name:a").get_json()["total"] == 1
    # every parameter is part of the key, repeated ones included
    assert client.get("/api/v1/runs?meta=build_name:a&meta=project:q").get_json()["total"] == 1
    assert client.get("/api/v1/runs?meta=build_name:a&limit=5").get_json()["total"] == 2
    assert client.get("/api/v1/runs?meta=build_name:a",
                      headers={"Cache-Control": "no-cache"}).get_json()["total"] == 2
    assert client.get("/api/v1/status").headers["Cache-Control"] == "no-cache"


def test_redis_cache_is_shared(db_url):
    import redis
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/14").ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("redis is not running on 127.0.0.1:6379")
    config = Config(environ={"CI_HEALTH_CACHE_REDIS_URL": "redis://127.0.0.1:6379/14"})
    one, two = create_app(db_url=db_url, config=config), create_app(db_url=db_url, config=config)
    from health_api.api.cache import cache
    with one.app_context():
        cache.clear()
    ingest(db_url, stream(("t.a", "success")), "--run-meta", "build_name=a")
    assert one.test_client().get("/api/v1/runs").get_json()["total"] == 1
    ingest(db_url, stream(("t.a", "success")), "--run-meta", "build_name=a")
    assert two.test_client().get("/api/v1/runs").get_json()["total"] == 1  # one's entry
    assert two.test_client().get("/api/v1/status").get_json()["cache"] == "redis"
    with one.app_context():
        cache.clear()


def test_database_goes_away_and_comes_back(db_url, tmp_path):
    ingest(db_url, stream(("t.a", "success")), "--run-meta", "build_name=a")
    client = create_app(db_url=db_url, config=Config(environ={"CI_HEALTH_CACHE_DISABLED": "1"})).test_client()
    assert client.get("/api/v1/runs").status_code == 200
    kind = make_engine(db_url).dialect.name
    url = sa.engine.make_url(db_url)
    if kind == "sqlite":
        path = url.database
        files = [s for s in ("", "-wal", "-shm") if os.path.exists(path + s)]
        for suffix in files:
            shutil.move(path + suffix, tmp_path / ("away.db" + suffix))
        try:
            down = client.get("/api/v1/runs")
            status = client.get("/api/v1/status")
        finally:
            for suffix in ("", "-wal", "-shm"):  # what SQLite created meanwhile
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)
            for suffix in files:
                shutil.move(tmp_path / ("away.db" + suffix), path + suffix)
    else:
        admin_url = url.set(database="postgres" if kind == "postgresql" else "")
        admin = make_engine(admin_url.render_as_string(hide_password=False),
                            isolation_level="AUTOCOMMIT")
        name = url.database
        with admin.connect() as conn:
            if kind == "postgresql":
                conn.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")
                conn.exec_driver_sql(f"ALTER DATABASE {name} RENAME TO {name}_away")
            else:  # MariaDB cannot rename a database: take the tables away instead
                conn.exec_driver_sql(f"CREATE DATABASE {name}_away")
                conn.exec_driver_sql(f"RENAME TABLE {name}.runs TO {name}_away.runs")
        try:
            down = client.get("/api/v1/runs")
            status = client.get("/api/v1/status")
        finally:
            with admin.connect() as conn:
                if kind == "postgresql":
                    conn.exec_driver_sql(f"ALTER DATABASE {name}_away RENAME TO {name}")
                else:
                    conn.exec_driver_sql(f"RENAME TABLE {name}_away.runs TO {name}.runs")
                    conn.exec_driver_sql(f"DROP DATABASE {name}_away")
            admin.dispose()
    assert down.status_code == 503, down.data
    assert down.get_json()["error"]["message"]
    assert status.status_code == 503 and status.get_json()["database"] == "unavailable"
    back = client.get("/api/v1/runs")
    assert back.status_code == 200 and back.get_json()["total"] == 1
    assert client.get("/api/v1/status").get_json()["database"] == "ok"


def test_serialise_plain_and_unplain_values():
    """Plain payloads are dumped as they are; numpy scalars, timestamps and
    decimals are converted one by one; NaN and infinities become null."""
    import datetime as dt
    import decimal
    import json

    import numpy as np
    import pandas as pd

    from health_api.api.cache import _serialise

    def dumped(payload):
        return json.loads(_serialise(payload, "application/json"))
    assert dumped({"a": [1, 2.5, None, "x"], "b": True}) == {"a": [1, 2.5, None, "x"], "b": True}
    assert dumped({"n": np.int64(3), "f": np.float32(0.5), "ok": np.bool_(True),
                   "d": decimal.Decimal("2"), "t": pd.Timestamp("2026-10-01 12:00"),
                   "w": dt.datetime(2026, 10, 1, 1, 2, 3)}) == {
        "n": 3, "f": 0.5, "ok": True, "d": 2, "t": "2026-10-01T12:00:00Z",
        "w": "2026-10-01T01:02:03Z"}
    assert dumped({"rate": float("nan"), "rows": [{"x": np.float64("inf")}, 1]}) == {
        "rate": None, "rows": [{"x": None}, 1]}
    # what orjson refuses (a key that is not a string, an integer past 64 bits) is
    # written all the same, by json's walk; the bytes are strict JSON either way
    assert dumped({1: float("nan"), "big": 2 ** 70, "tiny": 1e-7}) == {
        "1": None, "big": 2 ** 70, "tiny": 1e-7}
    for payload in ({"nan": float("nan")}, {1: float("-inf")}, [np.float64("nan")]):
        json.loads(_serialise(payload, "application/json"),
                   parse_constant=lambda c: pytest.fail(f"{c} in the JSON"))
    assert _serialise("<feed/>", "application/atom+xml") == b"<feed/>"
