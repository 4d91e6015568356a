"""/build_name/<job>/test_runs at day resolution read from ``ch_osh_test_daily``
(health_api.compat.rollup builds and keeps it): the window's whole days from the
table, the rest -- its partial first and last day, the runs not rolled up yet --
counted from the results and combined with them by ``rollup.combine``'s rule."""
from __future__ import annotations

import datetime as dt

from ..ingest.rollup_sql import _kind
from .parts_sql import _parts_sql
from .rollup import _ROLLED, TABLE, _exec, combine

#: the resolutions the table serves (its parts are days; finer ones read the results)
RESOLUTIONS = ("day",)


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


_PART = ("passes, fails, others, pass_sum, trail_sum, last_other, min_pass, max_pass,"
         " tangled")


def _days_sql(lo: bool, hi: bool) -> str:
    """The job's parts of the window's whole days in primary-key order (an index range,
    no sort): the rare day with parts of two run days combines in Python as it comes."""
    return (f"SELECT h.start_day, h.test_id, {_PART} FROM {TABLE} h WHERE h.build_name = :name"
            + (" AND h.start_day >= :lo" if lo else "") + (" AND h.start_day < :hi" if hi else "")
            + " ORDER BY h.start_day, h.test_id")


def _merged(rows):
    """(day, test id, *part) rows in (day, test id) order -> the same with the parts of
    one (day, test id) combined."""
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


def _whole_days(start, stop) -> tuple[dt.date | None, dt.date | None]:
    """The table's days [lo, hi) inside the closed window [start, stop] (naive UTC, as
    the routes parse them); the rest of the window (before lo, from hi on) is read raw."""
    lo = None if start is None else start.date()
    if lo is not None and dt.datetime.combine(lo, dt.time()) < start:
        lo += dt.timedelta(days=1)
    hi = None if stop is None else stop.date()
    return lo, hi


def job_buckets(conn, name: str, start, stop, resolution: str = "day") -> list[tuple] | None:
    """What queries.jobs.job_test_buckets answers at day resolution -- (bucket text,
    test_id, passes, fails, others, trailing) per day and test of the job's results whose
    start time is in [start, stop] -- from the table: its whole days of the window, the
    parts outside them (the window's partial first and last day, the runs not rolled up
    yet) read raw and combined here. None where parts are tangled (the caller then reads
    everything raw) or the window holds no whole day."""
    if resolution not in RESOLUTIONS:
        raise ValueError(f"the table serves {RESOLUTIONS}, not {resolution!r}")
    kind = _kind(conn)
    lo, hi = _whole_days(start, stop)
    if lo is not None and hi is not None and lo >= hi:
        return None
    params = {"name": name}
    if lo is not None:
        params["lo"] = lo
    if hi is not None:
        params["hi"] = hi
    if kind == "postgresql":
        # the job's key range, not the whole table: the planner judges by build_name's
        # correlation over the whole table (low: every job's rows of a day lie together)
        # and would read all of it; no JIT (a third of a second to compile)
        conn.exec_driver_sql("SET LOCAL jit = off")
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    rows = list(_merged(_exec(conn, _days_sql(lo is not None, hi is not None), params).all()))
    if kind == "postgresql":
        conn.exec_driver_sql("SET LOCAL enable_seqscan = on")
    # the parts outside the table's whole days, read raw
    lo_at = None if lo is None else dt.datetime.combine(lo, dt.time())
    hi_at = None if hi is None else dt.datetime.combine(hi, dt.time())
    job = "b.value = :name"
    extra_where = []  # (conditions on the runs, on their results, parameters)
    if lo_at is not None and start < lo_at:
        extra_where.append((job, "tr.start_time >= :a AND tr.start_time < :b",
                            {"a": start, "b": lo_at}))
    if hi_at is not None:
        extra_where.append((job, "tr.start_time >= :a AND tr.start_time <= :b",
                            {"a": hi_at, "b": stop}))
    window = ("1 = 1" + (" AND tr.start_time >= :a" if lo_at is not None else "")
              + (" AND tr.start_time < :b" if hi_at is not None else ""))
    extra_where.append((f"{job} AND NOT {_ROLLED}", window, {"a": lo_at, "b": hi_at}))
    extra: dict[tuple, list] = {}
    for runs_where, results_where, p in extra_where:
        p = {k: v for k, v in p.items() if v is not None}
        for row in _exec(conn, _parts_sql(kind, runs_where, results_where),
                         {"name": name, **p}):
            extra.setdefault((_as_date(row[1]), row[2]), []).append(tuple(row[4:]))
    ids = {row[1] for row in rows} | {k[1] for k in extra}
    names = dict(_exec(conn, "SELECT id, test_id FROM tests WHERE id IN :ids",
                       {"ids": sorted(ids)}).all()) if ids else {}
    out, keys = [], {}
    for day, test_db_id, *whole in rows:
        key = keys.get(day)
        if key is None:
            at = _as_date(day)
            key = keys[day] = (str(dt.datetime.combine(at, dt.time())), at)
        if extra:
            more = extra.pop((key[1], test_db_id), None)
            if more:
                whole = combine([tuple(whole), *more])
        if whole[8]:
            return None
        out.append((key[0], names[test_db_id], whole[0], whole[1], whole[2], whole[4]))
    for (day, test_db_id), parts in extra.items():
        whole = combine(parts)
        if whole[8]:
            return None
        out.append((str(dt.datetime.combine(day, dt.time())), names[test_db_id], whole[0],
                    whole[1], whole[2], whole[4]))
    return out
