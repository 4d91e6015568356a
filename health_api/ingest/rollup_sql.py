"""Daily rollups computed where the data is: ``INSERT ... SELECT ... GROUP BY``.

The writer adds each run it ingests to ``ch_job_daily``/``ch_test_daily`` in
Python (health_api.ingest.rollups). Runs that another tool wrote (a
subunit2sql database we adopt, or subunit2sql still writing into it) and runs
that expire are added or subtracted here instead, in SQL, one bounded range of
runs per statement, so neither the rows nor the lock time grow with the store:

- ``build_all``: everything from scratch (``ci-health db rebuild-rollups``
  and adoption by ``ci-health db upgrade``), range by range of runs.id;
- ``add_runs``/``subtract_runs``: the contribution of a given set of runs,
  added to (``ON CONFLICT``/``ON DUPLICATE KEY`` add) the stored rows;
- ``catch_up``: every run no writer rolled up yet (``ch_rolled_runs`` keeps
  the ids of the runs that are in the rollups).

The figures equal the writer's: the same status classes (health_api.rules),
the same run outcome, the same durations (health_api.queries.common
.duration_seconds: whole seconds plus the microsecond columns), the same day
(the run's run_at, 1970-01-01 when it has none) and job (its smallest
build_name value, "" when it has none).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, bindparam, text
from sqlalchemy.exc import IntegrityError

from .. import rules

BUILD_NAME_KEY = "build_name"
#: runs per statement of a full build: about 1.5M results of a Tempest gate
#: (1,500 tests a run); the GROUP BY of one range stays in work_mem
RUNS_PER_RANGE = 1000
#: a run subunit2sql is still writing has its runs row but not all its test_runs
#: yet (it commits them in several transactions): catch_up leaves runs younger
#: than this for its next pass
SETTLE = dt.timedelta(minutes=10)

_DAY = {
    "sqlite": "date(COALESCE(r.run_at, '1970-01-01'))",
    "postgresql": "CAST(COALESCE(r.run_at, TIMESTAMP '1970-01-01') AS DATE)",
    "mysql": "DATE(COALESCE(r.run_at, '1970-01-01'))",
}
_MICROS = ("(COALESCE(tr.stop_time_microsecond, 0) - COALESCE(tr.start_time_microsecond, 0))"
           " / 1000000.0")
_DURATION = {
    # as health_api.queries.common.duration_seconds: whole seconds plus the
    # microsecond columns (MySQL's DATETIME keeps no fraction)
    "sqlite": "(CAST(strftime('%s', substr(tr.stop_time, 1, 19)) AS INTEGER)"
              f" - CAST(strftime('%s', substr(tr.start_time, 1, 19)) AS INTEGER)) + {_MICROS}",
    "mysql": f"TIMESTAMPDIFF(SECOND, tr.start_time, tr.stop_time) + {_MICROS}",
    # PostgreSQL's timestamps hold the microseconds that the microsecond columns
    # repeat (our writer and subunit2sql's create_test_run both store them), so
    # the difference is the same figure at a third of the cost of truncating
    # and adding; date_part, not EXTRACT, gives a double, not a numeric.
    "postgresql": "date_part('epoch', tr.stop_time - tr.start_time)",
}


def _kind(conn) -> str:
    name = conn.dialect.name
    return "mysql" if name in ("mysql", "mariadb") else name


def _statuses(klass: str) -> str:
    # constants of our own status table, not input: safe to write into the SQL
    return ", ".join(f"'{raw}'" for raw, c in rules.STATUS_CLASS.items() if c == klass)


def _upsert(kind: str, table: str, key: tuple[str, ...], columns: tuple[str, ...]) -> str:
    if kind == "mysql":
        return "ON DUPLICATE KEY UPDATE " + ", ".join(
            f"{c} = {table}.{c} + VALUES({c})" for c in columns)
    return (f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
            + ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in columns))


@dataclass(frozen=True)
class RunFilter:
    """Which runs a statement covers, as conditions on runs (alias r), on
    test_runs (alias tr) and on run_metadata."""
    runs: str
    test_runs: str
    metadata: str


#: the listed runs (:ids, not yet in the rollups), all within run ids
#: [:lo, :hi]: a full build lists each range's runs first (NOT EXISTS on
#: ch_rolled_runs inside the statement gave PostgreSQL a one-row estimate, as
#: its statistics of the table predate the build's TRUNCATE, and the plan
#: that suits one run took minutes for a thousand)
_RANGE = RunFilter(
    runs="r.id IN :ids",
    # the same range on test_runs.run_id as on runs.id: an index range scan
    # of ix_test_runs_run_id rather than a join probe per run
    test_runs="tr.run_id BETWEEN :lo AND :hi",
    metadata="run_id BETWEEN :lo AND :hi")
_LIST = RunFilter(runs="r.id IN :ids", test_runs="tr.run_id IN :ids",
                  metadata="run_id IN :ids")


def _job_sql(kind: str, where: RunFilter, sign: int, upsert: bool) -> str:
    fails, passes = "COALESCE(r.fails, 0)", "COALESCE(r.passes, 0)"
    rt = "COALESCE(r.run_time, 0)"
    columns = ("passed", "failed", "empty", "run_time_sum", "run_time_sq_sum")
    return (
        "INSERT INTO ch_job_daily (day, build_name, passed, failed, empty, run_time_sum,"
        " run_time_sq_sum) "
        f"SELECT {_DAY[kind]}, COALESCE(b.build_name, ''),"
        f" {sign} * SUM(CASE WHEN {fails} = 0 AND {passes} > 0 THEN 1 ELSE 0 END),"
        f" {sign} * SUM(CASE WHEN {fails} > 0 THEN 1 ELSE 0 END),"
        f" {sign} * SUM(CASE WHEN {fails} = 0 AND {passes} <= 0 THEN 1 ELSE 0 END),"
        f" {sign} * SUM({rt}), {sign} * SUM({rt} * {rt}) "
        f"FROM runs r LEFT JOIN ({_build_names(where.metadata)}) b"
        f" ON b.run_id = r.id WHERE {where.runs} "
        f"GROUP BY {_DAY[kind]}, COALESCE(b.build_name, '') "
        + (_upsert(kind, "ch_job_daily", ("day", "build_name"), columns) if upsert else ""))


def _build_names(where: str) -> str:
    # "rm.key": qualified, as KEY is a reserved word in MySQL
    return (f"SELECT rm.run_id, MIN(rm.value) AS build_name FROM run_metadata rm"
            f" WHERE rm.{where} AND rm.key = '{BUILD_NAME_KEY}' GROUP BY rm.run_id")


def _run_keys(kind: str, where: RunFilter) -> str:
    """run_id -> its rollup key (day, build_name) and ``gk``, the smallest run id
    of the runs sharing that key: the results are grouped by that integer, not
    by the key's text, and the key joined back per group."""
    day, name = _DAY[kind], "COALESCE(b.build_name, '')"
    return (f"SELECT r.id AS run_id, {day} AS day, {name} AS build_name,"
            f" MIN(r.id) OVER (PARTITION BY {day}, {name}) AS gk"
            f" FROM runs r LEFT JOIN ({_build_names(where.metadata)}) b ON b.run_id = r.id"
            f" WHERE {where.runs}")


def _test_sql(kind: str, where: RunFilter, sign: int, upsert: bool) -> str:
    """Two levels: the results of the runs are counted per (key group, test,
    raw status) with integer and short keys only, then classified per status
    (health_api.rules) and put under their day and job. A NULL duration (no
    start or stop time) is not timed, as in the writer."""
    duration = _DURATION[kind]
    passed = f"a.status IN ({_statuses(rules.PASS)})"
    columns = ("success", "failure", "skip", "timed", "run_time_sum")
    return (
        "INSERT INTO ch_test_daily (day, build_name, test_id, success, failure, skip, timed,"
        " run_time_sum) "
        "SELECT k.day, k.build_name, a.test_id,"
        f" {sign} * SUM(CASE WHEN {passed} THEN a.n ELSE 0 END),"
        f" {sign} * SUM(CASE WHEN a.status IN ({_statuses(rules.FAIL)}) THEN a.n ELSE 0 END),"
        f" {sign} * SUM(CASE WHEN a.status IN ({_statuses(rules.SKIP)}) THEN a.n ELSE 0 END),"
        f" {sign} * SUM(CASE WHEN {passed} THEN a.timed ELSE 0 END),"
        f" {sign} * SUM(CASE WHEN {passed} THEN COALESCE(a.took, 0) ELSE 0 END) "
        "FROM (SELECT rk.gk, tr.test_id, tr.status, COUNT(*) AS n,"
        " COUNT(CASE WHEN tr.start_time IS NOT NULL THEN tr.stop_time END) AS timed,"
        f" SUM({duration}) AS took"
        f" FROM test_runs tr JOIN ({_run_keys(kind, where)}) rk ON rk.run_id = tr.run_id"
        f" WHERE {where.test_runs} AND tr.test_id IS NOT NULL"
        " GROUP BY rk.gk, tr.test_id, tr.status) a"
        f" JOIN ({_run_keys(kind, where)}) k ON k.run_id = a.gk "
        "WHERE 1 = 1 GROUP BY k.day, k.build_name, a.test_id "
        # in primary-key order: the inserts walk the key's B-tree left to right
        # instead of hitting a random leaf per row (a hash aggregate's order);
        # a range then took 4.6-5.2 s instead of 6.0-6.9 s (PostgreSQL, load 11)
        "ORDER BY k.day, k.build_name, a.test_id "
        + (_upsert(kind, "ch_test_daily", ("day", "build_name", "test_id"), columns)
           if upsert else ""))


def _exec(conn, sql: str, **params) -> int:
    stmt = text(sql)
    if "ids" in params:
        stmt = stmt.bindparams(bindparam("ids", expanding=True))
    return conn.execute(stmt, params).rowcount


def _mark(conn, where: RunFilter, **params) -> int:
    return _exec(conn, f"INSERT INTO ch_rolled_runs (run_id) SELECT r.id FROM runs r WHERE {where.runs}",
          **params)


def add_runs(conn, run_ids: list[int], *, sign: int = 1) -> None:
    """Add (sign 1) or subtract (-1) the rollup contribution of these runs, in
    the caller's transaction; adding marks them rolled up."""
    if not run_ids:
        return
    kind = _kind(conn)
    _exec(conn, _job_sql(kind, _LIST, sign, True), ids=run_ids)
    _exec(conn, _test_sql(kind, _LIST, sign, True), ids=run_ids)
    if sign > 0:
        _mark(conn, _LIST, ids=run_ids)
    else:
        _exec(conn, "DELETE FROM ch_rolled_runs WHERE run_id IN :ids", ids=run_ids)


def subtract_runs(conn, run_ids: list[int]) -> None:
    """Take these runs out of the rollups, touching only the rows under the
    (day, job) keys they have (primary key prefixes), never scanning the tables:

    - a key all of whose rolled-up runs are going (ch_job_daily counts them;
      expire takes whole days) has its rows deleted outright -- a delete by
      key, not an update of every row to zero and a second look for zeros;
    - the runs of the other keys are subtracted in SQL and the rows they leave
      empty go.

    Runs not in the rollups (no ch_rolled_runs row) are not subtracted."""
    if not run_ids:
        return
    kind = _kind(conn)
    per_run = conn.execute(
        text(f"SELECT r.id, {_DAY[kind]}, COALESCE(b.build_name, '') FROM runs r"
             f" LEFT JOIN ({_build_names(_LIST.metadata)}) b ON b.run_id = r.id"
             f" WHERE {_LIST.runs} AND EXISTS"
             " (SELECT 1 FROM ch_rolled_runs c WHERE c.run_id = r.id)")
        .bindparams(bindparam("ids", expanding=True)), {"ids": run_ids}).all()
    by_key: dict[tuple, list[int]] = {}
    for run_id, day, build_name in per_run:
        by_key.setdefault((day, build_name), []).append(run_id)
    partial: list[int] = []
    partial_keys = []
    for (day, build_name), ids in by_key.items():
        params = {"day": day, "build_name": build_name}
        stored = conn.execute(text(
            "SELECT passed + failed + empty FROM ch_job_daily"
            " WHERE day = :day AND build_name = :build_name"), params).scalar()
        if stored is not None and stored <= len(ids):
            for table in ("ch_test_daily", "ch_job_daily"):
                conn.execute(text(f"DELETE FROM {table} WHERE day = :day"
                                  " AND build_name = :build_name"), params)
        else:
            partial.extend(ids)
            partial_keys.append((day, build_name))
    _exec(conn, "DELETE FROM ch_rolled_runs WHERE run_id IN :ids", ids=run_ids)
    if not partial:
        return
    _exec(conn, _job_sql(kind, _LIST, -1, True), ids=partial)
    _exec(conn, _test_sql(kind, _LIST, -1, True), ids=partial)
    for day, build_name in partial_keys:
        params = {"day": day, "build_name": build_name}
        conn.execute(text(
            "DELETE FROM ch_test_daily WHERE day = :day AND build_name = :build_name"
            " AND success <= 0 AND failure <= 0 AND skip <= 0"), params)
        conn.execute(text(
            "DELETE FROM ch_job_daily WHERE day = :day AND build_name = :build_name"
            " AND passed <= 0 AND failed <= 0 AND empty <= 0"), params)


@dataclass
class BuildReport:
    runs: int = 0
    ranges: int = 0

    def as_dict(self) -> dict:
        return {"runs": self.runs, "ranges": self.ranges}


def _tune(conn) -> None:
    if _kind(conn) == "postgresql":
        # One range's GROUP BY (up to ~1.5M rows into a few hundred thousand
        # groups) hashes in memory instead of sorting on disk; and no JIT, whose
        # compiled expressions cost a build statement more than they saved (a gate
        # day's openstack-health parts, compat.rollup, which tunes by this too:
        # 6.9 s with, 4.4 s without, in one EXPLAIN ANALYZE of the window form)
        conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
        conn.exec_driver_sql("SET LOCAL jit = off")


#: secondary indexes of the rollup tables: rebuilt once at the end of a full
#: build rather than maintained row by row (the primary keys stay: the
#: ranges' upserts need them)
_SECONDARY = (("ix_ch_test_daily_test", "ch_test_daily", "test_id, day"),
              ("ix_ch_test_daily_job", "ch_test_daily", "build_name, day, test_id"),
              ("ix_ch_job_daily_build_name", "ch_job_daily", "build_name, day"))


def empty_tables(conn, *tables: str) -> None:
    """Every row of these tables goes, in the caller's transaction: TRUNCATE on
    PostgreSQL (a DELETE of a gate month's 1.4M OSH parts took 1.6 s on one core
    before a rebuild could start, and left as many dead rows for its closing
    VACUUM: 2.5 s); DELETE elsewhere (MariaDB commits at a TRUNCATE, SQLite has none)."""
    if _kind(conn) == "postgresql":
        conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)}")
    else:
        for table in tables:
            conn.exec_driver_sql(f"DELETE FROM {table}")


def _drop_secondary(conn) -> None:
    for name, table, _cols in _SECONDARY:
        if _kind(conn) == "mysql":
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name} ON {table}")
        else:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")


def _create_secondary(conn) -> None:
    for name, table, cols in _SECONDARY:
        # IF NOT EXISTS: a build that was killed left them dropped
        conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({cols})")


def _day_ranges(conn, runs_per_range: int) -> list[tuple[list[int], bool]]:
    """The store's runs in ranges of whole days (of run_at, as the rollups
    count them), up to ``runs_per_range`` runs each: ([run ids], True), so
    each (day, job) key of the rollups is written by one range only -- one
    row per key and test, inserted once, where ranges of run ids split a day
    between two ranges that each wrote its rows (the second one as updates:
    a new row version and index entry each). A day of more runs than that is
    split: ([run ids], False) for its second and later parts, which add to
    the rows of the first. One read of (id, day) per run: 54,000 rows for a
    gate quarter."""
    kind = _kind(conn)
    out: list[tuple[list[int], bool]] = []
    current: list[int] = []
    day_ids: list[int] = []
    last_day = object()

    def close_day() -> None:
        nonlocal current
        if len(current) + len(day_ids) > runs_per_range and current:
            out.append((current, True))
            current = []
        if len(day_ids) <= runs_per_range:
            current = current + day_ids
            return
        for i in range(0, len(day_ids), runs_per_range):
            out.append((day_ids[i:i + runs_per_range], i == 0))

    for run_id, day in conn.execute(text(
            f"SELECT r.id, {_DAY[kind]} FROM runs r ORDER BY 2, 1")):
        if day != last_day and day_ids:
            close_day()
            day_ids = []
        last_day = day
        day_ids.append(run_id)
    if day_ids:
        close_day()
    if current:
        out.append((current, True))
    return out


def _add_range(conn, kind: str, ids: list[int], whole_days: bool) -> None:
    """One range's rollup rows. Whole days in a fresh build: plain inserts,
    which cost PostgreSQL about 60% of the upsert's speculative insertion
    (135,000 rows: 1.6 s against 2.7 s). Should a row exist all the same (an
    ingest that committed a run of one of these days during the build; its
    writer added its own rows), the savepoint is rolled back and the range
    upserts."""
    params = {"ids": ids, "lo": min(ids), "hi": max(ids)}
    if whole_days:
        try:
            with conn.begin_nested():
                _exec(conn, _job_sql(kind, _RANGE, 1, False), **params)
                _exec(conn, _test_sql(kind, _RANGE, 1, False), **params)
            return
        except IntegrityError:
            pass
    _exec(conn, _job_sql(kind, _RANGE, 1, True), **params)
    _exec(conn, _test_sql(kind, _RANGE, 1, True), **params)


def build_all(engine: Engine, *, runs_per_range: int = RUNS_PER_RANGE, follower=None) -> dict:
    """Recompute both rollup tables from runs and test_runs.

    One transaction empties the tables and drops their secondary indexes;
    then one transaction per range of whole days of at most
    ``runs_per_range`` runs (``_day_ranges``; readers see the rollups fill
    up; a concurrent ingest waits for at most one range on SQLite and never
    on the servers); the last one puts the indexes back. A run that an
    ingest commits during the build is either in no range (its writer adds
    it) or rolled up by its writer before its range lists it (the range
    leaves it out: ch_rolled_runs). ``follower`` (health_api.ingest.rebuild):
    emptied with the tables (``clear(conn)``), then told each range's runs once
    they are committed (``add(run_ids, whole_days)``)."""
    report = BuildReport()
    with engine.begin() as conn:
        kind = _kind(conn)
        empty_tables(conn, "ch_test_daily", "ch_job_daily", "ch_rolled_runs")
        if follower is not None:
            follower.clear(conn)
        _drop_secondary(conn)
        ranges = _day_ranges(conn, runs_per_range)
    try:
        for listed, whole_days in ranges:
            with engine.begin() as conn:
                _tune(conn)
                ids = list(conn.execute(text(
                    "SELECT r.id FROM runs r WHERE r.id IN :ids AND NOT EXISTS"
                    " (SELECT 1 FROM ch_rolled_runs c WHERE c.run_id = r.id)")
                    .bindparams(bindparam("ids", expanding=True)), {"ids": listed}).scalars())
                if ids:
                    _add_range(conn, kind, ids, whole_days)
                    report.runs += _mark(conn, _LIST, ids=ids)
            if ids and follower is not None:
                follower.add(ids, whole_days)
            report.ranges += 1
    finally:
        with engine.begin() as conn:
            _create_secondary(conn)
        _vacuum(engine)
    return report.as_dict()


def _vacuum(engine: Engine) -> None:
    """PostgreSQL: the planner needs statistics of the new rows, and a freshly
    built table has no visibility map, so index-only scans (ch_rolled_runs'
    probes) would visit the heap for every row until autovacuum came by."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE) ch_test_daily, ch_job_daily, ch_rolled_runs")


_NOT_ROLLED = ("SELECT r.id FROM runs r WHERE NOT EXISTS"
               " (SELECT 1 FROM ch_rolled_runs c WHERE c.run_id = r.id)")


def missing_runs(conn, *, settle: dt.timedelta | None = SETTLE,
                 limit: int = RUNS_PER_RANGE) -> list[int]:
    """Ids of runs not in the rollups, oldest first, leaving out those younger
    than ``settle`` (their writer may not be done)."""
    if settle is None:
        return list(conn.execute(text(f"{_NOT_ROLLED} ORDER BY r.id LIMIT :limit"),
                                 {"limit": limit}).scalars())
    settled = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - settle
    return list(conn.execute(text(
        f"{_NOT_ROLLED} AND (r.run_at IS NULL OR r.run_at < :settled) ORDER BY r.id LIMIT :limit"),
        {"settled": settled, "limit": limit}).scalars())


def catch_up(engine: Engine, *, settle: dt.timedelta | None = SETTLE,
             runs_per_range: int = RUNS_PER_RANGE) -> dict:
    """Add every run no writer rolled up (written by subunit2sql after adoption),
    but those younger than ``settle``."""
    report = BuildReport()
    while True:
        with engine.begin() as conn:
            run_ids = missing_runs(conn, settle=settle, limit=runs_per_range)
            if not run_ids:
                break
            _tune(conn)
            add_runs(conn, run_ids)
            from ..compat import rollup as osh_rollup  # it builds on this module
            osh_rollup.add_runs(conn, run_ids)
        report.runs += len(run_ids)
        report.ranges += 1
    return report.as_dict()
