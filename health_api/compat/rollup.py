"""``ch_osh_test_daily``: the rollup behind openstack-health's
/build_name/<job>/test_runs at day resolution, and its upkeep.

That route counts, per bucket of the results' start time and test, the passes,
fails and others of one job, and a run time that is openstack-health's running
mean reset to 0 by every result that is not a pass: over a bucket that comes
out as the durations of the passes after its last other result (in
test_runs.id order) divided by all its passes. ``ch_test_daily`` cannot give
that sum; this table holds it per *part* -- (job, start day, test, run day) --
with what it takes to combine parts exactly:

- ``passes``, ``fails``, ``others``: openstack-health's status classes
  (OSH_PASS / OSH_FAIL, anything else an other);
- ``pass_sum``: the durations of all the part's passes; ``trailing``: of those
  after ``last_other``, the part's greatest id of a result that is not a pass;
- ``min_pass``/``max_pass``: the ids of its first and last pass.

Parts combine (``combine``; the same rule in SQL in ``_combine_sets``): the
whole's last other L is the greatest of the parts'; the part holding L gives
its ``trailing``, a part whose passes all come after L its ``pass_sum``, a part
whose passes all come before L nothing. A part with passes on both sides of L
(ids of one job's results out of order across runs, as two writers
interleaving would leave, or runs of two run days with results on one start
day) cannot be combined from sums: ``tangled`` counts such merges and the
route then reads the raw results instead.

Parts are per day, not per hour: at a gate's rate (20 runs of a job a day)
an hour holds about one run of a job, so hourly parts were one row per
result -- a second copy of test_runs that every ingest, rebuild and expire
paid for (the quarter's rebuild: ~720 s of ~790 s). Day parts are about 20
times fewer; hour, min and sec resolutions read the results, as they must
for min and sec anyway (the answer at hour is itself about a row per result
at that rate).

The runs in the table are exactly those of ``ch_rolled_runs``: the writer adds
a run (``add_runs``) in the transaction that records it there, ``db
rebuild-rollups`` builds the table day by day after the daily rollups
(``build_all``), ``--missing`` adds what it catches up, ``db expire`` deletes
the (run day, job) keys of what it expires and rebuilds the ones it splits
from their remaining runs (``expire_runs``). A run not rolled up yet (written
by subunit2sql since the last catch-up) is read raw by the route
(health_api.compat.day_buckets).
"""
from __future__ import annotations

import datetime as dt
import sqlite3

from sqlalchemy import bindparam, text
from sqlalchemy.exc import IntegrityError

from .. import rules
from ..ingest.rollup_sql import _DAY, _kind, _tune, empty_tables
from .parts_sql import _KEY_ORDER, _parts_sql, _run_parts_sql

TABLE = "ch_osh_test_daily"
COLUMNS = ("build_name", "start_day", "test_id", "day", "passes", "fails", "others", "pass_sum",
           "trail_sum", "last_other", "min_pass", "max_pass", "tangled")
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
        bulk.insert_rows(conn, tables.osh_test_daily, COLUMNS, rows)


def add_runs(conn, run_ids: list[int]) -> None:
    """Add these runs' results (the runs ``rebuild-rollups --missing`` catches up;
    the writer's: ``add_run``): their parts, merged with the stored parts of the
    same keys."""
    run_ids = sorted(run_ids)
    for i in range(0, len(run_ids), ADD_CHUNK):
        _add(conn, run_ids[i:i + ADD_CHUNK])


def add_run(conn, run_id: int, *, first_of_job_day: bool = False) -> None:
    """The writer's run, in its transaction. ``first_of_job_day``: the daily rollups
    found no run of its job and day before it (rollups.apply_job), so no part under
    that job and run day is stored and plain inserts do: on PostgreSQL a 100,000-test
    run's parts took 0.57 s as an upsert, where the speculative insertion and its
    conflict check are most of the cost. Should a part be stored all the same (the
    run's other build_name rows, a writer of the same job and day committing first),
    the savepoint goes back and the parts are combined as for any run."""
    _tune(conn)  # one statement's sort of up to a run's results: in memory
    if first_of_job_day:
        try:
            with conn.begin_nested():
                _exec(conn, f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) "
                            f"{_run_parts_sql(_kind(conn))}",
                      {"run_id": run_id})
            return
        except IntegrityError:
            pass
    _add(conn, [run_id])


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
        upsert = ("ON CONFLICT (build_name, start_day, test_id, day) DO UPDATE SET "
                  + _combine_sets(lambda c: f"t.{c}", lambda c: f"excluded.{c}", kind))
    else:
        target = f"{TABLE} ({columns})"
        upsert = "ON DUPLICATE KEY UPDATE " + _combine_sets(
            lambda c: f"{TABLE}.{c}", lambda c: f"VALUES({c})", kind)
    if len(run_ids) == 1:  # the writer's run
        _exec(conn, f"INSERT INTO {target} {_run_parts_sql(kind)} {upsert}",
              {"run_id": run_ids[0]})
        return
    _exec(conn, f"INSERT INTO {target} " + _parts_sql(kind, "r.id IN :ids")
                + f"{_KEY_ORDER} {upsert}", {"ids": list(run_ids)})


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
    for (name, day), start_days in touched.items():
        params = {"name": name, "day": day, "start_days": sorted(start_days)}
        where = "build_name = :name AND day = :day AND start_day IN :start_days"
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
           + _parts_sql(kind, f"{where} AND {_ROLLED}") + _KEY_ORDER)
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
    """The table alone from scratch, one transaction per day of runs (the runs the daily
    rollups hold: ``db rebuild-rollups`` builds both, this one range by range right
    behind the other: health_api.ingest.rebuild)."""
    with engine.begin() as conn:
        clear(conn)
        days = _days(conn)
        rows = build_days(conn, None, None)
    for day in days:
        start = dt.datetime.combine(day, dt.time())
        with engine.begin() as conn:
            _tune(conn)
            rows += build_days(conn, start, start + dt.timedelta(days=1))
    vacuum(engine)
    return {"osh_test_daily_rows": rows}


def clear(conn) -> None:
    empty_tables(conn, TABLE)


def build_runs(conn, run_ids: list[int], whole_days: bool) -> int:
    """The parts of these rolled-up runs, one range of the daily rollups' build. Whole
    days: plain inserts (no other run has a part under their keys), unless a writer
    added a run of one of these days meanwhile: then, as for the second and later
    parts of a day split between ranges, the parts are combined with the stored ones."""
    _tune(conn)
    if whole_days:
        try:
            with conn.begin_nested():
                return _exec(conn, f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) "
                             + _parts_sql(_kind(conn), "r.id IN :ids") + _KEY_ORDER,
                             {"ids": list(run_ids)}).rowcount
        except IntegrityError:
            pass
    add_runs(conn, run_ids)
    return 0


def vacuum(engine) -> None:
    """PostgreSQL: the new rows' statistics and visibility map (the route's reads)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {TABLE}")


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
