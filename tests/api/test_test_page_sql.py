"""/api/v1/tests/<id> finer than a day sums its buckets in SQL (queries.tests.bucket_counts)
instead of reading every result of the test into pandas: its answers equal the per-result
path's (raw_results + test_series_raw, the reference kept for this), on every engine."""
from __future__ import annotations

import datetime as dt
import math

import pytest
import sqlalchemy as sa

from health_api.analytics import buckets, series
from health_api.api import reports
from health_api.db import models as m
from health_api.db.session import make_engine
from health_api.queries import tests as tq

from api_helpers import END


def reference_series(conn, test_db_id, start, stop, resolution, window):
    """The per-result path the test page used before: every result of the window."""
    start, stop = buckets.snap(start, stop, resolution)
    lead = buckets.lead_start(start, resolution, window)
    return series.test_series_raw(tq.raw_results(conn, test_db_id, lead, stop),
                                  start, stop, resolution, window)


def served_series(conn, test_db_id, start, stop, resolution, window):
    start, stop = buckets.snap(start, stop, resolution)
    return reports._test_series(conn, test_db_id, start, stop, resolution, window)


def assert_same(got, want):
    """Counts, buckets and rates exactly; floats to the last few ulps (SQL and pandas
    add the same run times in another order)."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys()
        for k in want:
            assert_same(got[k], want[k])
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want)
        for a, b in zip(got, want):
            assert_same(a, b)
    elif isinstance(want, float) and not isinstance(want, bool):
        assert isinstance(got, (int, float)) and math.isclose(got, want, rel_tol=1e-9,
                                                              abs_tol=1e-9), (got, want)
    else:
        assert got == want and type(got) is type(want), (got, want)


@pytest.mark.parametrize("resolution,window,days", [("hour", 24, 3), ("hour", 1, 2),
                                                    ("min", 60, 1)])
def test_test_page_equals_per_result_path(demo_url, resolution, window, days):
    engine = make_engine(demo_url)
    try:
        with engine.connect() as conn:
            ids = [r[0] for r in conn.execute(sa.select(m.tests.c.id).order_by(m.tests.c.id))]
            assert ids
            checked = 0
            for test_db_id in ids[:: max(1, len(ids) // 12)]:
                want = reference_series(conn, test_db_id, END - dt.timedelta(days=days), END,
                                        resolution, window)
                got = served_series(conn, test_db_id, END - dt.timedelta(days=days), END,
                                    resolution, window)
                assert_same(got, want)
                checked += want["summary"]["runs"]
            assert checked > 0  # results were compared, not only empty series
    finally:
        engine.dispose()


def test_test_page_edge_results(db_url, engine):
    """Every status class, a status of no class, a result without a stop time (not
    timed), microsecond columns, results at bucket edges and outside the window."""
    t0 = dt.datetime(2026, 10, 3, 10, 0, 0)
    with engine.begin() as conn:
        conn.execute(sa.insert(m.tests), [{"id": 1, "test_id": "pkg.T.test_edge", "run_count": 0,
                                           "success": 0, "failure": 0}])
        rows = []
        cases = [("success", 0, 3, 120000, 870000), ("success", 59 * 60 + 59, 1, 999999, 1),
                 ("xfail", 60 * 60, 2, 0, 500000), ("fail", 61 * 60, 4, 0, 0),
                 ("uxsuccess", 62 * 60, 0, 250000, 250000), ("skip", 63 * 60, 0, 0, 0),
                 ("inprogress", 64 * 60, 1, 0, 0), ("success", 65 * 60, None, 0, None),
                 ("success", -2 * 86400, 5, 0, 0), ("success", 3 * 60 * 60, 7, 10, 20)]
        for i, (status, offset, took, us0, us1) in enumerate(cases):
            start = t0 + dt.timedelta(seconds=offset)
            rows.append({"id": i + 1, "test_id": 1, "run_id": i + 1, "status": status,
                         "start_time": start,
                         "stop_time": None if took is None else start + dt.timedelta(seconds=took),
                         "start_time_microsecond": us0, "stop_time_microsecond": us1})
        conn.execute(sa.insert(m.runs), [{"id": r["id"], "uuid": f"edge-run-{r['id']}",
                                          "run_at": r["start_time"], "passes": 0, "fails": 0,
                                          "skips": 0} for r in rows])
        conn.execute(sa.insert(m.test_runs), rows)
    with engine.connect() as conn:
        for resolution, window in (("hour", 3), ("min", 5), ("sec", 2)):
            span = dt.timedelta(hours=1) if resolution == "sec" else dt.timedelta(hours=6)
            start = (t0 + dt.timedelta(minutes=30) if resolution == "sec"
                     else t0 - dt.timedelta(hours=1))
            want = reference_series(conn, 1, start, start + span, resolution, window)
            got = served_series(conn, 1, start, start + span, resolution, window)
            assert_same(got, want)
        want = reference_series(conn, 1, t0 - dt.timedelta(hours=1),
                                t0 + dt.timedelta(hours=5), "hour", 3)
        assert want["summary"]["runs"] == 8  # the case list reached the window
        assert want["summary"]["mean_run_time"] is not None
