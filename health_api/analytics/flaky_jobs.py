"""Flaky CI jobs from Gerrit verdicts (docs/design.md section 4): a job's result
changed on one patch set (same CI system and pipeline) after somebody asked for
a recheck in between (``ci_recheck_requests``).

A result change across patch sets is new code, not flakiness: results are only
compared within a patch set. A change on one patch set with no recheck request
between the two results (a re-report, an automatic retry) is counted apart
(``changes_without_recheck``), not as a recheck flip.
"""
from __future__ import annotations

import pandas as pd

from .rates import rate_columns

FAILED = ("FAILURE", "POST_FAILURE", "TIMED_OUT", "NODE_FAILURE", "RETRY_LIMIT", "ERROR")
KEYS = ["ci_system", "pipeline", "patch_set_id", "job"]


def recheck_flips(verdicts: pd.DataFrame, rechecks: pd.DataFrame,
                  known_systems: set[str]) -> pd.DataFrame:
    """Every result change between two consecutive pass/fail results of one
    (CI system, pipeline, patch set, job): KEYS, before, after, posted_at and
    ``recheck`` (a request for this CI came after the first and at or before
    the second).

    verdicts: KEYS, result, posted_at; rechecks: patch_set_id, requested_at,
    target (the CI named; NULL, or a word that is no known CI: every CI)."""
    v = verdicts.assign(pipeline=verdicts["pipeline"].fillna(""))
    v = v[v["result"].isin(FAILED) | (v["result"] == "SUCCESS")].copy()
    v["passed"] = v["result"] == "SUCCESS"
    v = v.sort_values(KEYS + ["posted_at"])
    group = v.groupby(KEYS, sort=False)
    v["before_at"] = group["posted_at"].shift()
    v["before_passed"] = group["passed"].shift()
    changes = v[v["before_at"].notna() & (v["before_passed"] != v["passed"])].copy()
    changes = changes.reset_index(drop=True)
    changes["recheck"] = changes.index.isin(
        _with_recheck_between(changes, rechecks, known_systems, "before_at", "posted_at"))
    return changes


def _with_recheck_between(frame: pd.DataFrame, rechecks: pd.DataFrame, known: set[str],
                          after: str, until: str) -> set:
    """Index labels of ``frame`` rows (patch_set_id, ci_system, ``after``,
    ``until``) with a recheck request for their CI in (after, until]."""
    if frame.empty or rechecks.empty:
        return set()
    r = rechecks.assign(everyone=rechecks["target"].isna() | ~rechecks["target"].isin(known))
    hit = frame[["patch_set_id", "ci_system", after, until]].reset_index(names="row") \
        .merge(r, on="patch_set_id")
    hit = hit[(hit["requested_at"] > hit[after]) & (hit["requested_at"] <= hit[until])
              & (hit["everyone"] | (hit["target"] == hit["ci_system"]))]
    return set(hit["row"])


def flaky_jobs(verdicts: pd.DataFrame, rechecks: pd.DataFrame | None = None,
               known_systems: set[str] | None = None) -> list[dict]:
    """Per (CI system, job): patch sets reported on (``patch_sets``), those with a
    recheck request between two of its results (``rechecked``), those where a
    recheck changed its result (``flaky``: recheck flips), result changes with
    no recheck in between, and the flaky rate (flaky / patch sets) with its
    Wilson interval."""
    if verdicts.empty:
        return []
    if rechecks is None:
        rechecks = pd.DataFrame(columns=["patch_set_id", "requested_at", "target"])
    known = set(verdicts["ci_system"]) | set(known_systems or ())
    v = verdicts.assign(pipeline=verdicts["pipeline"].fillna(""))
    per_ps = v.groupby(KEYS).size().rename("results").reset_index()
    changes = recheck_flips(v, rechecks, known)
    flipped = changes[changes["recheck"]].drop_duplicates(KEYS)[KEYS].assign(flaky=1)
    silent = changes[~changes["recheck"]].groupby(KEYS).size().rename("silent").reset_index()
    per_ps = per_ps.merge(flipped, on=KEYS, how="left").merge(silent, on=KEYS, how="left")
    span = v.groupby(KEYS)["posted_at"].agg(first="min", last="max")
    per_ps = per_ps.join(span, on=KEYS)
    per_ps["rechecked"] = per_ps.index.isin(
        _with_recheck_between(per_ps, rechecks, known, "first", "last")).astype(int)
    per_ps = per_ps.fillna({"flaky": 0, "silent": 0})
    per_job = per_ps.groupby(["ci_system", "job"]).agg(
        flaky=("flaky", "sum"), rechecked=("rechecked", "sum"), patch_sets=("flaky", "size"),
        changes_without_recheck=("silent", "sum"))
    per_job["not_flaky"] = per_job["patch_sets"] - per_job["flaky"]
    per_job = rate_columns(per_job.reset_index(), "flaky", "not_flaky")
    per_job = per_job.sort_values(["failure_rate", "flaky", "ci_system", "job"],
                                  ascending=[False, False, True, True])
    return [{"ci_system": r.ci_system, "job": r.job, "patch_sets": int(r.patch_sets),
             "rechecked": int(r.rechecked), "flaky": int(r.flaky),
             "changes_without_recheck": int(r.changes_without_recheck),
             "flaky_rate": float(r.failure_rate), "n": int(r.n), "ci_low": float(r.ci_low),
             "ci_high": float(r.ci_high)} for r in per_job.itertuples(index=False)]
