"""Every test of the period ranked by failure rate, flakiness and impact: the
Tests page's "rank every test" (not only the tests with flaky evidence)."""
from __future__ import annotations

import pandas as pd

from .rates import rate_columns

#: sort name -> (columns, ascending) of the ranking; test_id breaks every tie
SORTS = {
    "failure_rate": (["failure_rate", "failure", "test_id"], [False, False, True]),
    "flakiness": (["flaky", "evidence", "failure_rate", "test_id"], [False, False, False, True]),
    "impact": (["impact", "failure", "test_id"], [False, False, True]),
    "failures": (["failure", "test_id"], [False, True]),
    "runs": (["n", "test_id"], [False, True]),
    "test_id": (["test_id"], [True]),
}


def ranking(totals: pd.DataFrame, failures: pd.DataFrame, runs: pd.DataFrame,
            flaky_rows: list[dict]) -> list[dict]:
    """One row per test that ran in the period, in test_id order.

    totals: test_db_id, test_id, success, failure (rollup sums of the period)
    failures: test_db_id, run_id (every failed result); runs: id, fails
    flaky_rows: the flaky-test analysis (test_id, evidence, flaky) of the tests
    with flaky evidence.
    impact: failed runs where this test was the only failing test."""
    if totals.empty:
        return []
    fails = runs.set_index("id")["fails"]
    sole = failures[failures["run_id"].map(fails) == 1].groupby("test_db_id").size()
    frame = totals.copy()
    frame["impact"] = frame["test_db_id"].map(sole).fillna(0).astype(int)
    flaky = pd.DataFrame([{"test_id": r["test_id"], "evidence": r["evidence"],
                           "flaky": r["flaky"]} for r in flaky_rows],
                         columns=["test_id", "evidence", "flaky"])
    frame = frame.merge(flaky, on="test_id", how="left")
    frame["evidence"] = frame["evidence"].fillna(0).astype(int)
    frame["flaky"] = frame["flaky"].fillna(False).astype(bool)
    frame = rate_columns(frame, "failure", "success")
    frame = frame.sort_values("test_id")
    return [{"test_id": r.test_id, "success": int(r.success), "failure": int(r.failure),
             "n": int(r.n), "failure_rate": None if r.n == 0 else float(r.failure_rate),
             "ci_low": None if r.n == 0 else float(r.ci_low),
             "ci_high": None if r.n == 0 else float(r.ci_high),
             "flaky": bool(r.flaky), "evidence": int(r.evidence), "impact": int(r.impact)}
            for r in frame.itertuples(index=False)]


def ranked(rows: list[dict], sort: str) -> list[dict]:
    """``rows`` in the order of ``sort`` (largest first; tests with no decided
    result last for a rate)."""
    if not rows:
        return []
    frame = pd.DataFrame(rows)
    frame["position"] = range(len(frame))
    frame["failure_rate"] = frame["failure_rate"].fillna(-1.0)
    columns, ascending = SORTS[sort]
    order = frame.sort_values(columns, ascending=ascending, kind="stable")["position"]
    return [rows[i] for i in order]
