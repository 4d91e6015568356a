"""Row queries of the openstack-health routes that answer whole tables as subunit2sql's
db api read them (runs, tests, a run's results): every row, no page, at most ``limit``
rows (the caller refuses more)."""
from __future__ import annotations

from sqlalchemy import and_, case, desc, func, select

from ..db import models as m
from .common import META, RUNS, closed_window, dialect

T, TR, TRM = m.tests, m.test_runs, m.test_run_metadata
#: a runs row in the order compat.shaping.run_row unpacks it
RUN_COLUMNS = (RUNS.c.id, RUNS.c.uuid, RUNS.c.skips, RUNS.c.fails, RUNS.c.passes,
               RUNS.c.run_time, RUNS.c.artifacts, RUNS.c.run_at)


def runs_by_date(conn, start, stop, limit: int) -> list:
    """get_all_runs_by_date: the runs rows in [start, stop], in runs.id order."""
    return conn.execute(select(*RUN_COLUMNS).where(*closed_window(RUNS.c.run_at, start, stop))
                        .order_by(RUNS.c.id).limit(limit)).all()


def runs_by_key_value(conn, key: str, value: str, limit: int) -> list:
    """get_runs_by_key_value: the runs rows joined to their key=value metadata rows
    (a run twice if it has the pair twice, as that join gave it), in runs.id order."""
    stmt = (select(*RUN_COLUMNS).join(META, and_(META.c.run_id == RUNS.c.id, META.c.key == key,
                                                 META.c.value == value))
            .order_by(RUNS.c.id, META.c.id).limit(limit))
    return conn.execute(stmt).all()


def recent_runs_by_key_value(conn, key: str, value: str, count: int) -> list[tuple]:
    """get_recent_runs_by_key_value_metadata, then each run's first build_name row as
    openstack-health's loop over get_run_metadata took it: (runs row, build_name)."""
    rows = conn.execute(select(*RUN_COLUMNS).join(META, and_(
                            META.c.run_id == RUNS.c.id, META.c.key == key, META.c.value == value))
                        .order_by(desc(RUNS.c.run_at), desc(RUNS.c.id)).limit(count)).all()
    names: dict[int, str] = {}
    if rows:
        for run_id, name in conn.execute(
                select(META.c.run_id, META.c.value)
                .where(META.c.run_id.in_({r.id for r in rows}), META.c.key == "build_name")
                .order_by(META.c.id)):
            names.setdefault(run_id, name)
    return [(r, names.get(r.id)) for r in rows]


def all_tests(conn, limit: int) -> list:
    """get_all_tests: every tests row, in tests.id order."""
    return conn.execute(select(T).order_by(T.c.id).limit(limit)).all()


def _first_component(conn):
    """The test id up to its first '.', (all of it without one), per dialect."""
    name = dialect(conn)
    if name == "postgresql":
        return func.split_part(T.c.test_id, ".", 1)
    if name in ("mysql", "mariadb"):
        return func.substring_index(T.c.test_id, ".", 1)
    dot = func.instr(T.c.test_id, ".")
    return case((dot > 0, func.substr(T.c.test_id, 1, dot - 1)), else_=T.c.test_id)


def tests_by_prefix(conn, prefix: str, limit: int, offset: int) -> list:
    """get_tests_by_prefix: the tests whose first dotted component ends with ``prefix``
    (its endswith: 'setUpClass (tempest.a.b)' is found under 'tempest'), in test_id order, ``offset`` of them skipped."""
    first = _first_component(conn)
    # compared by its tail, not LIKE: exact (SQLite's LIKE ignores case) on every engine
    tail = func.substr(first, func.length(first) - len(prefix) + 1) if prefix else None
    where = [func.length(first) >= len(prefix), tail == prefix] if prefix else []
    return conn.execute(select(T).where(*where).order_by(T.c.test_id)
                        .limit(limit).offset(offset)).all()


def tests_of_run(conn, run_db_id: int, limit: int) -> list:
    """get_tests_from_run_id: the tests rows (each once) of the tests the run ran."""
    ran = select(TR.c.test_id).where(TR.c.run_id == run_db_id)
    return conn.execute(select(T).where(T.c.id.in_(ran)).order_by(T.c.id).limit(limit)).all()


def results_of_run(conn, run_db_id: int) -> list[tuple]:
    """get_tests_run_dicts_from_run_id's rows: (test_id, status, start_time, start_us,
    stop_time, stop_us, metadata key, metadata value) of the run's results joined to
    their test_run_metadata, in start time order."""
    stmt = (select(T.c.test_id, TR.c.status, TR.c.start_time, TR.c.start_time_microsecond,
                   TR.c.stop_time, TR.c.stop_time_microsecond, TRM.c.key, TRM.c.value)
            .select_from(TR.join(T, T.c.id == TR.c.test_id)
                         .outerjoin(TRM, TRM.c.test_run_id == TR.c.id))
            .where(TR.c.run_id == run_db_id)
            .order_by(TR.c.start_time, TR.c.start_time_microsecond, TR.c.id, TRM.c.id))
    return [tuple(r) for r in conn.execute(stmt)]
