"""openstack-health's JSON shapes from query rows: bucketed runs per value, a job's
per-test counts, a test's series. Pure functions, no SQL and no Flask.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from ..analytics import buckets
from ..analytics.jsonsafe import finite


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
    time-interpolated over gaps of up to 10 buckets; columns without any value dropped,
    and buckets without a value (NaN there) left out.
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
    # openstack-health wrote NaN where a bucket has no mean (invalid JSON); its client
    # skips those points (isNaN), but would draw a null as 0: such buckets are left out
    return {column: {ts.isoformat(): float(v) for ts, v in frame[column].items()
                     if finite(v) is not None}
            for column in frame.columns}


#: openstack-health's own status classes (test_run_aggregator.Status): not ci-health's
#: table, as its answers are what this wing reproduces; anything else is a skip
OSH_PASS = frozenset({"success", "xfail"})
OSH_FAIL = frozenset({"fail", "unxsuccess"})


def at_micro(day, micro):
    return None if day is None else day.replace(microsecond=micro or 0)


def test_runs_by_bucket(rows, resolution) -> dict:
    """rows: (test_id, status, start_time, start_us, stop_time, stop_us) ->
    {bucket: {test_id: {pass, fail, skip, run_time}}} as openstack-health's
    TestRunAggregator made it: run_time is the running mean of the passes' durations,
    and 0 again after a result that is not a pass (its quirk, kept)."""
    out: dict[str, dict] = {}
    keys: dict = {}
    for test_id, status, start, start_us, stop, stop_us in rows:
        start = at_micro(start, start_us)
        k = keys.get(start)
        if k is None:
            k = keys[start] = osh_key(start, resolution)
        passed, failed = status in OSH_PASS, status in OSH_FAIL
        duration = 0
        if passed:
            stop = at_micro(stop, stop_us)
            duration = (stop - start).total_seconds() if start and stop else 0
        bucket = out.setdefault(k, {})
        item = bucket.get(test_id)
        if item is None:
            bucket[test_id] = {"pass": int(passed), "fail": int(failed),
                               "skip": int(not passed and not failed), "run_time": duration}
            continue
        run_time = ((item["pass"] * item["run_time"] + duration) / (item["pass"] + 1)
                    if passed else 0)
        item["pass"] += passed
        item["fail"] += failed
        item["skip"] += not passed and not failed
        item["run_time"] = run_time
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
