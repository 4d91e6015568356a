"""Rollups built in SQL (health_api.ingest.rollup_sql) equal the writer's, on
every engine; --missing adds exactly the runs another tool wrote; expire
looks only at the rollup rows its runs touched."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from health_api.ingest import rollup_sql
from health_api.ingest.expire import expire_runs

from streams import ingest, rows, run_cli, stream

UTC = dt.timezone.utc
BASE = dt.datetime(2026, 10, 1, 22, 30, 0, 250000, tzinfo=UTC)


def _ingest(db_url, when, *tests, job="job-a"):
    meta = ("--run-meta", f"build_name={job}") if job else ()
    return ingest(db_url, stream(*tests, start=when), *meta)


def _rollups(engine) -> dict[str, list[tuple]]:
    return {
        "job": rows(engine, "SELECT day, build_name, passed, failed, empty, run_time_sum, "
                            "run_time_sq_sum FROM ch_job_daily ORDER BY day, build_name"),
        "test": rows(engine, "SELECT d.day, d.build_name, t.test_id, d.success, d.failure, "
                             "d.skip, d.timed, d.run_time_sum FROM ch_test_daily d "
                             "JOIN tests t ON t.id = d.test_id ORDER BY 1, 2, 3")}


def _assert_same(got: dict, want: dict) -> None:
    for table, n_exact in (("job", 5), ("test", 7)):
        assert [r[:n_exact] for r in got[table]] == [r[:n_exact] for r in want[table]], table
        assert [r[n_exact:] for r in got[table]] == [
            pytest.approx(r[n_exact:], rel=1e-9, abs=1e-9) for r in want[table]], table


def _varied_runs(db_url):
    """Several jobs and days, a run across midnight, passes with and without
    durations, every status class, a run with no build_name, a run with
    nothing but skips (an "empty" run)."""
    _ingest(db_url, BASE, ("pkg.a", "success", 2.5), ("pkg.b", "fail", 1.25),
            ("pkg.c", "skip", 0.0), ("pkg.d", "xfail", 0.75), ("pkg.e", "uxsuccess", 3.0))
    _ingest(db_url, BASE + dt.timedelta(minutes=50), ("pkg.a", "success", 4.0),
            ("pkg.b", "success", 1.5), ("pkg.f", None))
    _ingest(db_url, BASE + dt.timedelta(hours=5), ("pkg.a", "fail", 2.0), job="job-b")
    _ingest(db_url, BASE + dt.timedelta(days=1), ("pkg.c", "skip"), ("pkg.g", "skip"))
    _ingest(db_url, BASE + dt.timedelta(days=1), ("pkg.a", "success", 0.5), job=None)
    _ingest(db_url, BASE + dt.timedelta(days=2, hours=3), ("pkg.a", "success", 1.0),
            ("pkg.b", "success", 6.0), job="job-b")


@pytest.mark.parametrize("runs_per_range", [1, 2, 1000])
def test_sql_rollups_equal_the_writers(engine, db_url, runs_per_range):
    _varied_runs(db_url)
    by_writer = _rollups(engine)
    assert len(by_writer["job"]) == 5 and len(by_writer["test"]) == 12
    report = rollup_sql.build_all(engine, runs_per_range=runs_per_range)
    assert report["runs"] == 6
    _assert_same(_rollups(engine), by_writer)
    # the secondary indexes dropped for the build are back
    assert rows(engine, "SELECT COUNT(*) FROM ch_rolled_runs") == [(6,)]
    with engine.connect() as conn:
        import sqlalchemy as sa
        names = {ix["name"] for t in ("ch_test_daily", "ch_job_daily")
                 for ix in sa.inspect(conn).get_indexes(t)}
    assert {"ix_ch_test_daily_test", "ix_ch_test_daily_job", "ix_ch_job_daily_build_name"} <= names


def _foreign_run(engine, run_at: dt.datetime, job: str, results) -> int:
    """A run written as subunit2sql writes one: no rollup, no ch_rolled_runs row."""
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO runs (uuid, passes, fails, skips, run_time, run_at) "
            f"VALUES ('foreign-{job}-{run_at:%d%H}', {sum(s == 'success' for _, s, _ in results)}, "
            f"{sum(s == 'fail' for _, s, _ in results)}, 0, 7.5, '{run_at:%Y-%m-%d %H:%M:%S}')")
        run_id = conn.exec_driver_sql(
            f"SELECT id FROM runs WHERE uuid = 'foreign-{job}-{run_at:%d%H}'").scalar_one()
        conn.exec_driver_sql("INSERT INTO run_metadata (run_id, " +
                             ("`key`" if conn.dialect.name in ("mysql", "mariadb") else '"key"')
                             + f", value) VALUES ({run_id}, 'build_name', '{job}')")
        for name, status, seconds in results:
            test_id = conn.exec_driver_sql(
                f"SELECT id FROM tests WHERE test_id = '{name}'").scalar_one()
            start = run_at + dt.timedelta(seconds=1)
            stop = start + dt.timedelta(seconds=seconds)
            conn.exec_driver_sql(
                "INSERT INTO test_runs (test_id, run_id, status, start_time, stop_time, "
                "start_time_microsecond, stop_time_microsecond) VALUES "
                f"({test_id}, {run_id}, '{status}', '{start:%Y-%m-%d %H:%M:%S}', "
                f"'{stop:%Y-%m-%d %H:%M:%S}', 0, {stop.microsecond})")
    return run_id


def test_missing_adds_only_the_runs_another_tool_wrote(engine, db_url):
    _varied_runs(db_url)
    old = BASE.replace(tzinfo=None) + dt.timedelta(days=1)
    _foreign_run(engine, old, "job-a", [("pkg.a", "fail", 1.5), ("pkg.b", "success", 2.25)])
    young = dt.datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    _foreign_run(engine, young, "job-c", [("pkg.a", "success", 1.0)])
    result = run_cli("db", "rebuild-rollups", "--missing", "--db", db_url)
    assert result.exit_code == 0, result.output
    # the young run may still be being written: left for the next call
    assert json.loads(result.stdout)["runs"] == 1
    assert rows(engine, "SELECT COUNT(*) FROM ch_job_daily WHERE build_name = 'job-c'") == [(0,)]
    assert rollup_sql.catch_up(engine, settle=None)["runs"] == 1
    assert rollup_sql.catch_up(engine, settle=None)["runs"] == 0
    caught_up = _rollups(engine)
    rollup_sql.build_all(engine)
    _assert_same(_rollups(engine), caught_up)
    day = [r for r in caught_up["job"] if r[1] == "job-a" and str(r[0]) == str(old.date())]
    assert [r[2:5] for r in day] == [(0, 1, 1)]  # the all-skip run and the foreign failure


def test_expire_subtracts_in_sql_and_checks_only_touched_rows(engine, db_url):
    now = dt.datetime.now(UTC).replace(microsecond=0)
    _ingest(db_url, now - dt.timedelta(days=40), ("pkg.a", "success", 2.0), ("pkg.b", "fail"))
    _ingest(db_url, now - dt.timedelta(days=40), ("pkg.a", "fail", 1.0), job="job-b")
    _ingest(db_url, now - dt.timedelta(days=2), ("pkg.a", "success", 3.0), ("pkg.b", "skip"))
    _ingest(db_url, now - dt.timedelta(days=2), ("pkg.a", "success", 1.0), job="job-b")
    # an all-zero row under a key no expired run touched: not looked at, kept
    day = (now - dt.timedelta(days=2)).date()
    with engine.begin() as conn:
        conn.exec_driver_sql(f"INSERT INTO ch_job_daily VALUES ('{day}', 'idle', 0, 0, 0, 0, 0)")
    report = expire_runs(engine, days=30, batch_size=1)
    assert (report["runs"], report["test_runs"], report["tests"]) == (2, 3, 0)
    after_expire = _rollups(engine)
    assert [r[1:5] for r in after_expire["job"]] == [
        ("idle", 0, 0, 0), ("job-a", 1, 0, 0), ("job-b", 1, 0, 0)]
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM ch_job_daily WHERE build_name = 'idle'")
    expected = _rollups(engine)
    rollup_sql.build_all(engine)
    _assert_same(_rollups(engine), expected)
    assert rows(engine, "SELECT test_id, run_count, success, failure FROM tests "
                        "ORDER BY test_id") == [("pkg.a", 2, 2, 0), ("pkg.b", 0, 0, 0)]


def test_expire_of_part_of_a_day_subtracts_and_of_a_whole_day_deletes(engine, db_url):
    """The cutoff splits a (day, job) key: the expired run is subtracted, the
    kept one stays in the rollups exactly as a rebuild counts it; the other
    key, whose runs all go, is deleted whole."""
    now = dt.datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    cut = now - dt.timedelta(days=30)
    _ingest(db_url, cut - dt.timedelta(hours=1), ("pkg.a", "success", 2.0), ("pkg.b", "fail"))
    _ingest(db_url, cut + dt.timedelta(hours=1), ("pkg.a", "fail", 1.0), ("pkg.b", "success"))
    _ingest(db_url, cut - dt.timedelta(hours=2), ("pkg.a", "success", 1.0), job="job-b")
    report = expire_runs(engine, days=30, now=now.replace(tzinfo=None))
    assert (report["runs"], report["test_runs"]) == (2, 3)
    after = _rollups(engine)
    assert [r[1:5] for r in after["job"]] == [("job-a", 0, 1, 0)]
    assert {r[1] for r in after["test"]} == {"job-a"}
    rollup_sql.build_all(engine)
    _assert_same(_rollups(engine), after)


def test_whole_day_range_adds_to_rows_a_writer_left(engine, db_url):
    """A build's range of whole days inserts its rows plainly; when a writer
    already put rows under one of its keys (an ingest that committed during
    the build), the range falls back to adding to them: same rollups."""
    _varied_runs(db_url)
    by_writer = _rollups(engine)
    with engine.begin() as conn:
        run_ids = [r for (r,) in conn.exec_driver_sql("SELECT id FROM runs ORDER BY id")]
        # the first two runs share day and job: take the second out, keep the first's rows
        rollup_sql.subtract_runs(conn, run_ids[1:2])
    assert _rollups(engine) != by_writer
    with engine.begin() as conn:
        rollup_sql._add_range(conn, rollup_sql._kind(conn), run_ids[1:2], True)
    _assert_same(_rollups(engine), by_writer)


def test_day_ranges_keep_days_whole(engine, db_url):
    """Ranges hold whole days of run_at, as many as fit; a day of more runs
    than a range holds is split, its later parts marked as adding to rows."""
    _varied_runs(db_url)
    with engine.connect() as conn:
        r1, r2, r3, r4, r5, r6 = [r for (r,) in conn.exec_driver_sql(
            "SELECT id FROM runs ORDER BY run_at, id")]
        # days: 10-01 (r1, r2), 10-02 (r3 at 03:30, r4, r5), 10-04 (r6)
        assert rollup_sql._day_ranges(conn, 3) == [([r1, r2], True), ([r3, r4, r5], True),
                                                   ([r6], True)]
        assert rollup_sql._day_ranges(conn, 2) == [([r1, r2], True), ([r3, r4], True),
                                                   ([r5], False), ([r6], True)]
        assert rollup_sql._day_ranges(conn, 1) == [([r1], True), ([r2], False), ([r3], True),
                                                   ([r4], False), ([r5], False), ([r6], True)]
        assert rollup_sql._day_ranges(conn, 1000) == [([r1, r2, r3, r4, r5, r6], True)]
