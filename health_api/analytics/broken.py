"""Broken since: tests and jobs that went from stable to failing, with when,
the rates before and after and the posterior probability of the change."""
from __future__ import annotations

import pandas as pd

from .changepoint import segments
from .rates import rate

#: a segment at or above this failure rate, after one below it, is "broken"
BROKEN_RATE = 0.5


def _episodes(subject: dict, ordered: pd.DataFrame, min_probability: float) -> list[dict]:
    """ordered: run_at, failed (0/1) in time order."""
    x = ordered["failed"].to_numpy()
    times = ordered["run_at"].tolist()
    segs = segments(x, min_probability)
    out = []
    for i, seg in enumerate(segs):
        before = segs[i - 1] if i else None
        fixed = segs[i + 1] if i + 1 < len(segs) else None
        if seg["failed"] / seg["n"] < BROKEN_RATE:
            continue
        if before is not None and before["failed"] / before["n"] >= BROKEN_RATE:
            continue
        if before is None and fixed is None:
            continue  # failing all along: no change to date
        out.append({**subject, "broken_since": times[seg["start"]],
                    "last_good": times[seg["start"] - 1] if before else None,
                    "fixed_at": times[fixed["start"]] if fixed else None,
                    # broken from the period's start on: the probability is the fix's
                    "probability": seg["p_change"] if before else fixed["p_change"],
                    "before": rate(before["failed"], before["n"] - before["failed"])
                    if before else None,
                    "after": rate(seg["failed"], seg["n"] - seg["failed"]),
                    "still_broken": fixed is None})
    return out


def failing_spells(sequences: pd.DataFrame, min_probability: float = 0.99) -> pd.DataFrame:
    """Every segment of a (test, job) whose failure rate is at least BROKEN_RATE,
    also one that covers the whole period: test_id, job, since, until (exclusive,
    None: to the end). Failures there are a broken test, not a flaky one."""
    rows = []
    for (test_id, job), group in sequences.sort_values("run_at").groupby(["test_id", "job"]):
        times = group["run_at"].tolist()
        for seg in segments(group["failed"].to_numpy(), min_probability):
            if seg["failed"] / seg["n"] >= BROKEN_RATE:
                rows.append((test_id, job, times[seg["start"]],
                             times[seg["stop"]] if seg["stop"] < len(times) else None))
    return pd.DataFrame(rows, columns=["test_id", "job", "since", "until"])


def broken_tests(sequences: pd.DataFrame, min_probability: float = 0.99) -> list[dict]:
    """sequences: test_id, job, run_at, failed (one row per result)."""
    out = []
    for (test_id, job), group in sequences.sort_values("run_at").groupby(["test_id", "job"]):
        out.extend(_episodes({"kind": "test", "test_id": test_id, "job": job}, group,
                             min_probability))
    out.sort(key=lambda e: e["broken_since"], reverse=True)
    return out


def broken_jobs(runs: pd.DataFrame, min_probability: float = 0.99) -> list[dict]:
    """runs: job, run_at, fails, passes (empty runs are left out, as in every rate)."""
    r = runs[(runs["fails"].fillna(0) > 0) | (runs["passes"].fillna(0) > 0)].copy()
    r["failed"] = (r["fails"].fillna(0) > 0).astype(int)
    out = []
    for job, group in r.dropna(subset=["job"]).sort_values("run_at").groupby("job"):
        out.extend(_episodes({"kind": "job", "test_id": None, "job": job}, group,
                             min_probability))
    out.sort(key=lambda e: e["broken_since"], reverse=True)
    return out
