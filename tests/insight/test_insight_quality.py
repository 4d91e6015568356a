"""The analyses against the demo generator's planted truth, on every engine.

gate-month (12.8M results) is too big for the suite; this store has the same
planting (6 flaky tests at 2-6 %, 3 broken windows, a bad node provider for
36 hours, 11 failure causes) on a smaller test pool, with enough runs (12
jobs x 24 runs a day x 8 days) that the statistics hold: the figures below
held for every seed tried (0-5). The assertions compare sets, not counts.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict

import pytest
import sqlalchemy as sa

from health_api.db import bulk
from health_api.db.migrate import upgrade
from health_api.db.models import Base
from health_api.db.session import make_engine
from health_api.demo.gate import generate
from health_api.insight import quality, serve
from health_api.insight.analyze import analyze_and_store
from health_api.insight.options import InsightOptions

from engines import ENGINES

SCALE = {"days": 8, "jobs": 12, "runs_per_day": 24, "pool_size": 60, "seed": 0,
         "end": dt.datetime(2026, 11, 1)}
COPY_BATCH = 5000


@pytest.fixture(scope="module")
def planted(databases):
    """(SQLite URL, truth): the history generated once; PostgreSQL and MariaDB
    get a copy of its rows (the generator's per-run rollup upserts would take
    minutes there, and are tested elsewhere)."""
    url = databases.new_url("sqlite", "insight_quality")
    engine = make_engine(url)
    upgrade(engine)
    truth = asdict(generate(engine, **SCALE))
    engine.dispose()
    return url, truth


def _copy_rows(source_url: str, target_url: str) -> None:
    source, target = make_engine(source_url), make_engine(target_url)
    with source.connect() as read, target.begin() as write:
        for table in Base.metadata.sorted_tables:
            if table.name == "ch_analysis":
                continue  # each engine computes its own
            columns = [c.name for c in table.columns]
            result = read.execute(sa.select(table)).yield_per(COPY_BATCH)
            for chunk in result.partitions():
                bulk.insert_rows(write, table, columns, [tuple(r) for r in chunk])
    source.dispose()
    target.dispose()


@pytest.fixture(scope="module", params=ENGINES)
def analysed(request, databases, planted):
    """(truth, {kind: stored analysis}) of the planted store on each engine."""
    url, truth = planted
    if request.param != "sqlite":
        copy = databases.new_url(request.param, "insight_quality")
        engine = make_engine(copy)
        upgrade(engine)
        engine.dispose()
        _copy_rows(url, copy)
        url = copy
    engine = make_engine(url)
    analyze_and_store(engine, InsightOptions())
    with engine.connect() as conn:
        docs = {k: serve.stored(conn, k) for k in ("flaky_tests", "broken", "clusters",
                                                   "suspects")}
    engine.dispose()
    return truth, docs


def test_flaky_tests_found_are_the_planted_ones(analysed):
    truth, docs = analysed
    planted = {f["test_id"] for f in truth["flaky_tests"]}
    found = {t["test_id"] for t in docs["flaky_tests"]["tests"] if t["flaky"]}
    assert len(planted) == 6
    assert found == planted
    scores = quality.flaky_quality(truth, docs["flaky_tests"])
    assert scores["precision"] >= 0.9 and scores["recall"] >= 0.9


def test_each_broken_window_starts_within_a_day(analysed):
    truth, docs = analysed
    planted = {(b["test_id"], b["job"]) for b in truth["broken_tests"]}
    detected = {(e["test_id"], e["job"]) for e in docs["broken"]["episodes"]
                if e["kind"] == "test"}
    assert len(planted) == 3 and detected == planted
    for b in quality.broken_quality(truth, docs["broken"]):
        assert b["error_hours"] is not None and b["error_hours"] <= 24, b
        assert b["probability"] >= 0.99


def test_each_planted_cause_is_one_cluster(analysed):
    truth, docs = analysed
    scores = quality.cluster_quality(truth, docs["clusters"])
    assert [c["clusters"] for c in scores["causes"]] == [1] * len(truth["failure_causes"])
    assert scores["clusters_total"] == len(truth["failure_causes"]) == 11
    # a flaky or broken test's failures are its cause's cluster, and only its
    by_test = {}
    for c in docs["clusters"]["clusters"]:
        for t in c["top_tests"]:
            by_test.setdefault(t["test_id"], set()).add(c["signature"])
    for cause in truth["failure_causes"]:
        for test_id in cause["tests"]:
            (sig,) = by_test[test_id] - _infra_and_noise(docs, truth)
            assert quality._same_shape(sig, quality.normalise(
                cause["error"].replace("{{", "{").replace("}}", "}")))
    infra = next(c for c in truth["failure_causes"] if c["kind"] == "infra")
    cluster = next(c for c in docs["clusters"]["clusters"]
                   if c["signature"] in _infra_and_noise(docs, truth, kinds=("infra",)))
    assert cluster["tests"] > 10, "one infrastructure cause across many tests: one cluster"
    assert infra["node_provider"] == truth["bad_provider"]["node_provider"]


def _infra_and_noise(docs, truth, kinds=("infra", "noise")) -> set[str]:
    out = set()
    for cause in truth["failure_causes"]:
        if cause["kind"] in kinds:
            shape = quality.normalise(cause["error"].replace("{{", "{").replace("}}", "}"))
            out |= {c["signature"] for c in docs["clusters"]["clusters"]
                    if quality._same_shape(c["signature"], shape)}
    return out


def test_bad_node_provider_is_the_top_suspect(analysed):
    truth, docs = analysed
    top = docs["suspects"]["all"][0]
    bad = truth["bad_provider"]
    assert (top["key"], top["value"]) == ("node_provider", bad["node_provider"])
    assert quality.suspect_rank(truth, docs["suspects"]) == 1
    assert top["p_value"] < 0.01
    assert top["window"]["failure_rate"] > top["window_rest"]["failure_rate"]
    # the window found overlaps the planted bad spell
    assert top["window_start"] < bad["to"] and top["window_stop"] > bad["from"]
