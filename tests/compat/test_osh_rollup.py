"""ch_osh_test_daily (health_api.compat.rollup), on SQLite, PostgreSQL and MariaDB:
the writer's rows equal the SQL build's, and /build_name/<job>/test_runs read from it
equals the same route read from the raw results -- over whole and partial days, with
runs not rolled up yet, with parts whose ids are out of order (tangled: read raw),
after a catch-up, after an expire that splits a day, and after the migration fills it
on a live store (and drops the hourly table it replaces)."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from health_api.compat import day_buckets, parts_sql, rollup, shaping
from health_api.db.migrate import head_revision, upgrade
from health_api.ingest import rollup_sql
from health_api.ingest.expire import expire_runs, rebuild_rollups
from health_api.queries import jobs as jq

from osh_compare import differences
from streams import ingest, rows, stream

UTC = dt.timezone.utc
BASE = dt.datetime(2026, 10, 1, 21, 40, 0, 250000, tzinfo=UTC)


def _run(db_url, when, *tests, job="job-a", run_at=None):
    meta = ("--run-meta", f"build_name={job}") if job else ()
    if run_at is not None:
        meta += ("--run-at", run_at.isoformat())
    return ingest(db_url, stream(*tests, start=when), *meta)


def _varied_runs(db_url):
    """Two jobs over three days: runs across an hour and across midnight, several runs
    of a job in one hour (the writer merges their parts), fails after passes and
    passes after fails, xfail/unxsuccess/skip, a pass without a stop time."""
    a = [("t.a", "success", 1.5), ("t.b", "fail", 0.25), ("t.c", "skip", 0.0),
         ("t.d", "xfail", 0.75), ("t.e", "uxsuccess", 1.0)]
    _run(db_url, BASE, *a)
    _run(db_url, BASE + dt.timedelta(minutes=10), ("t.a", "fail", 2.0), ("t.b", "success", 3.0),
         ("t.d", "success", 0.5))
    _run(db_url, BASE + dt.timedelta(minutes=15), ("t.a", "success", 2.5),
         ("t.b", "success", 1.25), ("t.f", None))
    _run(db_url, BASE + dt.timedelta(minutes=100), ("t.a", "success", 4.0), *a[1:])
    _run(db_url, BASE + dt.timedelta(hours=3), ("t.a", "success", 0.5), ("t.b", "fail"),
         job="job-b")
    _run(db_url, BASE + dt.timedelta(days=1, hours=2), ("t.a", "success", 1.0),
         ("t.b", "success", 6.0), ("t.c", "success", 0.125))
    _run(db_url, BASE + dt.timedelta(days=1, hours=2, minutes=20), ("t.a", "fail", 1.0),
         ("t.b", "success", 2.0))
    _run(db_url, BASE + dt.timedelta(days=1), ("t.a", "success", 0.5), job=None)


def _table(engine) -> list[tuple]:
    got = rows(engine, "SELECT h.build_name, h.start_day, t.test_id, h.day, h.passes, h.fails,"
                       " h.others, h.pass_sum, h.trail_sum, h.tangled FROM ch_osh_test_daily h"
                       " JOIN tests t ON t.id = h.test_id")
    return sorted((n, str(h)[:10], t, str(d)[:10], *rest) for n, h, t, d, *rest in got)


def _same_table(got, want):
    assert [r[:7] + r[9:] for r in got] == [r[:7] + r[9:] for r in want]
    assert [r[7:9] for r in got] == [pytest.approx(r[7:9], rel=1e-9, abs=1e-9) for r in want]


def _raw(engine, name, start, stop, resolution):
    with engine.connect() as conn:
        return jq.job_test_buckets(conn, name, start, stop, resolution, shaping.OSH_PASS,
                                   shaping.OSH_FAIL, 10 ** 6)


def _from_rollup(engine, name, start, stop, resolution):
    with engine.connect() as conn:
        return day_buckets.job_buckets(conn, name, start, stop, resolution)


def _answer(found, resolution):
    return shaping.test_buckets(found, resolution)


def _assert_route_equal(engine, name, start, stop, resolution, *, tangled=False):
    raw = _raw(engine, name, start, stop, resolution)
    got = _from_rollup(engine, name, start, stop, resolution)
    if tangled:
        assert got is None
        return
    assert got is not None
    problems = differences(_answer(got, resolution), _answer(raw, resolution))
    assert not problems, (name, start, stop, resolution, problems[:5])
    assert raw, "a window with no result proves nothing"


N = dt.datetime(2026, 10, 1)
WINDOWS = [(None, None), (N, N + dt.timedelta(days=3)),
           (N + dt.timedelta(hours=21, minutes=45), N + dt.timedelta(days=2, hours=2, minutes=30)),
           (N + dt.timedelta(hours=21, seconds=1), None), (None, N + dt.timedelta(hours=22))]


def _assert_every_window(engine):
    for name in ("job-a", "job-b"):
        for start, stop in WINDOWS:
            for resolution in day_buckets.RESOLUTIONS:
                if name == "job-b" and stop is not None and stop.day == 1 and stop.hour <= 22:
                    continue  # job-b has nothing before 00:40 of the 2nd
                _assert_route_equal(engine, name, start, stop, resolution)


def test_writer_build_and_route_agree(engine, db_url):
    _varied_runs(db_url)
    by_writer = _table(engine)
    assert len(by_writer) >= 12 and any(r[8] != r[7] for r in by_writer), \
        "no part whose trailing sum differs from its pass sum"
    rebuild_rollups(engine)
    _same_table(_table(engine), by_writer)
    _assert_every_window(engine)
    # the app's route reads the rollup and answers as from the results
    from health_api.compat.reports import compat_job_test_runs
    for resolution in day_buckets.RESOLUTIONS:
        want = {"tests": _answer(_raw(engine, "job-a", None, None, resolution), resolution)}
        with engine.connect() as conn:
            got = compat_job_test_runs(conn, "job-a", None, None, resolution)
        assert got["tests"] and not differences(got, want)


@pytest.mark.parametrize("runs_per_range", [1, 3])
def test_rebuild_builds_the_parts_behind_the_daily_ranges(engine, db_url, runs_per_range):
    """db rebuild-rollups builds the parts range by range behind the daily rollups (in a
    second connection on the servers): the same rows as the writer's, also where ranges
    split a day (their parts combine with the stored ones)."""
    from health_api.ingest import rebuild
    _varied_runs(db_url)
    by_writer = _table(engine)
    report = rebuild.build_all(engine, runs_per_range=runs_per_range)
    assert report["runs"] == 8 and report["ranges"] >= 8 // runs_per_range
    _same_table(_table(engine), by_writer)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM ch_rolled_runs").scalar() == 8


def test_rebuild_reports_a_failed_part_build(engine, db_url, monkeypatch):
    """An error building the parts (in the second connection's thread on the servers)
    fails the rebuild with that error, not a rebuild that looks whole."""
    from health_api.ingest import rebuild
    _varied_runs(db_url)

    def broken(conn, run_ids, whole_days):
        raise RuntimeError("parts build failed")
    monkeypatch.setattr(rollup, "build_runs", broken)
    with pytest.raises(RuntimeError, match="parts build failed"):
        rebuild.build_all(engine, runs_per_range=2)


def test_runs_not_rolled_up_are_read_raw_then_caught_up(engine, db_url):
    _varied_runs(db_url)
    whole = _table(engine)
    with engine.begin() as conn:  # as subunit2sql writing after the rollups were built
        late = conn.execute(sa.text("SELECT MAX(m.run_id) FROM run_metadata m WHERE m.key ="
                                    " 'build_name' AND m.value = 'job-a'")).scalar()
        conn.execute(sa.text("DELETE FROM ch_rolled_runs WHERE run_id = :r"), {"r": late})
    rollup.build_all(engine)
    assert len(_table(engine)) < len(whole)
    _assert_every_window(engine)
    assert rollup_sql.catch_up(engine, settle=None)["runs"] == 1
    _same_table(_table(engine), whole)


def test_parts_out_of_id_order_are_read_raw(engine, db_url):
    """Two parts of one start day and test, of two run days, whose ids interleave: runs
    of the 30th (run_at) with results after midnight were ingested before and after a
    run of the 1st, so the 30th's part has passes before and after the 1st's fail in id
    order, which no sum of parts can combine (the answer: the passes after the fail,
    2.0 s, over both passes)."""
    day = dt.datetime(2026, 10, 1, tzinfo=UTC)
    eve = day - dt.timedelta(minutes=10)
    _run(db_url, day + dt.timedelta(minutes=5), ("t.a", "success", 1.0), run_at=eve)
    _run(db_url, day + dt.timedelta(hours=10), ("t.a", "fail", 1.0))
    _run(db_url, day + dt.timedelta(minutes=20), ("t.a", "success", 2.0), run_at=eve)
    assert len(_table(engine)) == 2
    _assert_route_equal(engine, "job-a", None, None, "day", tangled=True)
    from health_api.compat.reports import compat_job_test_runs
    with engine.connect() as conn:
        assert compat_job_test_runs(conn, "job-a", None, None, "day") == {"tests": {
            "2026-10-01": {"t.a": {"pass": 2, "fail": 1, "skip": 0, "run_time": 1.0}}}}
    # the SQL build sees the same parts
    rebuild_rollups(engine)
    _assert_route_equal(engine, "job-a", None, None, "day", tangled=True)


def test_hour_resolution_reads_the_results(engine, db_url):
    """The table's parts are days: finer resolutions are counted from the results, and
    the same route answers them (an hour's answer equals the raw one)."""
    _varied_runs(db_url)
    from health_api.compat.reports import compat_job_test_runs
    with pytest.raises(ValueError):
        _from_rollup(engine, "job-a", None, None, "hour")
    want = {"tests": _answer(_raw(engine, "job-a", None, None, "hour"), "hour")}
    with engine.connect() as conn:
        got = compat_job_test_runs(conn, "job-a", None, None, "hour")
    assert len(got["tests"]) >= 4 and not differences(got, want)


def test_expire_takes_its_keys_and_rebuilds_a_split_day(engine, db_url):
    _varied_runs(db_url)
    _run(db_url, BASE + dt.timedelta(hours=8), ("t.a", "success", 1.0), job="job-b")
    # a cutoff at 01:00 of the 2nd: job-b's run of 00:40 goes, its run of 05:40 stays
    report = expire_runs(engine, days=1, now=dt.datetime(2026, 10, 3, 1, 0))
    assert report["runs"] == 5
    kept = _table(engine)
    assert kept and all(r[3] >= "2026-10-02" for r in kept)
    rollup.build_all(engine)
    _same_table(_table(engine), kept)
    _assert_route_equal(engine, "job-a", None, None, "day")


def test_migration_fills_the_table_on_a_live_store(engine, db_url):
    """A live store at 0014 (the hourly table, as that revision left it): 0015 fills the
    daily table from the rolled-up runs' results and drops the hourly one."""
    _varied_runs(db_url)
    want = _table(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE ch_osh_test_daily")
        conn.exec_driver_sql("CREATE TABLE ch_osh_test_hourly (build_name VARCHAR(255))")
        conn.exec_driver_sql("UPDATE ci_health_alembic_version SET version_num = '0014_compat14'")
    report = upgrade(engine)
    assert (report.before, report.after) == ("0014_compat14", head_revision())
    _same_table(_table(engine), want)
    assert not sa.inspect(engine).has_table("ch_osh_test_hourly")


def test_times_stored_to_the_second(engine, db_url):
    """Timestamps stored to the second with their fractions in the microsecond columns
    alone (as bench/scale_store.py writes them): durations are whole seconds plus those
    columns, as the raw route computes them, not the timestamps' difference."""
    _varied_runs(db_url)
    truncate = {"postgresql": "date_trunc('second', {c})",
                "sqlite": "substr({c}, 1, 19) || '.000000'"}.get(engine.dialect.name)
    if truncate is not None:  # MySQL's DATETIME keeps no fraction anyway
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE test_runs SET " + ", ".join(
                f"{c} = {truncate.format(c=c)}" for c in ("start_time", "stop_time")))
    rebuild_rollups(engine)
    _assert_every_window(engine)


#: stored parts (passes, fails, others, pass_sum, trailing, last_other, min_pass, max_pass,
#: tangled) that a run's part of the same key is combined with; ids 1..5 come before any
#: result of the run, FAR after all of them
FAR = 10 ** 12
STORED_PARTS = [
    (2, 0, 0, 3.0, 3.0, None, 1, FAR, 0),   # passes on both sides of the run's fail
    (1, 0, 1, 1.5, 0.0, FAR, 1, 1, 0),      # its other is the whole's last
    (1, 0, 0, 1.5, 1.5, None, 1, 1, 0),     # no other anywhere
    (0, 1, 0, 0.0, 0.0, 5, None, None, 0),  # only an other, before the run
    (2, 0, 1, 4.0, 2.5, 3, 1, 5, 1),        # already tangled once
]


@pytest.mark.parametrize("status", ["success", "fail"])
def test_writer_combines_stored_parts_as_combine_does(engine, db_url, status):
    """The writer adds a run's part to the stored part of the same key (job, start day,
    test, run day) by the rule of ``combine``, however that part was made (here: set by
    hand, to reach every branch of the rule, tangles included)."""
    hour = dt.datetime(2026, 10, 1, 12, tzinfo=UTC)
    _run(db_url, hour, ("t.a", "success", 1.0))
    kind = rollup._kind(engine)
    for n, stored in enumerate(STORED_PARTS):
        with engine.begin() as conn:
            conn.execute(sa.text(
                "UPDATE ch_osh_test_daily SET passes = :p, fails = :f, others = :o,"
                " pass_sum = :ps, trail_sum = :ts, last_other = :lo, min_pass = :mi,"
                " max_pass = :ma, tangled = :t"),
                dict(zip(("p", "f", "o", "ps", "ts", "lo", "mi", "ma", "t"), stored)))
        run = _run(db_url, hour + dt.timedelta(minutes=n + 1), ("t.a", status, 0.25))
        with engine.connect() as conn:
            added = rollup._exec(conn, parts_sql._parts_sql(kind, "r.id IN :ids"),
                                 {"ids": [run["run_id"]]}).one()
            got = conn.execute(sa.text(
                "SELECT passes, fails, others, pass_sum, trail_sum, last_other, min_pass,"
                " max_pass, tangled FROM ch_osh_test_daily")).all()
        want = rollup.combine([stored, tuple(added[4:])])
        assert len(got) == 1
        assert tuple(got[0]) == pytest.approx(want), (stored, status)


def test_a_stored_part_turns_the_first_runs_insert_into_a_combine(engine, db_url):
    """The writer inserts the parts of its job's first run of a day plainly (no stored
    part can have their keys); should one be stored all the same (the run's other
    build_name rows, a writer of the same job and day that committed first), the
    insert is undone and the parts are combined, in the same transaction. Here: the
    run's own parts, added a second time."""
    run = _run(db_url, BASE, ("t.a", "success", 1.5), ("t.b", "fail", 0.25), ("t.c", "skip"))
    once = _table(engine)
    with engine.begin() as conn:
        rollup.add_run(conn, run["run_id"], first_of_job_day=True)
        conn.execute(sa.text("SELECT 1")).one()  # the transaction is still usable
    twice = _table(engine)
    assert [r[:4] for r in twice] == [r[:4] for r in once] and len(once) == 3
    assert [r[4:8] for r in twice] == [tuple(2 * v for v in r[4:8]) for r in once]
