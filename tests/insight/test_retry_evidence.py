"""Flaky evidence "within one run on retry": a test that failed and then passed
in the same run's stream (stestr/tempest reruns) is flaky evidence, with no
change or patch set metadata at all. Ingest keeps subunit2sql's one test_runs
row per test (the last result) and the attempts in test_run_metadata."""
from __future__ import annotations

import datetime as dt

from health_api.insight import serve
from health_api.insight.analyze import analyze_and_store
from health_api.insight.options import InsightOptions

from streams import UTC, ingest, rows, stream


def test_a_test_that_passed_on_retry_is_flaky_evidence(db_url, engine):
    start = dt.datetime.now(UTC).replace(microsecond=0) - dt.timedelta(days=2)
    for n in range(40):
        tests = [("pkg.test_steady", "success"), ("pkg.test_twice_failed", "success"),
                 ("pkg.test_flaky", "fail" if n % 4 == 0 else "success")]
        if n % 4 == 0:
            tests.append(("pkg.test_flaky", "success"))          # the retry passed
        if n == 5:
            tests += [("pkg.test_steady", "success")]            # a rerun of a pass
        if n == 6:  # failed, retried, failed again: a failure, no evidence of flakiness
            tests = [("pkg.test_twice_failed", "fail"), ("pkg.test_twice_failed", "fail"),
                     ("pkg.test_steady", "success"), ("pkg.test_flaky", "success")]
        ingest(db_url, stream(*tests, start=start + dt.timedelta(minutes=30 * n)),
               "--run-meta", "build_name=unit")
    # stored as subunit2sql stores it: one row per test and run, the last status
    assert rows(engine, "SELECT COUNT(*) FROM test_runs") == [(120,)]
    assert rows(engine, "SELECT status, COUNT(*) FROM test_runs tr JOIN tests t ON "
                        "t.id = tr.test_id WHERE t.test_id = 'pkg.test_flaky' "
                        "GROUP BY status") == [("success", 40)]

    analyze_and_store(engine, InsightOptions())
    with engine.connect() as conn:
        doc = serve.stored(conn, "flaky_tests")
    found = {t["test_id"]: t for t in doc["tests"]}
    assert set(found) == {"pkg.test_flaky"}
    flaky = found["pkg.test_flaky"]
    assert flaky["evidence"] == 10 and flaky["flaky"] is True
    # the runs where it failed before passing count as failed in its rate
    assert (flaky["failures"], flaky["n"], flaky["failure_rate"]) == (10, 40, 0.25)
    assert flaky["impact"] == 0      # no run failed: the retries passed
    assert [j["job"] for j in flaky["jobs"]] == ["unit"]
    assert flaky["first_flaky"] < flaky["last_flaky"]
