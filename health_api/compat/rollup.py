"""``ch_osh_test_hourly``: the rollup behind openstack-health's
/build_name/<job>/test_runs, and its upkeep.

That route counts, per bucket of the results' start time and test, the passes,
fails and others of one job, and a run time that is openstack-health's running
mean reset to 0 by every result that is not a pass: over a bucket that comes
out as the durations of the passes after its last other result (in
test_runs.id order) divided by all its passes. ``ch_test_daily`` cannot give
that sum; this table holds it per *part* -- (job, hour, test, run day) -- with
what it takes to combine parts exactly:

- ``passes``, ``fails``, ``others``: openstack-health's status classes
  (OSH_PASS / OSH_FAIL, anything else an other);
- ``pass_sum``: the durations of all the part's passes; ``trailing``: of those
  after ``last_other``, the part's greatest id of a result that is not a pass;
- ``min_pass``/``max_pass``: the ids of its first and last pass.

Parts combine (``combine``; the same rule in SQL in ``job_buckets``): the
whole's last other L is the greatest of the parts'; the part holding L gives
its ``trailing``, a part whose passes all come after L its ``pass_sum``, a part
whose passes all come before L nothing. A part with passes on both sides of L
(ids of one job's results out of time order across hours or runs, as two
writers interleaving would leave) cannot be combined from sums: ``tangled``
counts such merges and the route then reads the raw results instead.

The runs in the table are exactly those of ``ch_rolled_runs``: the writer adds
a run (``add_runs``) in the transaction that records it there, ``db
rebuild-rollups`` builds the table day by day after the daily rollups
(``build_all``), ``--missing`` adds what it catches up, ``db expire`` deletes
the (run day, job) keys of what it expires and rebuilds the ones it splits
from their remaining runs (``expire_runs``). A run not rolled up yet (written
by subunit2sql since the last catch-up) is read raw by the route.
"""
from __future__ import annotations

import datetime as dt
import sqlite3

from sqlalchemy import bindparam, text

from .. import rules
from ..ingest.rollup_sql import _DAY, _DURATION as _DAILY_DURATION, _kind

TABLE = "ch_osh_test_hourly"
COLUMNS = ("build_name", "hour", "test_id", "day", "passes", "fails", "others", "pass_sum",
           "trail_sum", "last_other", "min_pass", "max_pass", "tangled")
#: the hour of a result's start time, as the DateTime column stores it
_HOUR = {
    "postgresql": "date_trunc('hour', tr.start_time)",
    "mysql": "TIMESTAMP(DATE(tr.start_time), MAKETIME(HOUR(tr.start_time), 0, 0))",
    # SQLAlchemy's SQLite DateTime text, microseconds included: compared as text
    "sqlite": "strftime('%Y-%m-%d %H:00:00.000000', tr.start_time)",
}
#: a result's duration as queries.common.duration_seconds computes it; on MySQL divided
#: by a double (1e6), not by 1000000.0, a DECIMAL quotient cut to 4 places there
#: (div_precision_increment): 0.8248 for 0.824782; on PostgreSQL whole seconds plus the
#: microsecond columns too, not the timestamps' difference, which differs where the
#: timestamps were stored to the second (bench/scale_store.py: 1.0 for 1.037)
_MICROS = "(COALESCE(tr.stop_time_microsecond, 0) - COALESCE(tr.start_time_microsecond, 0))"
_DURATION = {**_DAILY_DURATION,
             "mysql": f"TIMESTAMPDIFF(SECOND, tr.start_time, tr.stop_time) + {_MICROS} / 1e6",
             "postgresql": "date_part('epoch', date_trunc('second', tr.stop_time)"
                           f" - date_trunc('second', tr.start_time)) + {_MICROS} / 1e6"}
#: the day of an hour of the table (the day resolution's bucket)
_DAY_OF_HOUR = {"postgresql": "date_trunc('day', h.hour)", "mysql": "DATE(h.hour)",
                "sqlite": "date(h.hour)"}


def _in(values) -> str:
    return ", ".join(f"'{v}'" for v in sorted(values))


#: openstack-health's own status classes (test_run_aggregator.Status): not ci-health's
#: table, as its answers are what this wing reproduces; anything else is a skip
OSH_PASS = frozenset({"success", "xfail"})
OSH_FAIL = frozenset({"fail", "unxsuccess"})
_PASS = _in(OSH_PASS)
_FAIL = _in(OSH_FAIL)


def _parts_sql(kind: str, where: str) -> str:
    """The parts (COLUMNS, in order) of the results of the runs ``where`` selects
    (conditions on runs r, test_runs tr and the build_name row b), per job (every
    build_name row of a run: a run is under each, as openstack-health's join put it),
    hour, test and run day."""
    passed = f"x.status IN ({_PASS})"
    took = f"COALESCE(x.took, 0)"
    return (
        f"SELECT x.build_name, x.hour, x.test_id, x.day,"
        f" SUM(CASE WHEN {passed} THEN 1 ELSE 0 END),"
        f" SUM(CASE WHEN x.status IN ({_FAIL}) THEN 1 ELSE 0 END),"
        f" SUM(CASE WHEN {passed} OR x.status IN ({_FAIL}) THEN 0 ELSE 1 END),"
        f" SUM(CASE WHEN {passed} THEN {took} ELSE 0 END),"
        f" SUM(CASE WHEN {passed} AND (x.lo IS NULL OR x.id > x.lo) THEN {took} ELSE 0 END),"
        f" MAX(x.lo), MIN(CASE WHEN {passed} THEN x.id END),"
        f" MAX(CASE WHEN {passed} THEN x.id END), 0 "
        f"FROM (SELECT b.value AS build_name, {_HOUR[kind]} AS hour, tr.test_id,"
        f" {_DAY[kind]} AS day, tr.id, tr.status,"
        f" CASE WHEN tr.status IN ({_PASS}) THEN {_DURATION[kind]} END AS took,"
        f" MAX(CASE WHEN tr.status IN ({_PASS}) THEN NULL ELSE tr.id END) OVER ("
        f"PARTITION BY b.value, {_HOUR[kind]}, tr.test_id, {_DAY[kind]}) AS lo"
        f" FROM test_runs tr JOIN runs r ON r.id = tr.run_id"
        f" JOIN run_metadata b ON b.run_id = r.id AND b.key = '{rules.BUILD_NAME_KEY}'"
        f" WHERE tr.start_time IS NOT NULL AND tr.test_id IS NOT NULL AND {where}) x "
        f"GROUP BY x.build_name, x.hour, x.test_id, x.day")


def _exec(conn, sql: str, params: dict):
    stmt = text(sql)
    for name, value in params.items():
        if isinstance(value, (list, tuple, set, frozenset)):
            stmt = stmt.bindparams(bindparam(name, expanding=True))
    return conn.execute(stmt, params)


_ROLLED = "EXISTS (SELECT 1 FROM ch_rolled_runs c WHERE c.run_id = r.id)"


# -- combining parts ----------------------------------------------------------------

def combine(parts: list[tuple]) -> tuple:
    """Parts (passes, fails, others, pass_sum, trailing, last_other, min_pass, max_pass,
    tangled) of one key -> the whole, in the same shape."""
    if len(parts) == 1:
        return parts[0]
    last = max((p[5] for p in parts if p[5] is not None), default=None)
    trailing, tangled = 0.0, 0
    for passes, _f, _o, pass_sum, part_trailing, last_other, lo, hi, part_tangled in parts:
        tangled += part_tangled
        if last is None:
            trailing += pass_sum
        elif last_other == last:
            trailing += part_trailing
        elif passes and lo > last:
            trailing += pass_sum
        elif passes and hi > last:  # passes on both sides of the whole's last other
            tangled += 1
    return (sum(p[0] for p in parts), sum(p[1] for p in parts), sum(p[2] for p in parts),
            sum(p[3] for p in parts), trailing, last,
            min((p[6] for p in parts if p[6] is not None), default=None),
            max((p[7] for p in parts if p[7] is not None), default=None), tangled)


# -- upkeep ---------------------------------------------------------------------------

def _insert(conn, rows: list[tuple]) -> None:
    if rows:
        from ..db import bulk, tables
        bulk.insert_rows(conn, tables.osh_test_hourly, COLUMNS, rows)


def add_runs(conn, run_ids: list[int]) -> None:
    """Add these runs' results (the writer's run, in its transaction; the runs
    ``rebuild-rollups --missing`` catches up): their parts, merged with the stored
    parts of the same keys."""
    run_ids = sorted(run_ids)
    for i in range(0, len(run_ids), ADD_CHUNK):
        _add(conn, run_ids[i:i + ADD_CHUNK])


#: runs merged per pass (a catch-up of 1,000 Tempest runs would be 1.5M parts at once)
ADD_CHUNK = 50


def _combine_sets(old, new, kind: str) -> str:
    """``combine`` of two parts, the stored row and the added one, as the SET
    list of an upsert; ``old(c)``/``new(c)`` name their column c. In the order
    MySQL/MariaDB need, whose later assignments see the earlier ones' results:
    the columns that others read are assigned last."""
    # SQLite's two-argument max()/min() are its GREATEST/LEAST (NULL if either is)
    big, small = ("max", "min") if kind == "sqlite" else ("GREATEST", "LEAST")

    def greatest(a: str, b: str) -> str:  # skipping NULLs on every engine
        return f"COALESCE({big}({a}, {b}), {a}, {b})"
    last = greatest(old("last_other"), new("last_other"))

    def trailing(p) -> str:
        return (f"CASE WHEN {last} IS NULL THEN {p('pass_sum')} WHEN {p('last_other')} = {last}"
                f" THEN {p('trail_sum')} WHEN {p('passes')} > 0 AND {p('min_pass')} > {last}"
                f" THEN {p('pass_sum')} ELSE 0 END")

    def tangles(p) -> str:  # passes on both sides of the whole's last other
        return (f"CASE WHEN {last} IS NOT NULL AND ({p('last_other')} IS NULL"
                f" OR {p('last_other')} <> {last}) AND {p('passes')} > 0"
                f" AND {p('min_pass')} <= {last} AND {p('max_pass')} > {last} THEN 1 ELSE 0 END")
    least = (f"COALESCE({small}({old('min_pass')}, {new('min_pass')}), {old('min_pass')},"
             f" {new('min_pass')})")
    return ", ".join(
        [f"tangled = {old('tangled')} + {new('tangled')} + ({tangles(old)}) + ({tangles(new)})",
         f"trail_sum = ({trailing(old)}) + ({trailing(new)})",
         f"min_pass = {least}",
         f"max_pass = {greatest(old('max_pass'), new('max_pass'))}",
         f"last_other = {last}"]
        + [f"{c} = {old(c)} + {new(c)}" for c in ("passes", "fails", "others", "pass_sum")])


def _add_in_server(conn, kind: str, run_ids: list[int]) -> None:
    """``_add`` in one statement, where the data is: the runs' parts go
    straight into the table, and a part whose key is stored is combined with
    the stored row by the upsert. The writer's 100,000-test run spent 2-3 s of
    client CPU (PostgreSQL) fetching its parts and the stored ones, merging
    them and sending them back after deleting the stored rows, all on the
    serial tail of the ingest; on SQLite that merge was a fifth of a
    1,500-test ingest process."""
    columns = ", ".join(COLUMNS)
    if kind in ("postgresql", "sqlite"):
        target = f"{TABLE} AS t ({columns})"
        upsert = ("ON CONFLICT (build_name, hour, test_id, day) DO UPDATE SET "
                  + _combine_sets(lambda c: f"t.{c}", lambda c: f"excluded.{c}", kind))
    else:
        target = f"{TABLE} ({columns})"
        upsert = "ON DUPLICATE KEY UPDATE " + _combine_sets(
            lambda c: f"{TABLE}.{c}", lambda c: f"VALUES({c})", kind)
    _exec(conn, f"INSERT INTO {target} " + _parts_sql(kind, "r.id IN :ids")
                + f" ORDER BY x.build_name, x.hour, x.test_id, x.day {upsert}",
          {"ids": list(run_ids)})


#: SQLite's upsert (ON CONFLICT ... DO UPDATE) came in 3.24; older ones merge in Python
_SQLITE_UPSERT = sqlite3.sqlite_version_info >= (3, 24, 0)


def _add(conn, run_ids: list[int]) -> None:
    kind = _kind(conn)
    if kind in ("postgresql", "mysql") or (kind == "sqlite" and _SQLITE_UPSERT):
        _add_in_server(conn, kind, run_ids)
        return
    new = _exec(conn, _parts_sql(kind, "r.id IN :ids"), {"ids": list(run_ids)}).all()
    if not new:
        return
    touched: dict[tuple, set] = {}
    for row in new:
        touched.setdefault((row[0], row[3]), set()).add(row[1])
    merged: dict[tuple, list] = {}
    for row in new:
        merged.setdefault(tuple(row[:4]), []).append(tuple(row[4:]))
    for (name, day), hours in touched.items():
        params = {"name": name, "day": day, "hours": sorted(hours)}
        where = f"build_name = :name AND day = :day AND hour IN :hours"
        stored = _exec(conn, f"SELECT {', '.join(COLUMNS)} FROM {TABLE} WHERE {where}",
                       params).all()
        if stored:
            for row in stored:
                merged.setdefault(tuple(row[:4]), []).insert(
                    0, tuple(row[4:]))
            _exec(conn, f"DELETE FROM {TABLE} WHERE {where}", params)
    _insert(conn, [(*key, *combine(parts)) for key, parts in sorted(
        merged.items(), key=lambda kv: (kv[0][0], str(kv[0][1]), kv[0][2], str(kv[0][3])))])


def build_days(conn, lo: dt.datetime | None, hi: dt.datetime | None) -> int:
    """The parts of the rolled-up runs whose run_at is in [lo, hi) (None, None: the runs
    without a run_at), straight into the table (their keys hold no other run)."""
    kind = _kind(conn)
    if lo is None:
        where, params = "r.run_at IS NULL", {}
    else:
        where, params = "r.run_at >= :lo AND r.run_at < :hi", {"lo": lo, "hi": hi}
    # in primary-key order: a job's rows of the day lie together in the table, so the
    # route's range over one job reads a few runs of pages instead of a page per row
    sql = (f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) "
           + _parts_sql(kind, f"{where} AND {_ROLLED}")
           + " ORDER BY x.build_name, x.hour, x.test_id, x.day")
    return _exec(conn, sql, params).rowcount


def _days(conn) -> list[dt.date]:
    first, last = conn.execute(text("SELECT MIN(run_at), MAX(run_at) FROM runs")).one()
    if first is None:
        return []
    if isinstance(first, str):  # SQLite without type affinity in an aggregate
        first, last = dt.datetime.fromisoformat(first), dt.datetime.fromisoformat(last)
    return [first.date() + dt.timedelta(days=n) for n in range((last.date() - first.date()).days + 1)]


def fill(conn) -> int:
    """Build the whole table in the caller's transaction (the migration's)."""
    rows = build_days(conn, None, None)
    for day in _days(conn):
        start = dt.datetime.combine(day, dt.time())
        rows += build_days(conn, start, start + dt.timedelta(days=1))
    return rows


def build_all(engine) -> dict:
    """``db rebuild-rollups``: the table from scratch, one transaction per day of runs
    (the daily rollups' build has marked the runs rolled up by then)."""
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DELETE FROM {TABLE}")
        days = _days(conn)
        rows = build_days(conn, None, None)
    for day in days:
        start = dt.datetime.combine(day, dt.time())
        with engine.begin() as conn:
            if _kind(conn) == "postgresql":
                conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
            rows += build_days(conn, start, start + dt.timedelta(days=1))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {TABLE}")
    return {"osh_test_hourly_rows": rows}


def expire_runs(conn, run_ids: list[int]) -> None:
    """Before ``db expire`` deletes these runs: the (run day, job) keys they have lose
    their rows, and a key with rolled-up runs left (a day the cutoff splits) is built
    again from those runs."""
    if not run_ids:
        return
    kind = _kind(conn)
    keys = _exec(conn, f"SELECT DISTINCT b.value, {_DAY[kind]} FROM runs r JOIN run_metadata b"
                       f" ON b.run_id = r.id AND b.key = '{rules.BUILD_NAME_KEY}'"
                       f" WHERE r.id IN :ids", {"ids": list(run_ids)}).all()
    for name, day in keys:
        params = {"name": name, "day": day}
        _exec(conn, f"DELETE FROM {TABLE} WHERE day = :day AND build_name = :name", params)
        left = [r for r, in _exec(
            conn, f"SELECT r.id FROM runs r JOIN run_metadata b ON b.run_id = r.id"
                  f" AND b.key = '{rules.BUILD_NAME_KEY}' WHERE b.value = :name"
                  f" AND {_DAY[kind]} = :day AND r.id NOT IN :ids AND {_ROLLED}",
            {**params, "ids": list(run_ids)})]
        if left:
            _exec(conn, f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) "
                  + _parts_sql(kind, "r.id IN :left AND b.value = :name"),
                  {"left": left, "name": name})


# -- the route ----------------------------------------------------------------------

#: the resolutions the table serves (its parts are hours)
RESOLUTIONS = ("hour", "day")


def _floor_hour(ts: dt.datetime) -> dt.datetime:
    return ts.replace(minute=0, second=0, microsecond=0)


def _as_datetime(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    return dt.datetime.fromisoformat(str(value))


_PART = ("passes, fails, others, pass_sum, trail_sum, last_other, min_pass, max_pass,"
         " tangled")


def _window(lo: bool, hi: bool) -> str:
    return ("h.build_name = :name" + (" AND h.hour >= :lo" if lo else "")
            + (" AND h.hour < :hi" if hi else ""))


def _hours_sql(lo: bool, hi: bool) -> str:
    """The job's parts of the window's whole hours in primary-key order (an index range,
    no sort): the rare hour with parts of two run days combines in Python as it comes."""
    return (f"SELECT h.hour, h.test_id, {_PART} FROM {TABLE} h WHERE {_window(lo, hi)}"
            " ORDER BY h.hour, h.test_id")


def _days_sql(kind: str, lo: bool, hi: bool) -> str:
    """The job's parts of the window's whole hours combined per day and test in SQL
    (``combine``'s rule: the greatest last other of the day over every part)."""
    g = _DAY_OF_HOUR[kind]
    return (
        "SELECT p.g, p.test_id, SUM(p.passes), SUM(p.fails), SUM(p.others), SUM(p.pass_sum),"
        " SUM(CASE WHEN p.l IS NULL THEN p.pass_sum WHEN p.last_other = p.l THEN p.trail_sum"
        " WHEN p.passes > 0 AND p.min_pass > p.l THEN p.pass_sum ELSE 0 END),"
        " MAX(p.l), MIN(p.min_pass), MAX(p.max_pass),"
        " SUM(p.tangled + CASE WHEN p.l IS NOT NULL AND (p.last_other IS NULL OR"
        " p.last_other <> p.l) AND p.passes > 0 AND p.min_pass < p.l AND p.max_pass > p.l"
        " THEN 1 ELSE 0 END)"
        f" FROM (SELECT {g} AS g, h.test_id, h.passes, h.fails, h.others, h.pass_sum,"
        " h.trail_sum, h.last_other, h.min_pass, h.max_pass, h.tangled,"
        f" MAX(h.last_other) OVER (PARTITION BY {g}, h.test_id) AS l"
        f" FROM {TABLE} h WHERE {_window(lo, hi)}) p GROUP BY p.g, p.test_id")


def _merged(rows):
    """(g, test id, *part) rows in (g, test id) order -> the same with the parts of one
    (g, test id) combined."""
    previous = None
    for row in rows:
        if previous is not None and row[0] == previous[0] and row[1] == previous[1]:
            previous = (row[0], row[1], *combine([tuple(previous[2:]), tuple(row[2:])]))
            continue
        if previous is not None:
            yield previous
        previous = row
    if previous is not None:
        yield previous


def job_buckets(conn, name: str, start, stop, resolution: str) -> list[tuple] | None:
    """What queries.jobs.job_test_buckets answers -- (bucket text, test_id, passes,
    fails, others, trailing) per bucket and test of the job's results whose start time
    is in [start, stop] -- from the table: its whole hours of the window (combined per
    day in SQL at day), the parts outside them (the window's partial first and last
    hour, the runs not rolled up yet) read raw and combined here. None where parts are
    tangled (the caller then reads everything raw) or the window holds no whole hour."""
    kind = _kind(conn)
    lo = None if start is None else _floor_hour(start)
    if lo is not None and lo < start:
        lo += dt.timedelta(hours=1)
    hi = None if stop is None else _floor_hour(stop)  # [hi, stop] is read raw
    if lo is not None and hi is not None and lo >= hi:
        return None
    params = {"name": name}
    if lo is not None:
        params["lo"] = lo
    if hi is not None:
        params["hi"] = hi
    if kind == "postgresql":
        # one job's week is ~200,000 parts: sorted in memory, and no JIT (a third of a
        # second to compile for a query of about that length). The job's rows lie
        # together (a day's build and a run's writer add them in key order) but the
        # planner judges by build_name's correlation over the whole table, low, and read
        # all of it (6.3M rows, 3.2 s) where the key range reads 3% (1.0 s, load 18)
        conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")
        conn.exec_driver_sql("SET LOCAL jit = off")
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    if resolution == "hour":
        rows = list(_merged(_exec(conn, _hours_sql(lo is not None, hi is not None),
                                  params).all()))
    else:
        rows = _exec(conn, _days_sql(kind, lo is not None, hi is not None), params).all()
    if kind == "postgresql":
        conn.exec_driver_sql("SET LOCAL enable_seqscan = on")
    # the parts outside the table's whole hours, read raw
    extra_where = []
    if lo is not None and start < lo:
        extra_where.append(("tr.start_time >= :a AND tr.start_time < :b", {"a": start, "b": lo}))
    if hi is not None:
        extra_where.append(("tr.start_time >= :a AND tr.start_time <= :b", {"a": hi, "b": stop}))
    window = ("1 = 1" + (" AND tr.start_time >= :a" if lo is not None else "")
              + (" AND tr.start_time < :b" if hi is not None else ""))
    extra_where.append((f"{window} AND NOT {_ROLLED}", {"a": lo, "b": hi}))
    extra: dict[tuple, list] = {}
    for where, p in extra_where:
        p = {k: v for k, v in p.items() if v is not None}
        for row in _exec(conn, _parts_sql(kind, f"b.value = :name AND {where}"),
                         {"name": name, **p}):
            hour = _as_datetime(row[1])
            g = hour if resolution == "hour" else hour.replace(hour=0)
            extra.setdefault((g, row[2]), []).append(tuple(row[4:]))
    ids = {row[1] for row in rows} | {k[1] for k in extra}
    names = dict(_exec(conn, "SELECT id, test_id FROM tests WHERE id IN :ids",
                       {"ids": sorted(ids)}).all()) if ids else {}
    out, keys = [], {}
    for g, test_db_id, *whole in rows:
        key = keys.get(g)
        if key is None:
            at = _as_datetime(g)
            key = keys[g] = (str(at), at)
        if extra:
            more = extra.pop((key[1], test_db_id), None)
            if more:
                whole = combine([tuple(whole), *more])
        if whole[8]:
            return None
        out.append((key[0], names[test_db_id], whole[0], whole[1], whole[2], whole[4]))
    for (g, test_db_id), parts in extra.items():
        whole = combine(parts)
        if whole[8]:
            return None
        out.append((str(g), names[test_db_id], whole[0], whole[1], whole[2], whole[4]))
    return out
