"""Run every failure-intelligence analysis over the period and store the results.

``ci-health analyze`` calls :func:`analyze_and_store` after ingest; the insight
endpoints serve what it stored (and call it themselves, once, on a database
where it never ran). Queries come from health_api.queries.insight, the
figures from health_api.analytics; this module only joins them up.
"""
from __future__ import annotations

import datetime as dt
import json
import time

import pandas as pd

from .. import rules
from ..analytics import broken, clusters, explained, flaky, flaky_jobs, ranking, suspects
from ..analytics.jsonsafe import clean
from ..analytics.signatures import cluster_id, signature
from ..queries import insight as q
from ..queries import insight_store as store
from .options import InsightOptions, file_labels

KINDS = ("flaky_tests", "clusters", "broken", "explained", "suspects", "flaky_jobs",
         "test_ranking")
#: a (job, test) needs this many failures in the period to be looked at for a change point
MIN_BROKEN_FAILURES = 3


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def period(conn, options: InsightOptions) -> tuple[dt.datetime, dt.datetime]:
    """The analysed period: ``period_days`` up to just after the newest run."""
    latest = q.latest_run_at(conn) or _utcnow()
    stop = latest.replace(microsecond=0) + dt.timedelta(seconds=1)
    return stop - dt.timedelta(days=options.period_days), stop


def run_frame(conn, start, stop, options: InsightOptions) -> pd.DataFrame:
    keys = {options.job_key: "job", options.change_key: "change",
            options.patchset_key: "patchset"}
    wanted = list(keys) + [k for k in options.suspect_keys if k not in keys]
    runs, meta = q.runs_with_metadata(conn, start, stop, wanted)
    frame = pd.DataFrame(runs, columns=["id", "uuid", "run_at", "passes", "fails", "artifacts"])
    if meta:
        wide = pd.DataFrame(meta, columns=["run_id", "key", "value"]) \
            .drop_duplicates(["run_id", "key"]).pivot(index="run_id", columns="key",
                                                      values="value")
        frame = frame.join(wide, on="id")
    for key, column in keys.items():
        frame[column] = frame[key] if key in frame else None
    for key in options.suspect_keys:
        if key not in frame:
            frame[key] = None
    frame["run_at"] = pd.to_datetime(frame["run_at"])
    return frame


def _outcome_frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["test_db_id", "run_id", "status"])
    frame["outcome"] = frame["status"].map(rules.STATUS_CLASS)
    return frame[frame["outcome"].isin((rules.PASS, rules.FAIL))]


def _outside_spells(found: pd.DataFrame, runs: pd.DataFrame, names: pd.Series,
                    spells: pd.DataFrame) -> pd.DataFrame:
    if found.empty or spells.empty:
        return found
    f = found.join(runs.set_index("id")[["run_at", "job"]], on="run_id")
    f["test_id"] = f["test_db_id"].map(names)
    f = f.reset_index().merge(spells, on=["test_id", "job"], how="left")
    inside = (f["run_at"] >= f["since"]) & (f["until"].isna() | (f["run_at"] < f["until"]))
    drop = set(f.loc[inside.fillna(False), "index"])
    return found[~found.index.isin(drop)]


def _count_retries_as_failures(totals: pd.DataFrame, retries: pd.DataFrame,
                               runs: pd.DataFrame) -> pd.DataFrame:
    """The rollup counts a result retried to a pass as a pass; in a flaky test's
    failure rate the run where it failed and passed on retry counts as failed."""
    if retries.empty:
        return totals
    per_job = retries.merge(runs[["id", "job"]], left_on="run_id", right_on="id") \
        .groupby(["test_db_id", "job"]).size().rename("retried").reset_index()
    out = totals.merge(per_job, on=["test_db_id", "job"], how="left")
    moved = out.pop("retried").fillna(0).astype(int).clip(upper=out["success"])
    out["success"] -= moved
    out["failure"] += moved
    return out


def compute(conn, options: InsightOptions, labels: dict[str, dict]) -> dict:
    """Every analysis over the period: {kind: JSON-ready payload}."""
    timings = {}
    started = time.perf_counter()
    start, stop = period(conn, options)
    runs = run_frame(conn, start, stop, options)
    failing = q.failing_test_ids(conn, start, stop)
    failures = pd.DataFrame(q.failed_results(conn, failing, start, stop),
                            columns=["test_run_id", "test_db_id", "test_id", "run_id"])
    texts = q.traceback_texts(conn, failures["test_run_id"].tolist())
    failures["signature"] = [signature(texts.get(i)) for i in failures["test_run_id"]]
    failures["cluster_id"] = [cluster_id(s) if s else "" for s in failures["signature"]]
    timings["read_failures"] = time.perf_counter() - started

    # flaky tests
    fo = options.flaky
    pairs = flaky.sibling_pairs(failures, runs, fo.infra_run_failures)
    statuses = _outcome_frame(q.statuses_in_runs(conn, pairs["test_db_id"].tolist(),
                                                 pairs["sibling"].tolist()))
    passed = statuses[statuses["outcome"] == rules.PASS][["test_db_id", "run_id"]]
    found = flaky.evidence(pairs, passed)
    retried = pd.DataFrame(q.retried_results(conn, start, stop),
                           columns=["test_db_id", "test_id", "run_id", "attempts"])
    retries = flaky.retry_evidence(retried, runs, fo.infra_run_failures)
    found = pd.concat([found, retries[["test_db_id", "run_id"]]]).drop_duplicates()
    per_job_fails = failures.merge(runs[["id", "job"]], left_on="run_id", right_on="id")
    counts = per_job_fails.groupby(["test_db_id", "job"]).size()
    broken_candidates = counts[counts >= MIN_BROKEN_FAILURES].reset_index()["test_db_id"]
    looked_at = sorted(set(found["test_db_id"]) | set(broken_candidates))
    totals = _count_retries_as_failures(
        pd.DataFrame(q.test_totals(conn, start, stop, looked_at),
                     columns=["test_db_id", "job", "success", "failure"]), retries, runs)
    sequences = _outcome_frame(q.outcome_sequences(conn, looked_at, start, stop))

    # broken since: tests with a few failures in one job, and every job
    names = pd.concat([failures, retries]).drop_duplicates("test_db_id") \
        .set_index("test_db_id")["test_id"]
    seq = sequences.join(runs.set_index("id")[["run_at", "job"]], on="run_id")
    seq = seq.merge(counts[counts >= MIN_BROKEN_FAILURES].rename("k").reset_index(),
                    on=["test_db_id", "job"])
    seq["test_id"] = seq["test_db_id"].map(names)
    seq["failed"] = (seq["outcome"] == rules.FAIL).astype(int)
    broken_test_rows = broken.broken_tests(seq, options.change_probability)
    broken_rows = broken_test_rows + broken.broken_jobs(runs, options.change_probability)
    timings["broken"] = time.perf_counter() - started

    # a failure inside a broken episode of its test and job is not flaky evidence
    found = _outside_spells(found, runs, names,
                            broken.failing_spells(seq, options.change_probability))
    flaky_rows = flaky.flaky_tests(failures, runs, found, totals,
                                   sequences[sequences["test_db_id"].isin(found["test_db_id"])],
                                   fo, names)
    timings["flaky_tests"] = time.perf_counter() - started

    cluster_rows = clusters.clusters(failures, runs, labels, start, stop, options.new_days)
    flaky_names = {r["test_id"] for r in flaky_rows if r["flaky"]}
    labelled = {cid for cid, label in labels.items() if label.get("label")}
    explained_doc = explained.explained(failures, runs, labelled, flaky_names, start, stop)
    jobs = sorted(j for j in runs["job"].dropna().unique())
    suspect_doc = {"keys": list(options.suspect_keys),
                   "all": suspects.suspects(runs, list(options.suspect_keys)),
                   "jobs": {j: suspects.suspects(runs, list(options.suspect_keys), j)
                            for j in jobs}}
    verdicts = pd.DataFrame(q.verdicts(conn, start, stop),
                            columns=["ci_system", "pipeline", "patch_set_id", "job", "attempt",
                                     "result", "posted_at"])
    every_test = pd.DataFrame(q.every_test_totals(conn, start, stop),
                              columns=["test_db_id", "test_id", "success", "failure"])
    ranking_rows = ranking.ranking(every_test, failures, runs, flaky_rows)
    rechecks = pd.DataFrame(q.recheck_requests(conn, start, stop),
                            columns=["patch_set_id", "requested_at", "target"])
    timings["total"] = time.perf_counter() - started
    common = {"start": start, "stop": stop}
    return {
        "flaky_tests": {**common, "options": {"min_evidence": fo.min_evidence,
                                              "min_failure_rate": fo.min_failure_rate,
                                              "flip_runs": fo.flip_runs},
                        "tests": flaky_rows},
        "clusters": {**common, "new_days": options.new_days, "clusters": cluster_rows},
        "broken": {**common, "min_probability": options.change_probability,
                   "episodes": broken_rows},
        "explained": {**common, **explained_doc},
        "suspects": {**common, **suspect_doc},
        "flaky_jobs": {**common, "jobs": flaky_jobs.flaky_jobs(
            verdicts, rechecks, q.ci_system_names(conn))},
        "test_ranking": {**common, "tests": ranking_rows},
        "_timings": timings,
    }


def all_labels(conn, options: InsightOptions) -> dict[str, dict]:
    """Labels of the YAML file, overridden by those set through the API."""
    return {**file_labels(options.labels_file), **store.labels(conn)}


def analyze_and_store(engine, options: InsightOptions) -> dict:
    """Compute everything and replace the stored results in one transaction;
    returns {"kinds": [...], "timings": {...}, "start", "stop"}."""
    with engine.connect() as conn:
        labels = all_labels(conn, options)
        results = compute(conn, options, labels)
    timings = results.pop("_timings")
    now = _utcnow()
    with engine.begin() as conn:
        for kind, payload in results.items():
            store.save_analysis(conn, kind, json.dumps(clean({**payload, "computed_at": now})),
                                now, payload["start"], payload["stop"])
    return {"kinds": list(results), "timings": timings,
            "start": results["flaky_tests"]["start"], "stop": results["flaky_tests"]["stop"]}
