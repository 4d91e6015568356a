"""openstack-health's JSON shapes from query rows: bucketed runs per value, a job's
per-test counts, a test's series. Pure functions, no SQL and no Flask.
"""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from ..analytics import buckets
from ..analytics.jsonsafe import finite
from ..analytics.sparse_resample import (bucket_means, kept_bucket_count, sparse_resample_mean,
                                         spread)


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


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc1123(ts) -> str | None:
    """A datetime as openstack-health's Flask jsonify wrote it (naive as UTC): RFC 1123,
    whole seconds, e.g. 'Sun, 27 Sep 2026 01:38:18 GMT' (English names, whatever the
    locale, as email.utils.format_datetime writes them)."""
    if ts is None:
        return None
    if ts.tzinfo is not None:
        ts = ts.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return (f"{_DAYS[ts.weekday()]}, {ts.day:02d} {_MONTHS[ts.month - 1]} {ts.year:04d} "
            f"{ts.hour:02d}:{ts.minute:02d}:{ts.second:02d} GMT")


def run_row(row) -> dict:
    """A runs row (queries.osh.RUN_COLUMNS) as subunit2sql's Run.to_dict() gave it: every
    column, the integer id and the uuid apart, run_at RFC 1123."""
    run_id, uuid, skips, fails, passes, run_time, artifacts, run_at = row
    return {"id": run_id, "uuid": uuid, "skips": skips, "fails": fails, "passes": passes,
            "run_time": finite(run_time), "artifacts": artifacts, "run_at": rfc1123(run_at)}


def test_row(row) -> dict:
    """A tests row as Test.to_dict() gave it: the integer id, the tests.run_time column."""
    return {"id": row.id, "test_id": row.test_id, "run_count": row.run_count,
            "success": row.success, "failure": row.failure, "run_time": finite(row.run_time)}


def run_results(rows) -> dict:
    """get_tests_run_dicts_from_run_id from its rows (test_id, status, start, start_us,
    stop, stop_us, key, value) in start time order: the first result of each test, its
    times RFC 1123, "metadata" only when it has test_run_metadata (a microsecond column
    left NULL, on which subunit2sql's replace() failed, taken as the time's own)."""
    out: dict[str, dict] = {}
    for test_id, status, start, start_us, stop, stop_us, key, value in rows:
        item = out.get(test_id)
        if item is None:
            item = out[test_id] = {"status": status,
                                   "start_time": rfc1123(_osh_start(start, start_us)),
                                   "stop_time": rfc1123(_osh_start(stop, stop_us))}
        if key:
            item.setdefault("metadata", {})[key] = value
    return out


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
    where its data keys are dates: its quirk, kept), keys sorted.

    The padding is most of the answer at a fine resolution (a key per second of the
    span): its keys are written by numpy in one call and laid out in bucket order, which
    is their sorted order (ISO text of one length; at day a date sorts where its
    midnight does), instead of a datetime, a set lookup and a sort per bucket."""
    if not out:
        return {}
    present = {dt.datetime.fromisoformat(k): k for k in out}
    first, last = min(present), max(present)
    step = _STEP[resolution]
    seconds = int(step.total_seconds())
    count = ((last - first).days if resolution == "day"
             else int((last - first).total_seconds() // seconds))
    by_grid = {at.isoformat(): k for at, k in present.items()}
    grid = None
    if first.tzinfo is None and first.microsecond == 0 and first.year >= 1000:
        origin = np.datetime64(first, "s").astype(np.int64)
        grid = np.datetime_as_string((origin + seconds * np.arange(count + 1)).astype(
            "datetime64[s]"), unit="s").tolist()
    if grid is not None:
        padded, found = {}, 0
        for g in grid:
            k = by_grid.get(g)
            if k is None:
                padded[g] = empty()
            else:
                padded[k] = out[k]
                found += 1
        if found == len(out):  # else a key off the grid
            return padded
    return _pad_by_datetime(out, present, first, step, count, empty)


def _pad_by_datetime(out, present, first, step, count, empty) -> dict:
    """pad's general way, for keys numpy's whole-second naive grid does not hold."""
    for n in range(count):
        at = first + step * n
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
        if not jobs:  # a padded bucket: most of them at a fine resolution
            timedelta.append({"datetime": k, "job_data": []})
            continue
        job_data = [{"fail": sum(1 for _, f, _ in runs if f > 0),
                     "job_name": job,
                     "mean_run_time": finite(sum(rt or 0.0 for _, _, rt in runs) / len(runs)),
                     "pass": sum(1 for p, f, _ in runs if f == 0 and p > 0)}
                    for job, runs in (jobs.items() if isinstance(jobs, dict) else ())]
        timedelta.append({"datetime": k, "job_data": sorted(
            job_data, key=lambda d: (d["job_name"] is None, d["job_name"] or ""))})
    return {"numeric": _numeric(times, resolution), "data": {"timedelta": timedelta}}


#: run_aggregator's interpolation limit and rolling window of a job's run times
_JOB_WINDOW = 10


def _numeric(times: dict, resolution: str) -> dict:
    """openstack-health's run_aggregator.get_numeric_data: a frame of a column per job,
    resampled over the span of all of them, time-interpolated and rolled per column.
    Each column is computed on its own over only the buckets that can hold a value
    (analytics.sparse_resample; its empty ones after its last value up to the frame's
    end too): the same values, without a row per bucket of the span."""
    if not times:
        return {}
    frame = pd.DataFrame({job: {at: sum(v) / len(v) for at, v in by_time.items()}
                          for job, by_time in times.items()})
    frame.index = pd.to_datetime(frame.index)
    if frame.index.tz is not None:
        return _numeric_frame(frame, resolution)
    step, unit = _STEP[resolution], frame.index.unit
    means = bucket_means(frame, step)  # one row per bucket with a run, not per bucket
    until = int(means.index.max())
    columns, averages = {}, {}
    for job in means.columns:
        series = spread(means[job], step, unit, 2 * _JOB_WINDOW, until)
        if series.empty:  # no value: dropna(how="all", axis=1) drops both columns
            continue
        columns[job] = series
        interpolated = series.interpolate(method="time", limit=_JOB_WINDOW)
        averages[f"{job}-avg"] = interpolated.rolling(_JOB_WINDOW).mean()
    out = {}
    for column, series in {**columns, **averages}.items():
        values = series.to_numpy(dtype="float64")
        if np.isnan(values).all():
            continue
        # openstack-health wrote NaN where a bucket has no mean (invalid JSON); its
        # client skips those points (isNaN), but would draw a null as 0: left out
        series = series[np.isfinite(values)]
        out[column] = {ts.isoformat(): v for ts, v in zip(series.index,
                                                          series.to_numpy().tolist())}
    return out


def _numeric_frame(frame, resolution: str) -> dict:
    """_numeric as openstack-health computed it, over every bucket of the span: for
    tz-aware times, whose days need not be UTC's."""
    frame = frame.sort_index().resample(_RESAMPLE[resolution]).mean()
    interpolated = frame.interpolate(method="time", limit=_JOB_WINDOW)
    for job in list(frame.columns):
        frame[f"{job}-avg"] = interpolated[job].rolling(_JOB_WINDOW).mean()
    frame = frame.dropna(how="all", axis=1)
    return {column: {ts.isoformat(): float(v) for ts, v in frame[column].items()
                     if finite(v) is not None}
            for column in frame.columns}


from .parts_sql import OSH_FAIL, OSH_PASS  # noqa: E402 (defined there: the ingest path needs them without pandas)


def at_micro(day, micro):
    return None if day is None else day.replace(microsecond=micro or 0)


def test_buckets(rows, resolution) -> dict:
    """rows: (bucket text, test_id, passes, fails, others, trailing) ->
    {bucket: {test_id: {pass, fail, skip, run_time}}} as openstack-health's
    TestRunAggregator made it: its run_time, a running mean of the passes' durations
    reset to 0 by a result that is not a pass ((n * mean + d) / (n + 1) over every pass
    of the bucket), comes out as the durations of the passes after the last other result
    over all the bucket's passes; 0 without any pass."""
    out: dict[str, dict] = {}
    keys: dict = {}
    for text, test_id, passes, fails, others, trailing in rows:
        k = keys.get(text)
        if k is None:
            k = keys[text] = osh_key(dt.datetime.fromisoformat(text), resolution)
        passes = int(passes or 0)
        out.setdefault(k, {})[test_id] = {
            "pass": passes, "fail": int(fails or 0), "skip": int(others or 0),
            "run_time": float(trailing) / passes if passes and trailing else 0}
    return dict(sorted(out.items()))


def _osh_start(start, micro):
    """A result's start time as openstack-health's test_run_aggregator took it: the
    microsecond column replaces the time's own only when it is set (non-zero)."""
    return start.replace(microsecond=micro) if start and micro else start


def _osh_duration(start, stop) -> float | None:
    """subunit2sql's read_subunit.get_duration: whole seconds and microseconds of the
    timedelta, as a float."""
    if not start or not stop:
        return None
    delta = stop - start
    return float("%d.%06d" % (delta.days * 86400 + delta.seconds, delta.microseconds))


#: test_run_aggregator's window for the rolling mean and std of a test's run time, and
#: the most empty buckets in a row its time interpolation bridges
_TEST_WINDOW = 20


def test_history(results, failed_runs, resolution) -> dict:
    """openstack-health's /test_runs/<test_id> from results (run_id, status, start_time,
    start_us, stop_time, stop_us) in test_runs.id order and the failed runs (run_at,
    artifacts, build_name, node_provider, in runs.id order):

    data: per result, keyed by its exact start time (a later result with the same start
    time replacing an earlier one), its run's integer id and its status;
    numeric: the run times of its "success" results (exactly that status) resampled to
    the resolution (mean), and over that series interpolated in time across up to 20
    empty buckets, the rolling mean and sample std of 20 buckets, for every bucket with
    any of the three; a NaN of openstack-health's is left out (its client skips NaN and
    undefined alike, but would draw a null);
    failed_runs: the runs with a "fail" result. No result at all: its empty answer, whose
    failed_runs is an object."""
    if not results:
        return {"numeric": {}, "data": {}, "failed_runs": {}}
    data: dict[str, dict] = {}
    times, run_times = [], []
    for run_id, status, start, start_us, stop, stop_us in results:
        start = _osh_start(start, start_us)
        if start is None:  # no time to key it by (pandas would have written "NaT")
            continue
        data[start.isoformat()] = {"run_id": int(run_id), "status": status}
        if status == "success":
            stop = _osh_start(stop, stop_us)
            times.append(start)
            run_times.append(_osh_duration(start, stop))
    return {"numeric": _test_numeric(times, run_times, resolution),
            "data": dict(sorted(data.items())),
            "failed_runs": [{"provider": r["node_provider"], "job_name": r["build_name"],
                             "run_at": osh_time(r["run_at"]), "artifacts": r["artifacts"],
                             "bugs": []} for r in failed_runs]}


def _test_numeric(times, run_times, resolution) -> dict:
    if not times:
        return {}
    run_time = pd.Series(run_times, index=pd.DatetimeIndex(times), dtype="float64")
    # only the buckets that can hold a value (sparse_resample's docstring): the answer
    # is the full resample's, at a cost in the buckets with data, not in the span
    run_time = sparse_resample_mean(run_time, _STEP[resolution], 2 * _TEST_WINDOW)
    interpolated = run_time.interpolate(method="time", limit=_TEST_WINDOW)
    frame = pd.DataFrame({"run_time": run_time,
                          "avg_run_time": interpolated.rolling(_TEST_WINDOW).mean(),
                          "std_dev_run_time": interpolated.rolling(_TEST_WINDOW).std()})
    frame = frame[np.isfinite(frame.to_numpy()).any(axis=1)]
    columns = list(frame.columns)
    out = {}
    for ts, row in zip(frame.index, frame.to_numpy().tolist()):
        out[ts.isoformat()] = {k: v for k, v in zip(columns, row) if math.isfinite(v)}
    return out


def history_bucket_count(times, resolution) -> int:
    """How many buckets _test_numeric computes for successes at ``times``."""
    return kept_bucket_count(pd.Series(0.0, index=pd.DatetimeIndex(times)),
                             _STEP[resolution], 2 * _TEST_WINDOW)
