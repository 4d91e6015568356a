"""Run-time series: per-bucket means with a rolling mean and std over buckets.

The one definition of the rolling run time (docs/design.md, "Rules"): over
the trailing ``window`` buckets of the time grid (the bucket itself and the
window - 1 before it), the mean and sample std of the per-bucket means of the
buckets that have one (unweighted: a bucket of ten runs counts as one of a
single run). Empty buckets neither count nor break it; the std is null with
fewer than two buckets holding a value.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def rolling(frame: pd.DataFrame, window: int, column: str = "mean") -> pd.DataFrame:
    """Add rolling_mean / rolling_std of ``column`` over the trailing ``window``
    rows (one row per bucket of the grid; NaN rows do not count)."""
    out = frame.copy()
    roll = out[column].astype(float).rolling(window, min_periods=1)
    out["rolling_mean"] = roll.mean()
    out["rolling_std"] = roll.std(ddof=1)
    return out


def moments(frame: pd.DataFrame, count: str, total: str, sq_total: str | None = None) -> pd.DataFrame:
    """mean (and std, from the sum of squares) per row; NaN where count is 0."""
    out = frame.copy()
    c = out[count].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["mean"] = np.where(c > 0, out[total].astype(float) / c, np.nan)
        if sq_total is not None:
            var = np.where(c > 1, (out[sq_total].astype(float) - c * out["mean"] ** 2) / (c - 1),
                           np.nan)
            out["std"] = np.sqrt(np.clip(var, 0, None))
    return out
