"""Failure rates with their 95% Wilson score interval: the one implementation.

``wilson_bounds`` is the formula (vectorised); ``rate`` (one count) and
``rate_columns`` (a frame) both call it, and the dashboard draws what they
serve. Tests check it against statsmodels' ``proportion_confint(method="wilson")``.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

Z95 = 1.959963984540054


def wilson_bounds(failed, n, z: float = Z95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rate, low, high) of failed/n, element-wise; NaN where n == 0.

    Wilson score interval: centre (p + z²/2n) / (1 + z²/n), half-width
    z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n), clipped to [0, 1].
    """
    if type(failed) in _SCALARS and type(n) in _SCALARS:
        return _wilson_scalar(float(failed), float(n), z)
    f = np.asarray(failed, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        decided = n > 0
        p = np.where(decided, f / n, np.nan)
        z2 = z * z
        denom = 1 + z2 / n
        centre = (p + z2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
        low = np.where(decided, np.clip(centre - half, 0, 1), np.nan)
        high = np.where(decided, np.clip(centre + half, 0, 1), np.nan)
    return p, low, high


#: plain numbers take the scalar path: numpy costs ~50 us a call, and a
#: scoreboard asks for one interval per CI system and job (hundreds)
_SCALARS = (int, float, np.int64, np.float64)


def _wilson_scalar(f: float, n: float, z: float) -> tuple[float, float, float]:
    """``wilson_bounds`` of one count, in the same operations with math."""
    if not n > 0:
        return math.nan, math.nan, math.nan
    p = f / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    spread = p * (1 - p) / n + z2 / (4 * n * n)
    if spread < 0:  # failed > n: numpy's sqrt gives NaN, so does this
        return p, math.nan, math.nan
    half = z * math.sqrt(spread) / denom
    return p, min(max(centre - half, 0.0), 1.0), min(max(centre + half, 0.0), 1.0)


def _or_none(x) -> float | None:
    x = float(x)
    return None if np.isnan(x) else x


def wilson(failed: int, n: int, z: float = Z95) -> tuple[float | None, float | None]:
    """(low, high) of one count through ``wilson_bounds``; (None, None) when n == 0."""
    _p, low, high = wilson_bounds(failed, n, z)
    return _or_none(low), _or_none(high)


def rate(failed: int, passed: int) -> dict:
    """{"failure_rate", "n", "ci_low", "ci_high"} for run or test outcomes."""
    failed, passed = int(failed), int(passed)
    n = failed + passed
    p, low, high = wilson_bounds(failed, n)
    return {"failure_rate": _or_none(p), "n": n, "ci_low": _or_none(low),
            "ci_high": _or_none(high)}


def rate_columns(frame: pd.DataFrame, failed: str = "failed", passed: str = "passed",
                 prefix: str = "") -> pd.DataFrame:
    """``rate`` over every row of a frame: adds {prefix}failure_rate, n, ci_low, ci_high."""
    f = frame[failed].astype(float).to_numpy()
    n = f + frame[passed].astype(float).to_numpy()
    p, low, high = wilson_bounds(f, n)
    out = frame.copy()
    out[prefix + "n"] = n.astype(int)
    out[prefix + "failure_rate"] = p
    out[prefix + "ci_low"] = low
    out[prefix + "ci_high"] = high
    return out
