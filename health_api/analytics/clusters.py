"""Failure clusters: failed results grouped by normalised error signature."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from . import buckets
from .signatures import cluster_id


def clusters(failures: pd.DataFrame, runs: pd.DataFrame, labels: dict[str, dict],
             start: dt.datetime, stop: dt.datetime, new_days: int,
             examples: int = 5) -> list[dict]:
    """One entry per signature, most failures first.

    failures: test_run_id, test_id, run_id, signature
    runs: id, run_at, job, artifacts
    labels: cluster id -> {"label", "bug_url"}
    per_day: every day of [start, stop), empty days with 0.
    A cluster is **new** when its first failure is within ``new_days`` of ``stop``.
    """
    if failures.empty:
        return []
    info = runs.set_index("id")[["run_at", "job", "artifacts"]]
    f = failures.join(info, on="run_id")
    f = f[f["signature"] != ""]
    f["day"] = buckets.bucket_series(f["run_at"], "day")
    new_since = stop - dt.timedelta(days=new_days)
    out = []
    for sig, group in f.groupby("signature", sort=False):
        cid = cluster_id(sig)
        per_day = buckets.reindex(group.groupby("day").size().to_frame("n"), start, stop,
                                  "day", fill={"n": 0})["n"]
        first, last = group["run_at"].min(), group["run_at"].max()
        recent = group.sort_values("run_at", ascending=False).drop_duplicates("run_id")
        label = labels.get(cid, {})
        out.append({
            "id": cid, "signature": sig, "failures": int(len(group)),
            "runs": int(group["run_id"].nunique()),
            "tests": int(group["test_id"].nunique()), "jobs": int(group["job"].nunique()),
            "first_seen": first, "last_seen": last, "new": bool(first >= new_since),
            "label": label.get("label"), "bug_url": label.get("bug_url"),
            "top_tests": group["test_id"].value_counts().head(20).rename_axis("test_id")
                .reset_index(name="failures").to_dict("records"),
            "top_jobs": group["job"].fillna("").value_counts().head(20).rename_axis("job")
                .reset_index(name="failures").to_dict("records"),
            "per_day": [{"bucket": buckets.key(d.to_pydatetime()), "failures": int(c)}
                        for d, c in per_day.items()],
            "examples": [{"run_id": int(r.run_id), "test_id": r.test_id, "job": r.job,
                          "run_at": r.run_at, "link": r.artifacts}
                         for r in recent.head(examples).itertuples()]})
    out.sort(key=lambda c: (-c["failures"], c["signature"]))
    return out
