"""Suspect metadata: run metadata values whose runs fail more than the rest.

A bad node provider is usually bad for a spell, not for the whole period, so
each value is tested on every window of 1, 2, 3 and 7 whole days and on the
whole period: its runs against the other runs of the same job(s) in that
window, by the one-sided hypergeometric tail (Fisher's exact test). The
smallest p-value, multiplied by the number of windows tried (Bonferroni),
ranks the values; both failure rates and intervals are served for the window
found and for the whole period.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import hypergeom

from . import buckets
from .rates import rate

WINDOW_DAYS = (1, 2, 3, 7)


def _windows(days: int) -> list[tuple[int, int]]:
    out = [(0, days)]
    for w in WINDOW_DAYS:
        if w < days:
            out.extend((s, s + w) for s in range(0, days - w + 1))
    return out


def suspects(runs: pd.DataFrame, keys: list[str], job: str | None = None,
             limit: int = 20) -> list[dict]:
    """runs: job, run_at, fails, passes and one column per key."""
    r = runs[(runs["fails"].fillna(0) > 0) | (runs["passes"].fillna(0) > 0)]
    if job is not None:
        r = r[r["job"] == job]
    if r.empty:
        return []
    day = buckets.bucket_series(r["run_at"], "day")
    first = day.min()
    day_index = ((day - first).dt.days).to_numpy()
    days = int(day_index.max()) + 1
    failed = (r["fails"].fillna(0) > 0).to_numpy().astype(np.int64)
    all_n = np.bincount(day_index, minlength=days)
    all_f = np.bincount(day_index, weights=failed, minlength=days)
    cum_n, cum_f = np.concatenate(([0], np.cumsum(all_n))), np.concatenate(([0], np.cumsum(all_f)))
    windows = np.array(_windows(days))
    lo, hi = windows[:, 0], windows[:, 1]
    win_n, win_f = cum_n[hi] - cum_n[lo], cum_f[hi] - cum_f[lo]
    out = []
    for key in keys:
        if key not in r:
            continue
        values = r[key].to_numpy()
        present = pd.notna(values)
        distinct = pd.unique(values[present])
        if len(distinct) < 2:
            continue
        for value in distinct:
            mask = present & (values == value)
            vn = np.bincount(day_index[mask], minlength=days)
            vf = np.bincount(day_index[mask], weights=failed[mask], minlength=days)
            cvn = np.concatenate(([0], np.cumsum(vn)))
            cvf = np.concatenate(([0], np.cumsum(vf)))
            n, f = cvn[hi] - cvn[lo], cvf[hi] - cvf[lo]
            rest_n, rest_f = win_n - n, win_f - f
            testable = (n > 0) & (rest_n > 0) & (f * rest_n > rest_f * n)
            if not testable.any():
                continue
            p = np.ones(len(windows))
            p[testable] = hypergeom.sf(f[testable] - 1, win_n[testable], win_f[testable],
                                       n[testable])
            best = int(np.argmin(p))
            a, b = windows[best]
            start = (first + pd.Timedelta(days=int(a))).to_pydatetime()
            stop = (first + pd.Timedelta(days=int(b))).to_pydatetime()
            out.append({"key": key, "value": str(value),
                        "p_value": float(min(1.0, p[best] * len(windows))),
                        "window_start": start, "window_stop": stop,
                        "window": {**rate(f[best], n[best] - f[best]),
                                   "failed": int(f[best])},
                        "window_rest": rate(rest_f[best], rest_n[best] - rest_f[best]),
                        "period": {**rate(f[0], n[0] - f[0]), "failed": int(f[0])},
                        "period_rest": rate(rest_f[0], rest_n[0] - rest_f[0])})
    out.sort(key=lambda s: (s["p_value"], -(s["window"]["failure_rate"] or 0)))
    return out[:limit]
