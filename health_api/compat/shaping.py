"""openstack-health's JSON shapes from query rows: bucketed runs per value, a job's
per-test counts, a test's series. Pure functions, no SQL and no Flask.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from ..analytics import buckets
from ..analytics.jsonsafe import clean, finite
from ..analytics.series import _frame


#: a bucket's step and how many of them the padding walks, as RunAggregator did
_STEP = {"sec": dt.timedelta(seconds=1), "min": dt.timedelta(minutes=1),
         "hour": dt.timedelta(hours=1), "day": dt.timedelta(days=1)}


def osh_time(ts) -> str | None:
    """A time as openstack-health wrote it: naive UTC isoformat, microseconds kept."""
    if ts is None:
        return None
    if isinstance(ts, str):
        ts = dt.datetime.fromisoformat(ts)
    if ts.tzinfo is not None:
        ts = ts.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return ts.isoformat()


def osh_key(ts: dt.datetime, resolution: str) -> str:
    """A bucket key as openstack-health's aggregators wrote it: the start of the bucket
    in isoformat, a date alone for day."""
    if isinstance(ts, str):
        ts = dt.datetime.fromisoformat(ts)
    if resolution == "day":
        return ts.date().isoformat()
    if resolution == "hour":
        return ts.replace(minute=0, second=0, microsecond=0).isoformat()
    if resolution == "min":
        return ts.replace(second=0, microsecond=0).isoformat()
    return ts.replace(microsecond=0).isoformat()


def pad(out: dict, resolution: str, empty) -> dict:
    """openstack-health's padding: every bucket from the first to the last one with data
    present, the missing ones as ``empty()`` under their datetime isoformat (also at day,
    where its data keys are dates: its quirk, kept), keys sorted."""
    if out:
        present = {dt.datetime.fromisoformat(k) for k in out}
        first, last = min(present), max(present)
        span = last - first
        count = span.days if resolution == "day" else int(span.total_seconds()
                                                             // _STEP[resolution].total_seconds())
        for n in range(count):
            at = first + _STEP[resolution] * n
            if at not in present:
                out[at.isoformat()] = empty()
    return dict(sorted(out.items()))


def runs(rows, resolution) -> dict:
    """rows: (run_at, value, passes, fails, skips, run_time) in run_at order ->
    {bucket: {value: [{fail, pass, skip}...]}}, padded with [] as openstack-health did."""
    out: dict[str, dict] = {}
    keys: dict = {}
    for at, value, passes, fails, skips, _run_time in rows:
        k = keys.get(at)
        if k is None:
            k = keys[at] = osh_key(at, resolution)
        out.setdefault(k, {}).setdefault(value, []).append(
            {"fail": int(fails or 0), "pass": int(passes or 0), "skip": int(skips or 0)})
    return pad(out, resolution, list)


_RESAMPLE = {"sec": "1s", "min": "1min", "hour": "1h", "day": "D"}


def key_value(rows, resolution) -> dict:
    """rows: (run_at, build_name, passes, fails, skips, run_time) in run_at order ->
    openstack-health's {"numeric": {job: {bucket: mean}, job-avg: {...}}, "data":
    {"timedelta": [{datetime, job_data: [...]}]}}.

    numeric: the run times of its passed runs (mean per exact run_at), resampled to the
    resolution (mean), and as job-avg the rolling mean over 10 buckets of that series
    time-interpolated over gaps of up to 10 buckets; columns without any value dropped.
    data: per bucket (padded with [] as its aggregator did) and job, the passed and failed
    runs and the mean run time of all of them, jobs sorted by name."""
    times: dict = {}
    per_bucket: dict[str, dict] = {}
    for at, job, passes, fails, _skips, run_time in rows:
        passes, fails = int(passes or 0), int(fails or 0)
        if fails == 0 and passes > 0:
            times.setdefault(job, {}).setdefault(at, []).append(run_time)
        per_bucket.setdefault(osh_key(at, resolution), {}).setdefault(job, []).append(
            (passes, fails, run_time))
    timedelta = []
    for k, jobs in pad(per_bucket, resolution, list).items():
        job_data = [{"fail": sum(1 for _, f, _ in runs if f > 0),
                     "job_name": job,
                     "mean_run_time": finite(sum(rt or 0.0 for _, _, rt in runs) / len(runs)),
                     "pass": sum(1 for p, f, _ in runs if f == 0 and p > 0)}
                    for job, runs in (jobs.items() if isinstance(jobs, dict) else ())]
        timedelta.append({"datetime": k, "job_data": sorted(
            job_data, key=lambda d: (d["job_name"] is None, d["job_name"] or ""))})
    return {"numeric": _numeric(times, resolution), "data": {"timedelta": timedelta}}


def _numeric(times: dict, resolution: str) -> dict:
    if not times:
        return {}
    frame = pd.DataFrame({job: {at: sum(v) / len(v) for at, v in by_time.items()}
                          for job, by_time in times.items()})
    frame.index = pd.to_datetime(frame.index)
    frame = frame.sort_index().resample(_RESAMPLE[resolution]).mean()
    interpolated = frame.interpolate(method="time", limit=10)
    for job in list(frame.columns):
        frame[f"{job}-avg"] = interpolated[job].rolling(10).mean()
    frame = frame.dropna(how="all", axis=1)
    return {column: {ts.isoformat(): finite(v) for ts, v in frame[column].items()}
            for column in frame.columns}


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
