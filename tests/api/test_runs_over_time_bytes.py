"""GET /runs/over_time answers, on every engine, the bytes of the query and pandas path it
served before issue 16 (tests/runs_over_time_reference.py): the overview's call (a window
at hour with a 24-bucket trailing rate), days, minutes, truncated groups, metadata
filters, a window with no run and one whose only runs are in the trailing lead-in."""
from __future__ import annotations

import datetime as dt
import urllib.parse

import pytest

from health_api.analytics import buckets
from health_api.db.session import make_engine

from api_helpers import END, iso
from runs_over_time_reference import json_bytes, reference_by_value, reference_rows

DAY = dt.timedelta(days=1)
CASES = [  # key, start, stop, resolution, groups, window, meta
    ("build_name", END - 3 * DAY, END, "hour", 20, 24, []),
    ("build_name", END - 3 * DAY + dt.timedelta(minutes=7), END - dt.timedelta(minutes=53),
     "hour", 2, 24, []),
    ("project", END - 3 * DAY, END, "day", 50, 1, [("build_queue", "gate")]),
    ("node_provider", END - 3 * DAY, END, "day", 3, 7, []),
    ("node_provider", END - 3 * DAY, END, "hour", 20, 1, [("build_queue", "check")]),
    ("build_name", END - dt.timedelta(hours=6), END, "min", 20, 60, []),
    ("build_name", END + 3 * DAY, END + 4 * DAY, "hour", 20, 24, []),  # no run at all
    ("build_name", END, END + dt.timedelta(hours=5), "hour", 20, 3, []),  # lead-in only
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_runs_over_time_bytes_equal_reference(client, demo_url, case):
    key, start, stop, resolution, groups, window, meta = CASES[case]
    query = {"key": key, "start": iso(start), "stop": iso(stop), "resolution": resolution,
             "groups": groups, "window": window, "meta": [f"{k}:{v}" for k, v in meta]}
    r = client.get("/api/v1/runs/over_time?" + urllib.parse.urlencode(query, doseq=True))
    assert r.status_code == 200, r.get_json()

    first, end = buckets.snap(start, stop, resolution)
    engine = make_engine(demo_url)
    try:
        with engine.connect() as conn:
            rows = reference_rows(conn, key, buckets.lead_start(first, resolution, window), end,
                                  resolution, meta)
    finally:
        engine.dispose()
    want = {"key": key, "resolution": resolution, "start": first, "stop": end,
            "meta": query["meta"],
            **reference_by_value(rows, first, end, resolution, groups, window)}
    assert r.data == json_bytes(want)
    if case == 0:  # the overview's call compares runs, not only empty series
        assert sum(s["runs"] for s in r.get_json()["series"]) > 0
