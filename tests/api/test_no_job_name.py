"""Runs ingested without a build_name: a warning at ingest, and the job "(no job name)"
in every job view (summary, detail at both resolutions, the job's tests)."""
from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from health_api.app import create_app
from health_api.rules import NO_JOB_NAME

from api_helpers import no_cache_config
from streams import run_cli, stream

T0 = dt.datetime(2026, 9, 1, 8, 0, tzinfo=dt.timezone.utc)


def test_runs_without_build_name(db_url):
    named = stream(("pkg.test_a", "success", 2.0), ("pkg.test_b", "fail", 1.0), start=T0)
    anonymous = stream(("pkg.test_a", "success", 4.0), start=T0 + dt.timedelta(hours=2))
    ok = run_cli("ingest", "subunit", "--db", db_url, "--run-meta", "build_name=job-a", "-",
                 input=named)
    assert ok.exit_code == 0 and "warning" not in ok.stderr
    warned = run_cli("ingest", "subunit", "--db", db_url, "-", input=anonymous)
    assert warned.exit_code == 0
    assert warned.stderr.strip() == ("warning: no --run-meta build_name=...: the job views will "
                                     "show these runs as '(no job name)'")

    client = create_app(db_url=db_url, config=no_cache_config()).test_client()
    window = "start=2026-09-01T00:00:00Z&stop=2026-09-02T00:00:00Z"
    jobs = {j["job"]: j for j in client.get(f"/api/v1/jobs?{window}").get_json()["jobs"]}
    assert set(jobs) == {"job-a", NO_JOB_NAME}
    assert (jobs[NO_JOB_NAME]["runs"], jobs[NO_JOB_NAME]["passed"]) == (1, 1)
    assert (jobs["job-a"]["runs"], jobs["job-a"]["failed"]) == (1, 1)
    path = f"/api/v1/jobs/{quote(NO_JOB_NAME)}"
    for resolution in ("day", "hour"):
        detail = client.get(f"{path}?{window}&resolution={resolution}").get_json()
        assert (detail["runs"], detail["passed"], detail["mean_run_time"]) == (1, 1, 4.0)
        assert [r["passes"] for r in detail["recent_runs"]] == [1]
    tests = client.get(f"{path}/tests?{window}").get_json()
    assert [(t["test_id"], t["success"]) for t in tests["tests"]] == [("pkg.test_a", 1)]
    assert client.get("/api/v1/jobs/job-b").status_code == 404
