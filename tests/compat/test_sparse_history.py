"""/test_runs/<test_id>'s numeric series over only the buckets that can hold a value
(analytics.sparse_resample) equals openstack-health's full resample to the bit, and
costs what its successes cost, not what their span costs (issue 16: a test's history
since 2000 at sec resolution was ~9 s of CPU)."""
from __future__ import annotations

import datetime as dt
import random
import resource

import pandas as pd
import pytest

from health_api.analytics.jsonsafe import finite
from health_api.compat import shaping

RESAMPLE = {"sec": "1s", "min": "1min", "hour": "1h", "day": "D"}


def full_resample_numeric(times, run_times, resolution) -> dict:
    """The implementation before the sparse one (openstack-health's test_run_aggregator
    as shaping wrote it): resample the whole span, then drop the empty rows."""
    if not times:
        return {}
    run_time = pd.Series(run_times, index=pd.DatetimeIndex(times), dtype="float64")
    run_time = run_time.sort_index().resample(RESAMPLE[resolution]).mean()
    interpolated = run_time.interpolate(method="time", limit=20)
    frame = pd.DataFrame({"run_time": run_time,
                          "avg_run_time": interpolated.rolling(20).mean(),
                          "std_dev_run_time": interpolated.rolling(20).std()})
    out = {}
    for ts, row in frame.iterrows():
        values = {k: float(v) for k, v in row.items() if finite(v) is not None}
        if values:
            out[ts.isoformat()] = values
    return out


def history(seed: int, resolution: str, count: int):
    """Successes in bursts (several in a bucket, runs of neighbouring buckets) separated
    by gaps of every length around the interpolation limit and the rolling window (20)
    and far beyond; some durations missing (no stop time)."""
    rng = random.Random(seed)
    step = shaping._STEP[resolution]
    at = dt.datetime(2019, 3, 1, 7, 13, 5, 250_000)
    times, run_times = [], []
    while len(times) < count:
        for _ in range(rng.choice([1, 1, 2, 3, 25, 45])):
            for _ in range(rng.choice([1, 1, 1, 2, 4])):
                times.append(at + dt.timedelta(microseconds=rng.randrange(
                    int(step.total_seconds() * 1e6))))
                run_times.append(None if rng.random() < 0.05 else rng.uniform(0.001, 90))
            at += step
        at += step * rng.choice([0, 1, 18, 19, 20, 21, 22, 39, 40, 41, 42, 60, 5000])
    return times, run_times


@pytest.mark.parametrize("resolution", ["sec", "min", "hour", "day"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sparse_numeric_equals_the_full_resample(resolution, seed):
    times, run_times = history(seed, resolution, 600)
    expected = full_resample_numeric(times, run_times, resolution)
    got = shaping._test_numeric(times, run_times, resolution)
    assert list(got) == list(expected)
    assert got == expected  # exact floats: the same operations in the same order


def test_sparse_numeric_edge_cases():
    at = dt.datetime(2024, 5, 6, 1, 2, 3)
    cases = [([at], [1.5]), ([at], [None]), ([at, at], [None, 2.0]),
             ([at, at + dt.timedelta(seconds=1)], [None, None]),
             ([at + dt.timedelta(seconds=90), at], [3.0, 1.0])]
    for times, run_times in cases:
        for resolution in RESAMPLE:
            assert shaping._test_numeric(times, run_times, resolution) == \
                full_resample_numeric(times, run_times, resolution), (times, resolution)


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def test_sparse_history_over_years_at_sec_is_cheap():
    """2,000 successes spread over 25 years at sec resolution: 790 million one-second
    buckets for the full resample (6 GB a series); the sparse one computes at most 41
    per success."""
    rng = random.Random(7)
    start = dt.datetime(2001, 1, 1)
    times = sorted(start + dt.timedelta(seconds=rng.randrange(25 * 365 * 86400))
                   for _ in range(2000))
    run_times = [rng.uniform(1, 30) for _ in times]
    assert shaping.history_bucket_count(times, "sec") <= 41 * len(times)
    t0 = cpu()
    got = shaping._test_numeric(times, run_times, "sec")
    spent = cpu() - t0
    assert spent < 1.0, spent
    # every success's bucket with its run time; around each, successes ~4 days apart,
    # only the 20 interpolated buckets after it, whose last two fill a rolling window
    assert {k: v["run_time"] for k, v in got.items() if "run_time" in v} == \
        {t.isoformat(): rt for t, rt in zip(times, run_times)}
    assert len(got) == 3 * len(times) - 2  # the last success has no bucket after it


def full_frame_numeric(times: dict, resolution: str) -> dict:
    """/runs/key/<key>/<value>'s numeric before the sparse one (openstack-health's
    run_aggregator.get_numeric_data): a column per job over every bucket of the span."""
    frame = pd.DataFrame({job: {at: sum(v) / len(v) for at, v in by_time.items()}
                          for job, by_time in times.items()})
    frame.index = pd.to_datetime(frame.index)
    frame = frame.sort_index().resample(RESAMPLE[resolution]).mean()
    interpolated = frame.interpolate(method="time", limit=10)
    for job in list(frame.columns):
        frame[f"{job}-avg"] = interpolated[job].rolling(10).mean()
    frame = frame.dropna(how="all", axis=1)
    return {column: {ts.isoformat(): float(v) for ts, v in frame[column].items()
                     if finite(v) is not None}
            for column in frame.columns}


@pytest.mark.parametrize("resolution", ["sec", "min", "hour", "day"])
@pytest.mark.parametrize("seed", [1, 2])
def test_sparse_job_numeric_equals_the_full_frame(resolution, seed):
    """Jobs whose runs interleave (a bucket's mean is taken with the other jobs' NaN in
    between, as the frame had them), end at different times (interpolation carries a
    job's last value into the frame's later buckets) and one without any run time."""
    rng = random.Random(seed)
    times: dict = {}
    for job in ("a", "b", "c"):
        count = rng.randrange(40, 300)
        job_times, job_run_times = history(rng.randrange(1000), resolution, count)
        for at, run_time in zip(job_times, job_run_times):
            if run_time is not None:
                times.setdefault(job, {}).setdefault(at, []).append(run_time)
    times["d"] = {dt.datetime(2019, 3, 1, 7, 13, 5): [float("nan")]}
    expected = full_frame_numeric(times, resolution)
    got = shaping._numeric(times, resolution)
    assert list(got) == list(expected)
    assert got == expected


def pad_by_sorting(out: dict, resolution: str) -> dict:
    """openstack-health's padding as shaping wrote it before: a datetime per bucket,
    then a sort of every key."""
    present = {dt.datetime.fromisoformat(k) for k in out}
    first, last = min(present), max(present)
    step, span = shaping._STEP[resolution], last - first
    count = span.days if resolution == "day" else int(span.total_seconds()
                                                         // step.total_seconds())
    for n in range(count):
        if first + step * n not in present:
            out[(first + step * n).isoformat()] = []
    return dict(sorted(out.items()))


@pytest.mark.parametrize("resolution", ["sec", "min", "hour", "day"])
def test_pad_equals_padding_by_sorting(resolution):
    rng = random.Random(5)
    at = dt.datetime(2026, 1, 30, 22, 59, 58, 5)
    rows = [at + shaping._STEP[resolution] * rng.randrange(3000) for _ in range(50)]
    out = {shaping.osh_key(t, resolution): {"job": [1]} for t in rows}
    expected = pad_by_sorting(dict(out), resolution)
    got = shaping.pad(dict(out), resolution, list)
    assert list(got.items()) == list(expected.items())
