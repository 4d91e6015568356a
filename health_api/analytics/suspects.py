"""Suspect metadata: run metadata values whose runs fail more than the rest.

For each key and value, the runs with that value against the runs of the same
job(s) without it: both failure rates with their Wilson intervals, and the
one-sided p-value of the difference from the hypergeometric distribution
(Fisher's exact test), ranked by it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import hypergeom

from .rates import rate_columns

RATE_COLS = ["failure_rate", "n", "ci_low", "ci_high"]


def suspects(runs: pd.DataFrame, keys: list[str], job: str | None = None,
             limit: int = 20) -> list[dict]:
    """runs: job, fails, passes and one column per key."""
    r = runs[(runs["fails"].fillna(0) > 0) | (runs["passes"].fillna(0) > 0)]
    if job is not None:
        r = r[r["job"] == job]
    failed = (r["fails"].fillna(0) > 0).astype(int)
    total_n, total_failed = len(r), int(failed.sum())
    rows = []
    for key in keys:
        if key not in r:
            continue
        grouped = pd.DataFrame({"value": r[key], "failed": failed}).dropna() \
            .groupby("value")["failed"].agg(["sum", "count"])
        if len(grouped) < 2:
            continue
        for value, (f, n) in grouped.iterrows():
            rows.append({"key": key, "value": value, "failed": int(f),
                         "passed": int(n - f), "rest_failed": total_failed - int(f),
                         "rest_passed": (total_n - int(n)) - (total_failed - int(f))})
    if not rows:
        return []
    frame = pd.DataFrame(rows)
    frame = rate_columns(frame)
    rest = rate_columns(frame[["rest_failed", "rest_passed"]], "rest_failed", "rest_passed")
    n = frame["failed"] + frame["passed"]
    # P(X >= failed) for X ~ failures among n runs drawn from the job's runs
    frame["p_value"] = hypergeom.sf(frame["failed"] - 1, total_n, total_failed, n)
    frame = frame[frame["failure_rate"] > rest["failure_rate"]]
    frame = frame.assign(rest=[dict(zip(RATE_COLS, v)) for v in
                               rest.loc[frame.index, RATE_COLS].itertuples(index=False)])
    frame = frame.sort_values(["p_value", "failure_rate"], ascending=[True, False]).head(limit)
    out = []
    for row in frame.itertuples(index=False):
        out.append({"key": row.key, "value": row.value, "failed": row.failed,
                    "passed": row.passed, "failure_rate": row.failure_rate, "n": int(row.n),
                    "ci_low": row.ci_low, "ci_high": row.ci_high,
                    "rest": {k: (int(v) if k == "n" else (None if v != v else float(v)))
                             for k, v in row.rest.items()},
                    "p_value": float(np.clip(row.p_value, 0, 1))})
    return out
