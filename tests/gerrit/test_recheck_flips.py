"""Flaky CI jobs count a result change on one patch set only when a recheck
request for that CI came between the two results (ci_recheck_requests); a new
patch set, a change with no request between, or a recheck asked of another CI
are not flips. Through the Gerrit store and ``analyze`` on every engine."""
from __future__ import annotations

import time

from health_api.gerrit.store import GerritStore
from health_api.insight import serve
from health_api.insight.analyze import analyze_and_store
from health_api.insight.options import InsightOptions
from sshd.helpers import comment_event, created_event, zuul_report

# recent, so that the analysed period (30 days up to now, no runs stored) holds them
BASE = int(time.time()) // 60 * 60 - 5 * 86400


def _report(change, ps, result, at, author="zuul"):
    return comment_event(change, ps, zuul_report([("tempest-full", result)], ps=ps), at,
                         author=author)


def _recheck(change, ps, at, text="recheck"):
    return comment_event(change, ps, f"Patch Set {ps}:\n\n{text}", at, author="ada")


def test_recheck_flips_need_a_request_between_the_results(engine):
    t = BASE
    events = [
        # 11: FAILURE, recheck, SUCCESS on one patch set: a recheck flip
        created_event(11, 1, t), _report(11, 1, "FAILURE", t + 100),
        _recheck(11, 1, t + 200), _report(11, 1, "SUCCESS", t + 300),
        # 12: FAILURE on patch set 1, SUCCESS on patch set 2: new code, no flip
        created_event(12, 1, t), _report(12, 1, "FAILURE", t + 100),
        created_event(12, 2, t + 150), _report(12, 2, "SUCCESS", t + 300),
        # 13: the result changed with no request between (the recheck came after)
        created_event(13, 1, t), _report(13, 1, "FAILURE", t + 100),
        _report(13, 1, "SUCCESS", t + 300), _recheck(13, 1, t + 400),
        # 14: the recheck between asked another CI (known: it reported here)
        created_event(14, 1, t), _report(14, 1, "FAILURE", t + 100),
        _report(14, 1, "SUCCESS", t + 110, author="acme-ci"),
        _recheck(14, 1, t + 200, "recheck acme-ci"), _report(14, 1, "SUCCESS", t + 300),
        # 15: "recheck please" names no CI: every CI's recheck
        created_event(15, 1, t), _report(15, 1, "POST_FAILURE", t + 100),
        _recheck(15, 1, t + 200, "recheck please"), _report(15, 1, "SUCCESS", t + 300),
        _report(15, 1, "SUCCESS", t + 400),
    ]
    stats = GerritStore(engine, {}).store_raw_events(events)
    assert stats.recheck_requests == 4
    analyze_and_store(engine, InsightOptions())
    with engine.connect() as conn:
        doc = serve.stored(conn, "flaky_jobs")
    jobs = {(j["ci_system"], j["job"]): j for j in doc["jobs"]}
    zuul = jobs[("zuul", "tempest-full")]
    assert (zuul["patch_sets"], zuul["flaky"], zuul["rechecked"],
            zuul["changes_without_recheck"]) == (6, 2, 2, 2)
    assert zuul["flaky_rate"] == 2 / 6 and zuul["n"] == 6
    assert zuul["ci_low"] < 2 / 6 < zuul["ci_high"]
    acme = jobs[("acme-ci", "tempest-full")]
    assert (acme["patch_sets"], acme["flaky"], acme["rechecked"]) == (1, 0, 0)


def test_the_demo_flaky_cis_come_out_on_top(engine):
    import datetime as dt

    from health_api.demo.gerrit import generate_gerrit
    end = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    truth = generate_gerrit(engine, start=end - dt.timedelta(days=4), end=end, seed=3,
                            changes_per_day=15)
    analyze_and_store(engine, InsightOptions())
    with engine.connect() as conn:
        served = serve.stored(conn, "flaky_jobs")["jobs"]
    flips = {(j["ci_system"], j["job"]): j["flaky"] for j in served}
    # every planted FAILURE -> SUCCESS after a recheck is found as a recheck flip
    for ci, jobs in truth.recheck_flips.items():
        for job, n in jobs.items():
            assert flips[(ci, job)] >= n, (ci, job)
    flaky_cis = {f["username"] for f in truth.flaky_cis}
    top = {j["ci_system"] for j in served[:3]}
    assert top <= flaky_cis and served[0]["flaky"] > 0
