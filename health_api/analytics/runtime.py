"""Run-time series: per-bucket means with a rolling mean and std over buckets."""
from __future__ import annotations

import numpy as np
import pandas as pd


def rolling(frame: pd.DataFrame, window: int, column: str = "mean") -> pd.DataFrame:
    """Add rolling_mean / rolling_std of ``column`` over the last ``window``
    buckets that have a value (empty buckets neither count nor break it)."""
    out = frame.copy()
    present = out[column].dropna()
    roll = present.rolling(window, min_periods=1)
    out["rolling_mean"] = roll.mean().reindex(out.index)
    out["rolling_std"] = roll.std(ddof=1).reindex(out.index)
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
