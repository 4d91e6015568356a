"""Retention and rollup maintenance over whole runs, in bounded batches."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import Engine, and_, delete, func, select

from ..db import bulk
from ..db import models as m
from . import rollups

_IN_CHUNK = 500


def _runs_of(conn, run_ids: list[int]) -> list[tuple]:
    """(run id, day, build_name, passes, fails, run_time) of the given runs."""
    names = dict(conn.execute(
        select(m.run_metadata.c.run_id, func.min(m.run_metadata.c.value)).where(
            m.run_metadata.c.run_id.in_(run_ids),
            m.run_metadata.c.key == rollups.BUILD_NAME_KEY).group_by(m.run_metadata.c.run_id)
    ).all())
    out = []
    for run_id, run_at, passes, fails, run_time in conn.execute(
            select(m.runs.c.id, m.runs.c.run_at, m.runs.c.passes, m.runs.c.fails,
                   m.runs.c.run_time).where(m.runs.c.id.in_(run_ids))):
        day = (run_at or dt.datetime(1970, 1, 1)).date()
        out.append((run_id, day, (names.get(run_id) or "")[:255], passes or 0, fails or 0,
                    run_time or 0.0))
    return out


def _tallies(conn, run_ids: list[int]) -> dict[int, dict[int, list]]:
    """Per run: rollups.tally of its test_runs."""
    per_run: dict[int, list] = defaultdict(list)
    tr = m.test_runs.c
    for run_id, test_id, status, start, stop in conn.execute(
            select(tr.run_id, tr.test_id, tr.status, tr.start_time, tr.stop_time).where(
                tr.run_id.in_(run_ids))):
        duration = (stop - start).total_seconds() if start and stop else None
        per_run[run_id].append((test_id, status, duration))
    return {run_id: rollups.tally(tests) for run_id, tests in per_run.items()}


def _apply(conn, run_ids: list[int], sign: int) -> set[int]:
    """Add (1) or subtract (-1) the runs' rollup contributions; returns tests touched."""
    tallies = _tallies(conn, run_ids)
    touched: set[int] = set()
    counters: dict[int, list] = defaultdict(lambda: [0, 0, 0, 0.0])
    for run_id, day, build_name, passes, fails, run_time in _runs_of(conn, run_ids):
        per_test = tallies.get(run_id, {})
        rollups.apply_run(conn, day=day, build_name=build_name, passes=passes, fails=fails,
                          run_time=run_time, per_test=per_test, sign=sign)
        for test_id, (p, f, _s, timed, dur) in per_test.items():
            c = counters[test_id]
            c[0] += p
            c[1] += f
            c[2] += timed
            c[3] += dur
            touched.add(test_id)
    if sign < 0:
        bulk.add_to_test_counters(conn, m.tests, [
            (test_id, -c[0], -c[1], -c[2], -c[3]) for test_id, c in sorted(counters.items())
            if c[0] or c[1]])
    return touched


def expire_runs(engine: Engine, *, days: int, batch_size: int = 500,
                now: dt.datetime | None = None) -> dict:
    """Delete runs older than ``days`` with their test_runs, metadata, attachments
    and rollup contributions; one transaction per batch of runs."""
    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    cutoff = now - dt.timedelta(days=days)
    report = {"cutoff": cutoff.isoformat() + "Z", "runs": 0, "test_runs": 0, "tests": 0}
    while True:
        with engine.begin() as conn:
            run_ids = list(conn.execute(
                select(m.runs.c.id).where(m.runs.c.run_at < cutoff)
                .order_by(m.runs.c.id).limit(batch_size)).scalars())
            if not run_ids:
                break
            touched = _apply(conn, run_ids, -1)
            test_run_ids = select(m.test_runs.c.id).where(m.test_runs.c.run_id.in_(run_ids))
            if conn.dialect.name in ("mysql", "mariadb"):
                # MySQL cannot delete with a subquery over a table it is about to change.
                test_run_ids = list(conn.execute(test_run_ids).scalars())
            conn.execute(delete(m.attachments).where(
                m.attachments.c.test_run_id.in_(test_run_ids)))
            conn.execute(delete(m.test_run_metadata).where(
                m.test_run_metadata.c.test_run_id.in_(test_run_ids)))
            report["test_runs"] += conn.execute(delete(m.test_runs).where(
                m.test_runs.c.run_id.in_(run_ids))).rowcount
            conn.execute(delete(m.run_metadata).where(m.run_metadata.c.run_id.in_(run_ids)))
            report["runs"] += conn.execute(delete(m.runs).where(m.runs.c.id.in_(run_ids))).rowcount
            report["tests"] += _delete_unused_tests(conn, sorted(touched))
            _delete_empty_rollups(conn)
    return report


def _delete_unused_tests(conn, test_ids: list[int]) -> int:
    """Tests whose every result expired go too, with their test_metadata."""
    removed = 0
    for i in range(0, len(test_ids), _IN_CHUNK):
        chunk = test_ids[i:i + _IN_CHUNK]
        used = set(conn.execute(select(m.test_runs.c.test_id).where(
            m.test_runs.c.test_id.in_(chunk)).distinct()).scalars())
        unused = [t for t in chunk if t not in used]
        if unused:
            conn.execute(delete(m.test_metadata).where(m.test_metadata.c.test_id.in_(unused)))
            conn.execute(delete(m.test_daily).where(m.test_daily.c.test_id.in_(unused)))
            removed += conn.execute(delete(m.tests).where(m.tests.c.id.in_(unused))).rowcount
    return removed


def _delete_empty_rollups(conn) -> None:
    d = m.test_daily.c
    conn.execute(delete(m.test_daily).where(and_(d.success <= 0, d.failure <= 0, d.skip <= 0)))
    j = m.job_daily.c
    conn.execute(delete(m.job_daily).where(and_(j.passed <= 0, j.failed <= 0, j.empty <= 0)))


def rebuild_rollups(engine: Engine, *, batch_size: int = 200) -> dict:
    """Recompute ch_job_daily and ch_test_daily from runs and test_runs
    (for data written by subunit2sql, which knows nothing of rollups)."""
    with engine.begin() as conn:
        conn.execute(delete(m.test_daily))
        conn.execute(delete(m.job_daily))
    last_id, runs = 0, 0
    while True:
        with engine.begin() as conn:
            run_ids = list(conn.execute(
                select(m.runs.c.id).where(m.runs.c.id > last_id)
                .order_by(m.runs.c.id).limit(batch_size)).scalars())
            if not run_ids:
                break
            _apply(conn, run_ids, 1)
        runs += len(run_ids)
        last_id = run_ids[-1]
    return {"runs": runs}
