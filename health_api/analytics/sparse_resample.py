"""pandas' ``resample(step).mean()`` followed by ``interpolate(method="time", limit=L)`` and
``rolling(W)``, computed over only the buckets that can hold a value: the ones with data
and the few after each of them, not every bucket of the span.

openstack-health's /test_runs/<test_id> resampled a test's run times over the whole span
from its first to its last success: at sec resolution, a test that ran once in 2020 and
once today is 200 million buckets, nearly all empty and all dropped from its answer
(dropna). Only these can hold a value:

- a bucket with data;
- the first L empty buckets after one (the time interpolation fills no more in a row);
- nothing else: a rolling window of W over a bucket that is NaN after interpolation is NaN.

So each run of empty buckets is cut to its first L + W: the L that interpolation may fill,
and W that stay NaN. The values are the same to the bit, not only close: np.interp, which
pandas' time interpolation calls, takes the neighbours' true times (kept here), the limit
counts positions in a run of NaN (still longer than L where it was), and the rolling sums
are running sums whose adds and removes of non-NaN values (NaN ones are no-ops) come in
the same order, since W NaN buckets separate the last value of one stretch leaving the
window from the first of the next entering it.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd


def _ticks(step: dt.timedelta, unit: str) -> int:
    return int(np.timedelta64(step).astype(f"timedelta64[{unit}]").astype(np.int64))


def kept_buckets(starts: np.ndarray, step: int, keep: int) -> np.ndarray:
    """starts: the sorted distinct bucket starts with data (integers, in ticks) -> those
    and, after each but the last, the first ``keep`` buckets of the gap to the next."""
    gaps = np.minimum(np.diff(starts) // step - 1, keep)
    counts = np.append(gaps + 1, 1)
    firsts = np.repeat(starts, counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return firsts + offsets * step


def bucket_means(data, step: dt.timedelta):
    """``data.sort_index().resample(step).mean()`` (a Series or a DataFrame) without its
    empty buckets: pandas' groupby mean over the same values in the same order, NaN
    ones included (its compensated sum is not the same without them), indexed by the
    bucket starts (integers, in the index's ticks)."""
    data = data.sort_index()
    ticks = _ticks(step, data.index.unit)
    # resample's bins of a step dividing a day start at midnight: the epoch's multiples
    return data.groupby((data.index.asi8 // ticks) * ticks).mean()


def spread(means: pd.Series, step: dt.timedelta, unit: str, keep: int,
           until: int | None = None) -> pd.Series:
    """One column of bucket_means -> the resampled column over only the buckets that
    can hold a value: its buckets with a value, and of every run of empty buckets after
    one its first ``keep`` (NaN), on a DatetimeIndex of their true starts; empty when
    no bucket has a value. ``until``: the bucket start (ticks) the resample runs to (a
    column of a frame spanning more than it does): its empty buckets after the last
    value are cut the same way (interpolation fills the first of them)."""
    means = means.dropna()
    if means.empty:
        return pd.Series([], index=pd.DatetimeIndex([], dtype=f"datetime64[{unit}]"),
                         dtype="float64")
    ticks = _ticks(step, unit)
    positions = kept_buckets(means.index.to_numpy(dtype=np.int64), ticks, keep)
    if until is not None:
        after = min(max((until - int(positions[-1])) // ticks, 0), keep)
        positions = np.append(positions, positions[-1] + ticks * np.arange(1, after + 1))
    values = means.reindex(positions).to_numpy(dtype="float64")
    return pd.Series(values, index=pd.DatetimeIndex(positions.view(f"datetime64[{unit}]")),
                     dtype="float64")


def sparse_resample_mean(series: pd.Series, step: dt.timedelta, keep: int) -> pd.Series:
    """``series.sort_index().resample(step).mean()`` over only the buckets that can hold
    a value (spread). A tz-aware index is resampled in full (its days need not be
    UTC's)."""
    if series.index.tz is not None:
        full = series.sort_index().resample(step).mean()
        return full if full.notna().any() else full.iloc[:0]
    return spread(bucket_means(series, step), step, series.index.unit, keep)


def kept_bucket_count(series: pd.Series, step: dt.timedelta, keep: int) -> int:
    """How many buckets sparse_resample_mean computes for ``series`` (its bound)."""
    if series.empty:
        return 0
    unit = series.index.unit
    ticks = _ticks(step, unit)
    starts = np.unique((series.index.asi8 // ticks) * ticks)
    return int(len(starts) + np.minimum(np.diff(starts) // ticks - 1, keep).sum())
