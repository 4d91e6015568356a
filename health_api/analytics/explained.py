"""Explained-failure rate: the share of failed runs whose every failed test is
accounted for by a labelled cluster or a flaky test."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from . import buckets


def explained(failures: pd.DataFrame, runs: pd.DataFrame, labelled: set[str],
              flaky: set[str], start: dt.datetime, stop: dt.datetime,
              resolution: str = "day", limit: int = 200) -> dict:
    """failures: run_id, test_id, cluster_id; runs: id, uuid, run_at, fails, job, artifacts."""
    failed_runs = runs[runs["fails"].fillna(0) > 0].set_index("id")
    f = failures[failures["run_id"].isin(failed_runs.index)].copy()
    f["explained"] = f["cluster_id"].isin(labelled) | f["test_id"].isin(flaky)
    per_run = f.groupby("run_id")["explained"].all()
    runs_explained = per_run.reindex(failed_runs.index, fill_value=False)
    frame = pd.DataFrame({"bucket": buckets.bucket_series(failed_runs["run_at"], resolution),
                          "explained": runs_explained.astype(int)})
    counts = frame.groupby("bucket")["explained"].agg(["sum", "count"])
    counts = buckets.reindex(counts, start, stop, resolution, fill={"sum": 0, "count": 0})
    points = [{"bucket": buckets.key(ts.to_pydatetime()), "failed_runs": int(row["count"]),
               "explained": int(row["sum"]),
               "explained_rate": (row["sum"] / row["count"]) if row["count"] else None}
              for ts, row in counts.iterrows()]
    total, done = len(failed_runs), int(runs_explained.sum())
    unexplained_ids = runs_explained[~runs_explained].index
    shown = failed_runs.loc[unexplained_ids].sort_values("run_at", ascending=False).head(limit)
    reasons = f[~f["explained"]].groupby("run_id")["test_id"].apply(lambda s: sorted(s)[:10])
    unexplained = [{"run_id": int(i), "uuid": r.uuid, "run_at": r.run_at, "job": r.job,
                    "fails": int(r.fails), "link": r.artifacts,
                    "unexplained_tests": reasons.get(i, [])} for i, r in shown.iterrows()]
    return {"failed_runs": total, "explained": done,
            "explained_rate": done / total if total else None,
            "points": points, "unexplained_total": total - done, "unexplained": unexplained}
