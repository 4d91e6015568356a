"""/api/v1/jobs: each job's 95th percentile run time comes from PostgreSQL's
percentile_cont in the summary's own GROUP BY instead of every run's time through
pandas; the other engines keep the per-run path. Both answer what the per-run
path answers."""
from __future__ import annotations

import datetime as dt
import math

import pytest

from health_api.analytics import series
from health_api.api import reports
from health_api.db.session import make_engine
from health_api.queries import jobs as jq

from api_helpers import END, START


@pytest.mark.parametrize("hours", [72, 36, 5])
def test_jobs_summary_p95_equals_per_run_path(demo_url, hours):
    engine = make_engine(demo_url)
    start = END - dt.timedelta(hours=hours)
    try:
        with engine.connect() as conn:
            want = dict(series.run_time_p95(jq.run_times(conn, start, END)))
            rows = jq.summary(conn, start - (END - start), start, END)
            in_sql = ([(r[0], r[8]) for r in rows if r[1] == 1]
                      if jq.p95_in_summary(conn) else None)
            assert (in_sql is not None) == (engine.dialect.name == "postgresql")
            served = reports.jobs_summary(conn, start, END)
    finally:
        engine.dispose()
    assert want  # runs with run times were compared
    if in_sql is not None:
        assert {job for job, _ in in_sql} == set(want)
        for job, p95 in in_sql:
            assert math.isclose(p95, want[job], rel_tol=1e-12), (job, p95, want[job])
    for job in served["jobs"]:
        if job["runs"]:
            assert math.isclose(job["p95_run_time"], want[job["job"]], rel_tol=1e-12)
        else:
            assert job["p95_run_time"] is None


def test_jobs_summary_rows_without_a_current_period():
    """A job that ran only in the previous period: zero counts, no run times, its
    previous rate; MySQL's Decimal sums and means read as numbers."""
    from decimal import Decimal
    last = dt.datetime(2026, 10, 3, 12)
    rows = [("a", 0, Decimal(2), Decimal(1), Decimal(0), 3, Decimal("10.5"), last),
            ("b", 1, 1, 0, 0, 1, None, START)]
    out = series.job_summary(rows, {"b": 4.0})
    assert [j["job"] for j in out] == ["a", "b"]
    a, b = out
    assert (a["runs"], a["passed"], a["failed"], a["mean_run_time"], a["p95_run_time"]) \
        == (0, 0, 0, None, None)
    assert a["previous"]["n"] == 3 and a["change"] is None
    assert a["last_run_at"] is not None
    assert (b["runs"], b["passed"], b["mean_run_time"], b["p95_run_time"]) == (1, 1, None, 4.0)
