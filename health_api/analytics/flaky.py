"""Flaky tests (docs/design.md section 4): evidence, rates, flip rate, impact.

Evidence is a failed result of a test whose run shares its change and patch
set with another run where the same test passed (a recheck that passed), or
a test that failed and then passed on retry within one run.
Failures in runs where many tests failed at once are infrastructure, not the
test: they count in the rates but are never evidence.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..rules import FAIL, PASS, STATUS_CLASS
from .rates import Z95, wilson


@dataclass(frozen=True)
class FlakyOptions:
    min_evidence: int = 1         # evidence events before a test is called flaky
    min_failure_rate: float = 0.005  # the interval's lower bound must clear this
    infra_run_failures: int = 10  # a run with more failed tests is an infra failure
    flip_runs: int = 30           # flip rate over the last N runs of a job


def sibling_pairs(failures: pd.DataFrame, runs: pd.DataFrame,
                  infra_run_failures: int) -> pd.DataFrame:
    """(test_db_id, run_id of the failure, sibling run_id) for every failure that
    may be evidence: its run has a change and patch set, other runs share them,
    and it is not an infrastructure failure."""
    keyed = runs.dropna(subset=["change", "patchset"])[["id", "change", "patchset", "fails"]]
    f = failures.merge(keyed, left_on="run_id", right_on="id", how="inner")
    f = f[f["fails"].fillna(0) <= infra_run_failures]
    pairs = f[["test_db_id", "run_id", "change", "patchset"]].merge(
        keyed[["id", "change", "patchset"]].rename(columns={"id": "sibling"}),
        on=["change", "patchset"])
    pairs = pairs[pairs["sibling"] != pairs["run_id"]]
    return pairs[["test_db_id", "run_id", "sibling"]].drop_duplicates()


def evidence(pairs: pd.DataFrame, passed: pd.DataFrame) -> pd.DataFrame:
    """The failures (test_db_id, run_id) with a sibling run where the test passed;
    ``passed`` holds (test_db_id, run_id) of passing results."""
    hit = pairs.merge(passed.rename(columns={"run_id": "sibling"}), on=["test_db_id", "sibling"])
    return hit[["test_db_id", "run_id"]].drop_duplicates()


def retry_evidence(retried: pd.DataFrame, runs: pd.DataFrame,
                   infra_run_failures: int) -> pd.DataFrame:
    """The results that failed and then passed on retry within one run
    (stestr/tempest reruns): test_db_id, run_id, test_id. ``retried``: test_db_id,
    test_id, run_id, attempts (the statuses in order, comma-separated)."""
    if retried.empty:
        return pd.DataFrame({"test_db_id": pd.Series(dtype="int64"),
                             "run_id": pd.Series(dtype="int64"),
                             "test_id": pd.Series(dtype="object")})
    classes = retried["attempts"].map(
        lambda text: {STATUS_CLASS.get(s.strip()) for s in str(text).split(",")})
    both = classes.map(lambda c: PASS in c and FAIL in c)
    r = retried[both].merge(runs[["id", "fails"]], left_on="run_id", right_on="id")
    r = r[r["fails"].fillna(0) <= infra_run_failures]
    return r[["test_db_id", "run_id", "test_id"]].drop_duplicates(["test_db_id", "run_id"])


def runs_needed(failed: int, n: int, min_rate: float, cap: int = 1_000_000) -> int | None:
    """How many more runs, at the observed failure rate, before the rate's Wilson
    lower bound clears ``min_rate`` (0 if it already does; None if the observed
    rate is not above it, so more runs would not tell)."""
    if n <= 0 or failed <= 0:
        return None
    p = failed / n
    if p <= min_rate:
        return None
    if (wilson(failed, n)[0] or 0.0) >= min_rate:
        return 0
    sizes = np.unique(np.geomspace(n, cap, 4000).astype(np.int64))
    f = p * sizes
    z2 = Z95 * Z95
    low = (p + z2 / (2 * sizes) - Z95 * np.sqrt(p * (1 - p) / sizes + z2 / (4 * sizes * sizes))) \
        / (1 + z2 / sizes)
    ok = sizes[(low >= min_rate) & (f >= 1)]
    return int(ok[0] - n) if len(ok) else None


def flip_rate(statuses: list[str]) -> float | None:
    """Outcome changes / (n - 1) over a sequence of pass/fail outcomes."""
    if len(statuses) < 2:
        return None
    changes = sum(1 for a, b in zip(statuses, statuses[1:]) if a != b)
    return changes / (len(statuses) - 1)


def flaky_tests(failures: pd.DataFrame, runs: pd.DataFrame, found: pd.DataFrame,
                totals: pd.DataFrame, sequences: pd.DataFrame,
                options: FlakyOptions, names: pd.Series | None = None) -> list[dict]:
    """One row per test with evidence, flaky ones first, ranked by impact.

    failures: test_db_id, test_id, run_id (every failed result of the period)
    runs: id, run_at, fails, job (the period's runs)
    found: test_db_id, run_id (the evidence, from :func:`evidence`)
    totals: test_db_id, job, success, failure (rollup sums of the period; failures
            in runs with more than ``infra_run_failures`` failed tests are taken out)
    sequences: test_db_id, run_id, outcome ('pass'/'fail') of candidate tests
    """
    if found.empty:
        return []
    run_info = runs.set_index("id")[["run_at", "fails", "job"]]
    if names is None:  # test names by db id (tests retried to a pass never failed)
        names = failures.drop_duplicates("test_db_id").set_index("test_db_id")["test_id"]
    ev = found.join(run_info, on="run_id")
    fail = failures.join(run_info, on="run_id")
    sole = fail[fail["fails"] == 1].groupby("test_db_id").size()
    # failures in infrastructure-failed runs are the node's, not the test's: they
    # leave the test's rates (as results) as they leave its evidence
    infra = fail[fail["fails"] > options.infra_run_failures].groupby(["test_db_id", "job"]) \
        .size().rename("infra").reset_index()
    totals = totals.merge(infra, on=["test_db_id", "job"], how="left")
    totals["failure"] = totals["failure"] - totals["infra"].fillna(0).astype(int)
    per_test_totals = totals.groupby("test_db_id")[["success", "failure"]].sum()
    seq = sequences.join(run_info[["run_at", "job"]], on="run_id").sort_values("run_at")
    out = []
    for test_db_id, events in ev.groupby("test_db_id"):
        success, failure = (per_test_totals.loc[test_db_id].tolist()
                            if test_db_id in per_test_totals.index else (0, 0))
        n = int(success + failure)
        low, high = wilson(int(failure), n)
        flaky = len(events) >= options.min_evidence and (low or 0.0) >= options.min_failure_rate
        jobs = []
        test_seq = seq[seq["test_db_id"] == test_db_id]
        job_totals = totals[totals["test_db_id"] == test_db_id].set_index("job")
        for job, job_events in events.groupby("job"):
            last = test_seq[test_seq["job"] == job]["outcome"].tolist()[-options.flip_runs:]
            js, jf = (job_totals.loc[job, ["success", "failure"]].tolist()
                      if job in job_totals.index else (0, 0))
            jlow, jhigh = wilson(int(jf), int(js + jf))
            jobs.append({"job": job, "evidence": int(len(job_events)),
                         "failure_rate": jf / (js + jf) if js + jf else None,
                         "n": int(js + jf), "ci_low": jlow, "ci_high": jhigh,
                         "flip_rate": flip_rate(last), "flip_runs": len(last)})
        last_all = test_seq["outcome"].tolist()[-options.flip_runs:]
        out.append({
            "test_id": names.get(test_db_id, str(test_db_id)), "flaky": bool(flaky),
            "evidence": int(len(events)), "impact": int(sole.get(test_db_id, 0)),
            "failures": int(failure), "failure_rate": failure / n if n else None, "n": n,
            "ci_low": low, "ci_high": high, "flip_rate": flip_rate(last_all),
            "first_flaky": events["run_at"].min(), "last_flaky": events["run_at"].max(),
            "more_runs_needed": None if flaky else runs_needed(int(failure), n,
                                                                options.min_failure_rate),
            "jobs": sorted(jobs, key=lambda j: -j["evidence"])})
    out.sort(key=lambda r: (not r["flaky"], -r["impact"], -r["evidence"], r["test_id"]))
    return out
