"""Unit tests of the pandas layer: buckets, Wilson intervals, rolling stats, JSON cleaning."""
from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from health_api.analytics import buckets, rates, runtime, series
from health_api.analytics.jsonsafe import clean, records


def test_floor_and_keys():
    ts = dt.datetime(2026, 10, 1, 13, 45, 12, 999)
    assert buckets.key(buckets.floor(ts, "sec")) == "2026-10-01T13:45:12Z"
    assert buckets.key(buckets.floor(ts, "min")) == "2026-10-01T13:45:00Z"
    assert buckets.key(buckets.floor(ts, "hour")) == "2026-10-01T13:00:00Z"
    assert buckets.key(buckets.floor(ts, "day")) == "2026-10-01T00:00:00Z"
    assert buckets.ceil(dt.datetime(2026, 10, 1), "day") == dt.datetime(2026, 10, 1)
    assert buckets.ceil(ts, "day") == dt.datetime(2026, 10, 2)


@given(st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)))
@settings(max_examples=500)
def test_key_is_the_strftime_key(ts):
    # buckets.key writes by isoformat where that gives strftime's text (a speed-up)
    assert buckets.key(ts) == ts.strftime(buckets.KEY_FORMAT)
    assert buckets.key(pd.Timestamp(ts).to_pydatetime()) == ts.strftime(buckets.KEY_FORMAT)


def test_grid_has_every_bucket():
    start, stop = dt.datetime(2026, 10, 1, 0, 30), dt.datetime(2026, 10, 1, 3, 0)
    assert buckets.keys(buckets.grid(start, stop, "hour")) == [
        "2026-10-01T00:00:00Z", "2026-10-01T01:00:00Z", "2026-10-01T02:00:00Z"]
    assert len(buckets.grid(dt.datetime(2026, 10, 1), dt.datetime(2026, 10, 31), "day")) == 30


def test_rate_without_runs_is_null():
    assert rates.rate(0, 0) == {"failure_rate": None, "n": 0, "ci_low": None, "ci_high": None}
    frame = rates.rate_columns(pd.DataFrame({"failed": [0, 3], "passed": [0, 1]}))
    assert math.isnan(frame["failure_rate"][0]) and frame["failure_rate"][1] == 0.75
    assert math.isnan(frame["ci_low"][0]) and frame["n"].tolist() == [0, 4]


def test_rolling_is_a_trailing_window_of_buckets():
    # window 2: the bucket and the one before it; an empty bucket adds nothing
    frame = pd.DataFrame({"mean": [1.0, np.nan, 3.0, 5.0, np.nan, np.nan]})
    out = runtime.rolling(frame, 2)
    assert out["rolling_mean"].tolist()[:4] == [1.0, 1.0, 3.0, 4.0]
    assert math.isnan(out["rolling_mean"][5])
    assert math.isnan(out["rolling_std"][2]) and math.isnan(out["rolling_std"][0])
    assert out["rolling_std"][3] == pytest.approx(np.std([3.0, 5.0], ddof=1))


def test_trailing_rates_sum_the_window():
    part = pd.DataFrame({"failed": [1, 0, 2, 0], "passed": [0, 3, 1, 0]})
    out = series.trailing_rates(part, 2)
    assert out["rolling_n"].tolist() == [1, 4, 6, 3]
    assert out["rolling_failure_rate"].tolist() == [1.0, 0.25, 2 / 6, 2 / 3]


def test_moments_from_sums():
    values = [2.0, 4.0, 9.0]
    frame = pd.DataFrame({"n": [3], "s": [sum(values)], "sq": [sum(v * v for v in values)]})
    out = runtime.moments(frame, "n", "s", "sq")
    assert out["mean"][0] == pytest.approx(5.0)
    assert out["std"][0] == pytest.approx(np.std(values, ddof=1))


def test_clean_never_leaves_nan():
    data = clean({"a": float("nan"), "b": [np.float64("inf"), np.int64(3)], "c": pd.NaT,
                  "d": pd.Timestamp("2026-10-01 12:00")})
    assert json.loads(json.dumps(data, allow_nan=False)) == {
        "a": None, "b": [None, 3], "c": None, "d": "2026-10-01T12:00:00Z"}


def test_runs_by_value_fills_empty_buckets():
    rows = [("2026-10-01 00:00:00", "job-a", 1, 1, 0, 20.0, 2),
            ("2026-10-03 00:00:00", "job-a", 0, 0, 1, 0.0, 1)]
    out = series.runs_by_value(rows, dt.datetime(2026, 10, 1), dt.datetime(2026, 10, 4), "day", 10)
    points = out["series"][0]["points"]
    assert [p["bucket"] for p in points] == out["buckets"]
    assert [(p["passed"], p["failed"], p["empty"]) for p in points] == [(1, 1, 0), (0, 0, 0), (0, 0, 1)]
    assert points[0]["failure_rate"] == 0.5 and points[1]["failure_rate"] is None


def test_records_column_by_column_equals_clean_of_every_value():
    """records (lists per numpy column) gives what clean made of each itertuples value."""
    frame = pd.DataFrame({
        "bucket": ["2026-10-01T00:00:00Z", "2026-10-01T01:00:00Z", "2026-10-01T02:00:00Z"],
        "n": np.array([3, 0, 7], dtype="int64"), "u": np.array([1, 2, 3], dtype="uint8"),
        "rate": [0.5, float("nan"), float("inf")], "small": np.array([0.1, 2.5, -1], "float32"),
        "ok": [True, False, True], "at": pd.to_datetime(["2026-10-01", None, "2026-10-02"]),
        "mixed": [None, 1.5, "x"], "count": pd.array([1, None, 3], dtype="Int64")})
    want = [{c: clean(v) for c, v in zip(frame.columns, row)}
            for row in frame.itertuples(index=False, name=None)]
    got = records(frame)
    assert repr(got) == repr(want)  # values, their types (1 vs 1.0) and None/NaN alike
    assert [[type(v) for v in r.values()] for r in got] == \
        [[type(v) for v in r.values()] for r in want]
    assert records(frame, ["rate", "n"]) == [{"rate": 0.5, "n": 3}, {"rate": None, "n": 0},
                                             {"rate": None, "n": 7}]
    assert records(frame.iloc[:0]) == []
