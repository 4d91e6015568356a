"""RunWriter.finish writes the tests' counters and daily rollups a slice of
tests at a time (memory stays flat in the run's size, issue 16 defect 8): the
result is the same as in one slice, for new and known tests, on every engine."""
from __future__ import annotations

import datetime as dt

from health_api.db import tables
from health_api.ingest import writer

from streams import ingest, rows, stream

TESTS = [(f"pkg.mod.Test.test_{i:02d}", status, 0.5 + i)
         for i, status in enumerate(["success", "fail", "skip", "success", "xfail",
                                     "success", "uxsuccess", "fail", "success", "success",
                                     "success"])]


def _state(engine):
    return {
        "tests": rows(engine, "SELECT test_id, run_count, success, failure, run_time "
                              "FROM tests ORDER BY test_id"),
        "runs": rows(engine, "SELECT passes, fails, skips, run_time FROM runs ORDER BY id"),
        "job": rows(engine, "SELECT day, build_name, passed, failed, run_time_sum "
                            "FROM ch_job_daily ORDER BY day, build_name"),
        "test_daily": rows(engine, "SELECT d.day, t.test_id, d.success, d.failure, d.skip, "
                                   "d.timed, d.run_time_sum FROM ch_test_daily d JOIN tests t "
                                   "ON t.id = d.test_id ORDER BY 1, 2"),
    }


def _empty(engine) -> None:
    with engine.begin() as conn:
        for table in tables.metadata.sorted_tables:
            conn.execute(table.delete())


def _ingest_three_runs(db_url):
    start = dt.datetime(2026, 10, 1, 8, tzinfo=dt.timezone.utc)
    ingest(db_url, stream(*TESTS[:7], start=start), "--run-meta", "build_name=job")
    # known tests and new ones, the same job and day; then a later day
    ingest(db_url, stream(*TESTS[3:], start=start + dt.timedelta(hours=1)),
           "--run-meta", "build_name=job")
    ingest(db_url, stream(*TESTS, TESTS[1][:1] + ("success",),
                          start=start + dt.timedelta(days=1)), "--run-meta", "build_name=job")


def test_counters_and_rollups_alike_in_slices(db_url, engine, monkeypatch):
    monkeypatch.setattr(writer, "FINISH_SLICE", 3)
    _ingest_three_runs(db_url)
    sliced = _state(engine)
    _empty(engine)
    monkeypatch.setattr(writer, "FINISH_SLICE", 50_000)
    _ingest_three_runs(db_url)
    whole = _state(engine)
    assert sliced == whole
    assert len(sliced["tests"]) == len(TESTS) and len(sliced["runs"]) == 3
    assert sliced["test_daily"] and sliced["job"][0][2:4] == (0, 2)


def test_run_results_give_back_what_went_in():
    from health_api.ingest.run_results import RunResults
    results = RunResults()
    given = {1: ("success", 1.234567), 2: ("fail", None), 3: ("skip", 0.0),
             2**40: ("success", -4294967295.0), 5: ("xfail", 86400 * 3.5 + 0.000001)}
    for test_db_id, result in given.items():
        results[test_db_id] = result
    results[1] = ("fail", 2.5)  # a retry: the last result wins
    given[1] = ("fail", 2.5)
    assert {k: results[k] for k in results} == given
    assert len(results) == 5 and 2**40 in results and 4 not in results
    assert sorted(results.values(), key=repr) == sorted(given.values(), key=repr)
