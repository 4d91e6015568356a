"""Flaky CI jobs from Gerrit verdicts (docs/design.md section 4): the same CI system,
pipeline and job reported a failure and then a success on one patch set."""
from __future__ import annotations

import pandas as pd

from .rates import rate_columns

FAILED = ("FAILURE", "POST_FAILURE", "TIMED_OUT", "NODE_FAILURE", "RETRY_LIMIT", "ERROR")


def flaky_jobs(verdicts: pd.DataFrame) -> list[dict]:
    """verdicts: ci_system, pipeline, patch_set_id, job, attempt, result.
    Per (CI system, job): patch sets reported on (n), rechecked ones, flaky ones
    (a failed result followed by SUCCESS), flaky rate with its interval."""
    if verdicts.empty:
        return []
    v = verdicts.sort_values("attempt").copy()
    v["failed"] = v["result"].isin(FAILED)
    v["success"] = v["result"] == "SUCCESS"
    keys = ["ci_system", "pipeline", "patch_set_id", "job"]
    first_fail = v[v["failed"]].groupby(keys)["attempt"].min().rename("first_fail")
    last_ok = v[v["success"]].groupby(keys)["attempt"].max().rename("last_ok")
    per_ps = v.groupby(keys)["attempt"].count().rename("results").to_frame() \
        .join(first_fail).join(last_ok)
    per_ps["flaky"] = (per_ps["last_ok"] > per_ps["first_fail"]).astype(int)
    per_ps["rechecked"] = (per_ps["results"] > 1).astype(int)
    per_job = per_ps.reset_index().groupby(["ci_system", "job"]).agg(
        flaky=("flaky", "sum"), rechecked=("rechecked", "sum"), patch_sets=("flaky", "size"))
    per_job["not_flaky"] = per_job["patch_sets"] - per_job["flaky"]
    per_job = rate_columns(per_job.reset_index(), "flaky", "not_flaky")
    per_job = per_job.sort_values(["failure_rate", "flaky"], ascending=False)
    return [{"ci_system": r.ci_system, "job": r.job, "patch_sets": int(r.patch_sets),
             "rechecked": int(r.rechecked), "flaky": int(r.flaky),
             "flaky_rate": float(r.failure_rate), "n": int(r.n), "ci_low": float(r.ci_low),
             "ci_high": float(r.ci_high)} for r in per_job.itertuples(index=False)]
