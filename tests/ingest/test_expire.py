"""ci-health db expire and rebuild-rollups."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from health_api.ingest.expire import expire_runs, rebuild_rollups

from streams import columns, ingest, rows, run_cli, snapshot, stream, table_counts

UTC = dt.timezone.utc


def _ingest_at(db_url, when, *tests, job="job-a"):
    return ingest(db_url, stream(*tests, start=when), "--run-meta", f"build_name={job}",
                  "--store-attachments")


def test_expire_deletes_old_runs_and_everything_of_them(db_url, engine):
    now = dt.datetime.now(UTC).replace(microsecond=0)
    old = now - dt.timedelta(days=40)
    _ingest_at(db_url, old, ("pkg.gone", "fail", 1.0, {"w"}, b"trace"), ("pkg.both", "success", 2.0))
    _ingest_at(db_url, old + dt.timedelta(hours=1), ("pkg.both", "fail", 1.0, None, b"tb"))
    kept = _ingest_at(db_url, now - dt.timedelta(days=1), ("pkg.both", "success", 4.0),
                      ("pkg.new", "skip"))
    result = run_cli("db", "expire", "--db", db_url, "--days", "30", "--batch-size", "1")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["runs"], report["test_runs"], report["tests"]) == (2, 3, 1)
    assert rows(engine, "SELECT id FROM runs") == [(kept["run_id"],)]
    counts = table_counts(engine)
    assert counts["test_runs"] == 2 and counts["attachments"] == 0
    assert counts["run_metadata"] == 1
    # no orphans anywhere
    for sql in ("SELECT COUNT(*) FROM test_runs WHERE run_id NOT IN (SELECT id FROM runs)",
                "SELECT COUNT(*) FROM run_metadata WHERE run_id NOT IN (SELECT id FROM runs)",
                "SELECT COUNT(*) FROM test_run_metadata WHERE test_run_id NOT IN "
                "(SELECT id FROM test_runs)",
                "SELECT COUNT(*) FROM attachments WHERE test_run_id NOT IN "
                "(SELECT id FROM test_runs)",
                "SELECT COUNT(*) FROM test_runs WHERE test_id NOT IN (SELECT id FROM tests)"):
        assert rows(engine, sql) == [(0,)], sql
    # counters and rollups now describe only what is left
    tests = {r[0]: r[1:] for r in rows(engine, "SELECT test_id, run_count, success, failure, "
                                               "run_time FROM tests")}
    assert set(tests) == {"pkg.both", "pkg.new"}
    assert tests["pkg.both"][:3] == (1, 1, 0)
    assert tests["pkg.both"][3] == pytest.approx(4.0)
    assert tests["pkg.new"][:3] == (0, 0, 0)
    jobs = columns(engine, "ch_job_daily", "day", "passed", "failed", "empty", order_by="day")
    assert jobs == [((now - dt.timedelta(days=1)).date(), 1, 0, 0)]


def test_expire_nothing_old_is_a_no_op(db_url, engine):
    _ingest_at(db_url, dt.datetime.now(UTC), ("pkg.a", "success"))
    before = snapshot(engine)
    report = expire_runs(engine, days=30)
    assert (report["runs"], report["test_runs"]) == (0, 0)
    assert snapshot(engine) == before


def test_expire_rejects_bad_days(db_url):
    result = run_cli("db", "expire", "--db", db_url, "--days", "-3")
    assert result.exit_code == 2


def test_rebuild_rollups_reproduces_ingest_rollups(db_url, engine):
    base = dt.datetime(2026, 10, 1, 12, tzinfo=UTC)
    _ingest_at(db_url, base, ("pkg.a", "success", 2.0), ("pkg.b", "fail"), job="j1")
    _ingest_at(db_url, base + dt.timedelta(days=1), ("pkg.a", "xfail", 3.0), job="j1")
    _ingest_at(db_url, base, ("pkg.a", "skip"), job="j2")
    ingest(db_url, stream(("pkg.c", "success"), start=base))  # no build_name
    before = snapshot(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM ch_test_daily")
        conn.exec_driver_sql("DELETE FROM ch_job_daily")
    assert rebuild_rollups(engine)["runs"] == 4
    after = snapshot(engine)
    assert after["ch_job_daily"] == before["ch_job_daily"]
    assert [r[:7] for r in after["ch_test_daily"]] == [r[:7] for r in before["ch_test_daily"]]
    for got, want in zip(after["ch_test_daily"], before["ch_test_daily"]):
        assert got[7] == pytest.approx(want[7])
