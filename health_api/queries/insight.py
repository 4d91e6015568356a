"""SQL for failure intelligence (issue 15): failed results, their sibling runs,
per-test outcome sequences, CI verdicts; all bounded by index lookups.

Failures are few next to passes, so everything starts from them: the
ch_test_daily rollup names the tests that failed in the period, the
(test_id, status) index finds their failed results, and only those tests'
other results are read.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable, Iterator

from sqlalchemy import func, select

from .. import rules
from ..db import models as m
from .common import META, RUNS
from .runs import tracebacks

T, TR, TD = m.tests, m.test_runs, m.test_daily
CHUNK = 500


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def runs_with_metadata(conn, start: dt.datetime, stop: dt.datetime,
                       keys: Iterable[str]) -> tuple[list[tuple], list[tuple]]:
    """Runs of the window (id, uuid, run_at, passes, fails, artifacts) and their
    metadata rows (run_id, key, value) for ``keys`` (ix_run_at, ix_run_id)."""
    where = [RUNS.c.run_at >= start, RUNS.c.run_at < stop]
    runs = conn.execute(select(RUNS.c.id, RUNS.c.uuid, RUNS.c.run_at, RUNS.c.passes,
                               RUNS.c.fails, RUNS.c.artifacts).where(*where)).all()
    meta = conn.execute(select(META.c.run_id, META.c.key, META.c.value)
                        .join(RUNS, RUNS.c.id == META.c.run_id)
                        .where(*where, META.c.key.in_(sorted(set(keys))))).all()
    return [tuple(r) for r in runs], [tuple(r) for r in meta]


def failing_test_ids(conn, start: dt.datetime, stop: dt.datetime) -> list[int]:
    """Tests with at least one failure on a day of the window (the rollup)."""
    rows = conn.execute(select(TD.c.test_id).where(TD.c.day >= start.date(),
                                                   TD.c.day <= stop.date(), TD.c.failure > 0)
                        .group_by(TD.c.test_id))
    return sorted(r[0] for r in rows)


def failed_results(conn, test_ids: list[int], start: dt.datetime,
                   stop: dt.datetime) -> list[tuple]:
    """(test_run_id, test db id, test name, run_id) of every failed result of
    ``test_ids`` in runs of the window (ix_test_id_status)."""
    out: list[tuple] = []
    for chunk in _chunks(test_ids):
        stmt = (select(TR.c.id, TR.c.test_id, T.c.test_id, TR.c.run_id)
                .join(T, T.c.id == TR.c.test_id).join(RUNS, RUNS.c.id == TR.c.run_id)
                .where(TR.c.test_id.in_(chunk), TR.c.status.in_(rules.FAIL_STATUSES),
                       RUNS.c.run_at >= start, RUNS.c.run_at < stop))
        out.extend(tuple(r) for r in conn.execute(stmt))
    return out


def statuses_in_runs(conn, test_ids: list[int], run_ids: list[int]) -> list[tuple]:
    """(test db id, run_id, status) of ``test_ids`` in ``run_ids``
    (uq_test_runs: test_id, run_id)."""
    out: list[tuple] = []
    for tests in _chunks(sorted(set(test_ids)), 200):
        for runs in _chunks(sorted(set(run_ids)), 2000):
            stmt = select(TR.c.test_id, TR.c.run_id, TR.c.status).where(
                TR.c.test_id.in_(tests), TR.c.run_id.in_(runs))
            out.extend(tuple(r) for r in conn.execute(stmt))
    return out


def outcome_sequences(conn, test_ids: list[int], start: dt.datetime,
                      stop: dt.datetime) -> list[tuple]:
    """(test db id, run_id, status) of every result of ``test_ids`` in runs of
    the window (ix_test_runs_test_id)."""
    out: list[tuple] = []
    for chunk in _chunks(sorted(set(test_ids)), 100):
        stmt = (select(TR.c.test_id, TR.c.run_id, TR.c.status)
                .join(RUNS, RUNS.c.id == TR.c.run_id)
                .where(TR.c.test_id.in_(chunk), RUNS.c.run_at >= start, RUNS.c.run_at < stop))
        out.extend(tuple(r) for r in conn.execute(stmt))
    return out


def test_totals(conn, start: dt.datetime, stop: dt.datetime,
                test_ids: list[int]) -> list[tuple]:
    """(test db id, build_name, success, failure) over the window's days."""
    out: list[tuple] = []
    for chunk in _chunks(sorted(set(test_ids))):
        stmt = (select(TD.c.test_id, TD.c.build_name, func.sum(TD.c.success),
                       func.sum(TD.c.failure))
                .where(TD.c.test_id.in_(chunk), TD.c.day >= start.date(),
                       TD.c.day <= stop.date())
                .group_by(TD.c.test_id, TD.c.build_name))
        out.extend((r[0], r[1], int(r[2] or 0), int(r[3] or 0)) for r in conn.execute(stmt))
    return out


def every_test_totals(conn, start: dt.datetime, stop: dt.datetime) -> list[tuple]:
    """(test db id, test name, success, failure) of every test that ran on a day
    of the window, all jobs together (the ch_test_daily rollup)."""
    stmt = (select(TD.c.test_id, T.c.test_id, func.sum(TD.c.success), func.sum(TD.c.failure))
            .join(T, T.c.id == TD.c.test_id)
            .where(TD.c.day >= start.date(), TD.c.day <= stop.date())
            .group_by(TD.c.test_id, T.c.test_id))
    return [(r[0], r[1], int(r[2] or 0), int(r[3] or 0)) for r in conn.execute(stmt)]


def traceback_texts(conn, test_run_ids: list[int]) -> dict[int, str]:
    """The traceback attachment of each failed result (whole: the exception
    line is at its end)."""
    return tracebacks(conn, test_run_ids)


def verdicts(conn, start: dt.datetime, stop: dt.datetime) -> list[tuple]:
    """(ci system username, pipeline, patch_set_id, job, attempt, result, posted_at)
    of every CI job result posted in the window (ix_ci_job_results_system_posted)."""
    jr, cs = m.ci_job_results, m.ci_systems
    stmt = (select(cs.c.username, jr.c.pipeline, jr.c.patch_set_id, jr.c.job, jr.c.attempt,
                   jr.c.result, jr.c.posted_at)
            .join(cs, cs.c.id == jr.c.ci_system_id)
            .where(jr.c.posted_at >= start, jr.c.posted_at < stop))
    return [tuple(r) for r in conn.execute(stmt)]


def retried_results(conn, start: dt.datetime, stop: dt.datetime) -> list[tuple]:
    """(test db id, test name, run_id, attempts) of every result retried within
    its run in the window: ingest keeps the last result in test_runs, as
    subunit2sql does, and the statuses of every attempt in its test_run_metadata
    "attempts" ("fail,success"). Few rows: ix_test_run_key_value finds them."""
    trm = m.test_run_metadata
    stmt = (select(TR.c.test_id, T.c.test_id, TR.c.run_id, trm.c.value)
            .join(TR, TR.c.id == trm.c.test_run_id).join(T, T.c.id == TR.c.test_id)
            .join(RUNS, RUNS.c.id == TR.c.run_id)
            .where(trm.c.key == "attempts", RUNS.c.run_at >= start, RUNS.c.run_at < stop))
    return [tuple(r) for r in conn.execute(stmt)]


def recheck_requests(conn, start: dt.datetime, stop: dt.datetime) -> list[tuple]:
    """(patch_set_id, requested_at, target) of every recheck request of the
    window (ix_ci_recheck_requests_project is on project first: a range on
    requested_at alone reads the table, which holds one row per request)."""
    rr = m.ci_recheck_requests
    stmt = select(rr.c.patch_set_id, rr.c.requested_at, rr.c.target).where(
        rr.c.requested_at >= start, rr.c.requested_at < stop)
    return [tuple(r) for r in conn.execute(stmt)]


def ci_system_names(conn) -> set[str]:
    return {r[0] for r in conn.execute(select(m.ci_systems.c.username))}


def latest_run_at(conn) -> dt.datetime | None:
    return conn.execute(select(func.max(RUNS.c.run_at))).scalar()
