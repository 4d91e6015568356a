"""Failure rates with their 95% Wilson score interval (DESIGN.md section 4)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

Z95 = 1.959963984540054


def wilson(failed: int, n: int, z: float = Z95) -> tuple[float | None, float | None]:
    """The Wilson score interval of failed/n; (None, None) when n == 0."""
    if n <= 0:
        return None, None
    p = failed / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def rate(failed: int, passed: int) -> dict:
    """{"failure_rate", "n", "ci_low", "ci_high"} for run or test outcomes."""
    failed, passed = int(failed), int(passed)
    n = failed + passed
    low, high = wilson(failed, n)
    return {"failure_rate": (failed / n) if n else None, "n": n,
            "ci_low": low, "ci_high": high}


def rate_columns(frame: pd.DataFrame, failed: str = "failed", passed: str = "passed") -> pd.DataFrame:
    """Vectorised ``rate`` over a frame: adds failure_rate, n, ci_low, ci_high."""
    f = frame[failed].astype(float).to_numpy()
    n = f + frame[passed].astype(float).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, f / n, np.nan)
        z2 = Z95 * Z95
        denom = 1 + z2 / n
        centre = (p + z2 / (2 * n)) / denom
        half = Z95 * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    out = frame.copy()
    out["n"] = n.astype(int)
    out["failure_rate"] = p
    out["ci_low"] = np.where(n > 0, np.clip(centre - half, 0, 1), np.nan)
    out["ci_high"] = np.where(n > 0, np.clip(centre + half, 0, 1), np.nan)
    return out
