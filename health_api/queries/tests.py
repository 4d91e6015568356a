"""Test queries: search through the tests.test_id index, per-test series and failures."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import case, desc, func, literal, select

from .. import rules
from ..db import models as m
from .common import META, RUNS, bucket, dialect, duration_seconds
from .runs import duration, tracebacks

T, TR, TD = m.tests, m.test_runs, m.test_daily


def _successor(prefix: str) -> str | None:
    last = ord(prefix[-1])
    if last >= 0x10FFFF:
        return None
    nxt = last + 1
    if 0xD800 <= nxt <= 0xDFFF:
        nxt = 0xE000
    return prefix[:-1] + chr(nxt)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


#: GET /api/v1/tests?sort=: the order over every matching test (then test_id), from the
#: tests table's counters; a test without a decided result sorts last by failure rate
SEARCH_SORTS = ("test_id", "failure_rate", "failures", "runs", "run_time")


def _search_order(sort: str) -> list:
    decided = func.coalesce(T.c.success, 0) + func.coalesce(T.c.failure, 0)
    rate = case((decided > 0, func.coalesce(T.c.failure, 0) * literal(1.0)
                 / func.nullif(decided, 0)), else_=-1.0)
    return {"test_id": [],
            "failure_rate": [desc(rate), desc(func.coalesce(T.c.failure, 0))],
            "failures": [desc(func.coalesce(T.c.failure, 0))],
            "runs": [desc(func.coalesce(T.c.run_count, 0))],
            "run_time": [desc(func.coalesce(T.c.run_time, -1.0))]}[sort] + [T.c.test_id]


def search(conn, q: str, mode: str, limit: int, offset: int,
           sort: str = "test_id") -> tuple[int, list[dict]]:
    """prefix: a range on tests.test_id, which every engine answers from its index
    (binary collation on MySQL, C collation or byte order elsewhere).
    substring: LIKE '%q%', which scans the tests table (one row per distinct test).
    ``sort`` other than test_id orders every match (a scan of the matches)."""
    if mode == "prefix" and q:
        where = [T.c.test_id >= q]
        upper = _successor(q)
        where.append(T.c.test_id < upper if upper is not None
                     else T.c.test_id.like(_like_escape(q) + "%", escape="\\"))
    elif q:
        where = [T.c.test_id.like("%" + _like_escape(q) + "%", escape="\\")]
        if conn.engine.dialect.name == "sqlite":  # SQLite's LIKE ignores case
            where.append(func.instr(T.c.test_id, q) > 0)
    else:
        where = []
    total = conn.execute(select(func.count()).select_from(T).where(*where)).scalar() or 0
    rows = conn.execute(select(T).where(*where).order_by(*_search_order(sort))
                        .limit(limit).offset(offset))
    return total, [test_dict(r) for r in rows]


def test_dict(row) -> dict:
    return {"test_id": row.test_id, "run_count": row.run_count or 0,
            "success": row.success or 0, "failure": row.failure or 0,
            "mean_run_time": row.run_time}


def find_test(conn, test_id: str):
    return conn.execute(select(T).where(T.c.test_id == test_id)).first()


def daily(conn, test_db_id: int, start_day: dt.date, stop_day: dt.date) -> list[tuple]:
    """(day, success, failure, skip, timed, run_time_sum) summed over jobs."""
    stmt = (select(TD.c.day, func.sum(TD.c.success), func.sum(TD.c.failure), func.sum(TD.c.skip),
                   func.sum(TD.c.timed), func.sum(TD.c.run_time_sum))
            .where(TD.c.test_id == test_db_id, TD.c.day >= start_day, TD.c.day < stop_day)
            .group_by(TD.c.day))
    return [tuple(r) for r in conn.execute(stmt)]


def raw_results(conn, test_db_id: int, start: dt.datetime, stop: dt.datetime) -> list[tuple]:
    """(start_time, status, duration) of one test in a window the caller bounded
    (ix_test_id_start_time)."""
    stmt = (select(TR.c.start_time, TR.c.status, TR.c.stop_time, TR.c.start_time_microsecond,
                   TR.c.stop_time_microsecond)
            .where(TR.c.test_id == test_db_id, TR.c.start_time >= start, TR.c.start_time < stop))
    return [(r[0], r[1], duration(r[0], r[2], r[3], r[4])) for r in conn.execute(stmt)]


def bucket_counts(conn, test_db_id: int, start: dt.datetime, stop: dt.datetime,
                  resolution: str) -> list[tuple]:
    """(bucket, success, failure, skip, timed, run_time_sum) of one test per bucket of
    start_time in a window the caller bounded, summed in SQL (one range of
    ix_test_id_start_time; only the buckets come back, not every result): what
    ``raw_results`` + ``analytics.series.test_series_raw`` make of the results, by the
    same rules (health_api.rules status classes; a pass is timed when it has both
    times, its duration as ``duration_seconds``)."""
    kind = dialect(conn)
    bk = bucket(TR.c.start_time, resolution, kind).label("bucket")
    passed = TR.c.status.in_(rules.PASS_STATUSES)
    timed = passed & TR.c.start_time.is_not(None) & TR.c.stop_time.is_not(None)
    took = duration_seconds(TR.c.start_time, TR.c.stop_time, TR.c.start_time_microsecond,
                            TR.c.stop_time_microsecond, kind)
    stmt = (select(bk, func.sum(case((passed, 1), else_=0)),
                   func.sum(case((TR.c.status.in_(rules.FAIL_STATUSES), 1), else_=0)),
                   func.sum(case((TR.c.status.in_(rules.SKIP_STATUSES), 1), else_=0)),
                   func.sum(case((timed, 1), else_=0)),
                   func.sum(case((timed, took), else_=0.0)))
            .where(TR.c.test_id == test_db_id, TR.c.start_time >= start, TR.c.start_time < stop)
            .group_by(bk))
    return [tuple(r) for r in conn.execute(stmt)]


def per_job(conn, test_db_id: int, start_day: dt.date, stop_day: dt.date) -> list[tuple]:
    """(build_name, success, failure, skip) from ch_test_daily."""
    stmt = (select(TD.c.build_name, func.sum(TD.c.success), func.sum(TD.c.failure),
                   func.sum(TD.c.skip))
            .where(TD.c.test_id == test_db_id, TD.c.day >= start_day, TD.c.day < stop_day)
            .group_by(TD.c.build_name).order_by(TD.c.build_name))
    return [tuple(r) for r in conn.execute(stmt)]


def recent_failures(conn, test_db_id: int, limit: int, traceback_bytes: int = 4000) -> list[dict]:
    b = META.alias("b")
    stmt = (select(TR.c.id, TR.c.status, TR.c.start_time, RUNS.c.uuid, RUNS.c.run_at,
                   RUNS.c.artifacts, b.c.value.label("build_name"))
            .select_from(TR.join(RUNS, RUNS.c.id == TR.c.run_id)
                         .outerjoin(b, (b.c.run_id == RUNS.c.id) & (b.c.key == "build_name")))
            .where(TR.c.test_id == test_db_id, TR.c.status.in_(rules.FAIL_STATUSES))
            .order_by(desc(TR.c.start_time), desc(TR.c.id)).limit(limit))
    rows = conn.execute(stmt).all()
    tb = tracebacks(conn, [r.id for r in rows], traceback_bytes)
    return [{"run_id": r.uuid, "job": r.build_name, "run_at": r.run_at,
             "start_time": r.start_time, "status": r.status, "link": r.artifacts,
             "traceback": tb.get(r.id)} for r in rows]


def prefixes(conn, limit: int) -> list[str]:
    """The distinct first dotted components of test ids (openstack-health /tests/prefix)."""
    seen: list[str] = []
    last = None
    # walk the index: jump from one prefix to the next instead of reading every row
    while len(seen) < limit:
        stmt = select(T.c.test_id).order_by(T.c.test_id).limit(1)
        if last is not None:
            # past `last` and everything under `last.`; '/' follows '.' in byte order
            stmt = stmt.where(((T.c.test_id > last) & (T.c.test_id < last + "."))
                              | (T.c.test_id >= last + "/"))
        row = conn.execute(stmt).first()
        if row is None:
            break
        last = row[0].split(".", 1)[0]
        if last not in seen:
            seen.append(last)
    return seen


def results_in_window(conn, test_id: str, start, stop, limit: int) -> list[tuple]:
    """(run_id, status, start_time, start_us, stop_time, stop_us) of every result of the
    test (by its test_id) whose start_time is in subunit2sql's closed window [start, stop]
    (either bound may be None: none there), in test_runs.id order, the order
    openstack-health's get_test_runs_by_test_test_id met them; at most ``limit`` rows."""
    where = [T.c.test_id == test_id]
    if start is not None:
        where.append(TR.c.start_time >= start)
    if stop is not None:
        where.append(TR.c.start_time <= stop)
    stmt = (select(TR.c.run_id, TR.c.status, TR.c.start_time, TR.c.start_time_microsecond,
                   TR.c.stop_time, TR.c.stop_time_microsecond)
            .select_from(TR.join(T, T.c.id == TR.c.test_id))
            .where(*where).order_by(TR.c.id).limit(limit))
    return [tuple(r) for r in conn.execute(stmt)]


#: how many run ids one IN list carries (well under every engine's parameter limit)
_IN_CHUNK = 1000


def runs_with_job_and_provider(conn, run_ids) -> list[dict]:
    """The runs of ``run_ids`` (each once), in runs.id order, with their build_name and
    node_provider metadata (the last row of each key, as openstack-health's loop kept)."""
    ids = sorted(set(run_ids))
    runs: dict[int, dict] = {}
    for i in range(0, len(ids), _IN_CHUNK):
        chunk = ids[i:i + _IN_CHUNK]
        for r in conn.execute(select(RUNS.c.id, RUNS.c.run_at, RUNS.c.artifacts)
                              .where(RUNS.c.id.in_(chunk))):
            runs[r.id] = {"run_at": r.run_at, "artifacts": r.artifacts,
                          "build_name": None, "node_provider": None}
        for r in conn.execute(select(META.c.run_id, META.c.key, META.c.value)
                              .where(META.c.run_id.in_(chunk),
                                     META.c.key.in_(("build_name", "node_provider")))
                              .order_by(META.c.id)):
            if r.run_id in runs:
                runs[r.run_id][r.key] = r.value
    return [runs[i] for i in sorted(runs)]
