"""POST /api/v1/runs on every engine: token, size limit, atomicity, exit-code
meanings as HTTP statuses (issue 16 upload API)."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from api_helpers import no_cache_config
from health_api.app import create_app
from health_api.tokens import create_token, revoke_token
from streams import stream

JUNIT = (b'<?xml version="1.0"?><testsuite name="s" timestamp="2026-10-01T12:00:00">'
         b'<testcase classname="pkg.A" name="test_ok" time="0.5"/>'
         b'<testcase classname="pkg.A" name="test_bad" time="1"><failure message="x">tb'
         b'</failure></testcase></testsuite>')


def _runs(db_url) -> int:
    engine = sa.create_engine(db_url.replace("mysql://", "mysql+pymysql://")
                              .replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        total = conn.execute(sa.text("SELECT COUNT(*) FROM runs")).scalar()
        results = conn.execute(sa.text("SELECT COUNT(*) FROM test_runs")).scalar()
    engine.dispose()
    return total, results


@pytest.fixture
def upload(db_url, engine):
    app = create_app(db_url=db_url, config=no_cache_config(CI_HEALTH_API_MAX_BODY_BYTES="4096"))
    client = app.test_client()
    token_id, token = create_token(engine, "Acme CI")

    def post(body: bytes, query: str = "", auth: str | None = f"Bearer {token}"):
        headers = {"Authorization": auth} if auth else {}
        return client.post("/api/v1/runs" + query, data=body, headers=headers,
                           content_type="application/octet-stream")
    post.token_id = token_id
    return post


def test_upload_subunit_and_junit(upload, db_url):
    body = stream(("t.a", "success"), ("t.b", "fail"), ("t.c", "skip"))
    r = upload(body, "?meta=build_name:gate-job&artifacts=https://logs.example.org/1/"
                     "&run_id=1b4e28ba-2fa1-11d2-883f-0016d3cca427")
    assert r.status_code == 201, r.data
    data = r.get_json()
    assert (data["passes"], data["fails"], data["skips"], data["tests"]) == (1, 1, 1, 3)
    assert data["uuid"] == "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    # ISO 8601 in UTC like every other v1 answer, not Flask's HTTP date
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["run_at"]), data["run_at"]
    r = upload(JUNIT, "?format=junit&meta=build_name:junit-job")
    assert r.status_code == 201, r.data
    assert (r.get_json()["passes"], r.get_json()["fails"]) == (1, 1)
    assert _runs(db_url) == (2, 5)
    # a duplicate run id is a 409 and adds nothing
    r = upload(body, "?run_id=1b4e28ba-2fa1-11d2-883f-0016d3cca427")
    assert r.status_code == 409 and r.get_json()["error"]["field"] == "run_id"
    assert _runs(db_url) == (2, 5)


def test_upload_refusals_store_nothing(upload, db_url, engine):
    body = stream(("t.a", "success"))
    assert upload(body, auth=None).status_code == 401
    assert upload(body, auth="Bearer nope").status_code == 401
    r = upload(b"x" * 5000)
    assert r.status_code == 413 and r.is_json
    r = upload(b"<testsuite><testcase name='a'", "?format=junit")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "body"
    r = upload(b'<!DOCTYPE x [<!ENTITY a "aaaa">]><testsuite><testcase name="&a;"/></testsuite>',
               "?format=junit")
    assert r.status_code == 400  # entity declarations are refused
    r = upload(b"")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "body"
    r = upload(body, "?meta=")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "meta"
    r = upload(body, "?artifacts=javascript:alert(1)")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "artifacts"
    revoke_token(engine, upload.token_id)
    assert upload(body).status_code == 401
    assert _runs(db_url) == (0, 0)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_metrics_and_request_ids(upload, db_url, caplog):
    import logging
    app = create_app(db_url=db_url, config=no_cache_config())
    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="health_api.access"):
        r = client.get("/api/v1/runs", headers={"X-Request-ID": "ci-job-42"})
    assert r.headers["X-Request-ID"] == "ci-job-42"
    assert any('"request_id": "ci-job-42"' in m and '"route": "/api/v1/runs"' in m
               for m in caplog.messages)
    assert len(client.get("/api/v1/runs", headers={"X-Request-ID": "<x>"})
               .headers["X-Request-ID"]) == 32  # not a token: a new id
    assert upload(stream(("t.a", "success"), ("t.b", "success"))).status_code == 201
    text = client.get("/metrics").get_data(as_text=True)

    def value(line_start: str) -> float:
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith(line_start))
    assert value('ci_health_http_request_duration_seconds_count{method="GET",'
                 'route="/api/v1/runs",status="200"}') >= 1
    assert value('ci_health_uploads_total{format="subunit",outcome="stored"}') >= 1
    assert value("ci_health_uploaded_results_total") >= 2
    assert "ci_health_db_pool_checked_out" in text
    assert "ci_health_cache_lookups_total" in text


def test_upload_refuses_bad_times(upload, db_url):
    """Issue 16 defect 5 over HTTP: a test stopping before it starts and a run
    dated beyond a day from now are 400s, nothing stored."""
    r = upload(stream(("t.ok", "success"), ("t.back", "success", -5.0)))
    assert r.status_code == 400 and "stops before it starts" in r.get_json()["error"]["message"]
    r = upload(stream(("t.a", "success"), start=datetime(2100, 1, 1, tzinfo=timezone.utc)))
    assert r.status_code == 400 and "out of range" in r.get_json()["error"]["message"]
    r = upload(stream(("t.a", "success")), "?run_at=2199-01-01T00:00:00")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "run_at"
    # the CLI's other limits hold over HTTP too, the same on every engine
    r = upload(stream(("t." + "x" * 298, "success")))  # the fixture allows 4 kB bodies
    assert r.status_code == 400 and "300 characters" in r.get_json()["error"]["message"]
    r = upload(stream(("t.a", "success")), "?run_id=" + "r" * 40)
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "run_id"
    r = upload(stream(("t.a", "success")), "?run_at=0001-01-01T00:00:00%2B05:00")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "run_at"
    assert _runs(db_url) == (0, 0)
