"""openstack-health's JSON shapes from query rows: bucketed runs per value, a job's
per-test counts, a test's series. Pure functions, no SQL and no Flask.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from ..analytics import buckets
from ..analytics.jsonsafe import clean, finite
from ..analytics.series import _frame


def runs(rows, start, stop, resolution) -> dict:
    """rows: (run_at, value, passes, fails, skips, run_time) -> {bucket: {value: [run...]}},
    every bucket of the window present (empty ones as {})."""
    out: dict[str, dict] = {}
    if start is not None and stop is not None:
        out = {k: {} for k in buckets.keys(buckets.grid(start, stop, resolution))}
    if rows:
        # One run per row (tens of thousands): bucket keys are formatted once per
        # bucket, and the run dicts are built plain, with nothing left to clean.
        codes, uniques = pd.factorize(
            buckets.bucket_series(pd.Series([r[0] for r in rows]), resolution))
        names = buckets.keys(uniques)
        for code, (_at, value, passes, fails, skips, run_time) in zip(codes.tolist(), rows):
            out.setdefault(names[code], {}).setdefault(value, []).append(
                {"pass": int(passes or 0), "fail": int(fails or 0), "skip": int(skips or 0),
                 "run_time": finite(run_time)})
    return dict(sorted(out.items()))


def key_value(rows, start, stop, resolution) -> dict:
    """rows as runs_by_value's -> {"numeric": {job: {bucket: mean}}, "data": {"timedelta": [...]}}."""
    frame = _frame(rows, ["bucket", "value", "passed", "failed", "empty", "rt_sum", "runs"],
                   resolution)
    timedelta, numeric = [], {}
    for bucket_ts, part in frame.groupby("bucket"):
        k = buckets.key(bucket_ts.to_pydatetime())
        job_data = []
        for r in part.sort_values("value").itertuples(index=False):
            mean = r.rt_sum / r.runs if r.runs else None
            job_data.append(clean({"fail": r.failed, "pass": r.passed, "mean_run_time": mean,
                                   "job_name": r.value}))
            numeric.setdefault(r.value, {})[k] = clean(mean)
        timedelta.append({"datetime": k, "job_data": job_data})
    return {"numeric": numeric, "data": {"timedelta": timedelta}}


def test_daily(rows) -> dict:
    """(bucket, test_id, pass, fail, skip, timed, run_time_sum) -> {bucket: {test_id: counts}};
    ``bucket`` a date or a datetime. Tens of thousands of rows: each bucket's key is
    formatted once, and the dicts are built plain."""
    out: dict[str, dict] = {}
    names: dict = {}
    for bucket, test_id, s, f, k, timed, rt in rows:
        name = names.get(bucket)
        if name is None:
            name = names[bucket] = buckets.key(
                dt.datetime.combine(bucket, dt.time()) if isinstance(bucket, dt.date)
                and not isinstance(bucket, dt.datetime) else bucket)
        timed = int(timed)
        out.setdefault(name, {})[test_id] = {
            "pass": int(s), "fail": int(f), "skip": int(k),
            "run_time": finite(float(rt or 0.0) / timed if timed else 0.0)}
    return dict(sorted(out.items()))


def test_points(points, failures) -> dict:
    numeric, data = {}, {}
    for p in points:
        data[p["bucket"]] = {"pass": p["success"], "fail": p["failure"], "skip": p["skip"]}
        numeric[p["bucket"]] = {"avg_run_time": p["mean_run_time"],
                                "run_time_rolling_mean": p["rolling_mean"],
                                "run_time_rolling_std": p["rolling_std"]}
    failed_runs = [{"provider": None, "job_name": f["job"], "run_at": f["run_at"],
                    "artifacts": f["link"], "bugs": []} for f in failures]
    return {"numeric": numeric, "data": data, "failed_runs": failed_runs}
