"""The daily CI rollups: ``ci_daily_jobs`` (per day, CI system, project,
pipeline, job and result: results, first attempts, recheck flips, durations,
first/last time) and ``ci_daily_reports`` (per day, CI system, project and
pipeline: reports, verdicts, successes, parsed comments, first/last time, last
success), and ``ci_first_reports`` (each CI's first report on each patch set:
the report delays). The CI scoreboard, series, system, projects and upstream reads sum
these instead of scanning every verdict of the window.

Every figure is computed in SQL from the raw tables by the selects below
(health_api.verdicts.report_sql says what a report and a flip are), one
(CI system, day) at a time: the verdict writers record the (CI system, day)
of each result or comment they store (``VerdictRows.touch``) and recompute
exactly those at the end of their transaction (``refresh``); ``build_all``
(migration 0013, ``ci-health db rebuild-rollups``) recomputes every day and
``expire`` drops the days ``ci-health db expire`` removed. Recomputing, not
adding, keeps a late result (renumbered attempts), a re-run and an expiry
exact; a (CI system, day) holds at most a few thousand results.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from sqlalchemy import Connection, delete, func, select, text, union_all

from ..db.bulk import datetime_param
from ..db.models import (ci_comments, ci_daily_jobs, ci_daily_reports, ci_first_reports,
                         ci_job_results, ci_systems)
from . import report_sql

JOB_COLUMNS = ("day", "ci_system_id", "project", "pipeline", "job", "result", "results",
               "first_results", "flips", "duration_sum", "durations", "first_at", "last_at")
REPORT_COLUMNS = ("day", "ci_system_id", "project", "pipeline", "reports", "voted", "success",
                  "parsed", "first_at", "last_at", "last_success_at")
#: days per statement of a full build (about 120,000 results of a busy store)
DAYS_PER_BUILD = 7
ONE_DAY = dt.timedelta(days=1)


def jobs_select(dialect: str, where: str) -> str:
    """JOB_COLUMNS (so named) of the results ``where`` selects
    (``ci_job_results j`` joined to ``patch_sets ps``)."""
    return (
        f"SELECT {report_sql.day_of(dialect, 'j.posted_at')} AS day, j.ci_system_id,"
        " COALESCE(ps.project, '') AS project, COALESCE(j.pipeline, '') AS pipeline, j.job,"
        " j.result, COUNT(*) AS results,"
        " SUM(CASE WHEN j.attempt = 1 THEN 1 ELSE 0 END) AS first_results,"
        f" SUM(CASE WHEN {report_sql.flip('j')} THEN 1 ELSE 0 END) AS flips,"
        " SUM(COALESCE(j.duration, 0)) AS duration_sum, COUNT(j.duration) AS durations,"
        " MIN(j.posted_at) AS first_at, MAX(j.posted_at) AS last_at"
        " FROM ci_job_results j JOIN patch_sets ps ON ps.id = j.patch_set_id"
        f" WHERE {where} GROUP BY 1, 2, 3, 4, 5, 6")


def reports_select(dialect: str, comment_where: str, job_where: str) -> str:
    """REPORT_COLUMNS (so named) of the reports the two filters select (see
    report_sql.reports)."""
    return (
        f"SELECT {report_sql.day_of(dialect, 'r.posted_at')} AS day, r.ci_system_id,"
        " r.project, r.pipeline, COUNT(*) AS reports,"
        " SUM(CASE WHEN r.overall IS NOT NULL THEN 1 ELSE 0 END) AS voted,"
        " SUM(CASE WHEN r.overall = 'SUCCESS' THEN 1 ELSE 0 END) AS success,"
        " SUM(r.parsed) AS parsed, MIN(r.posted_at) AS first_at, MAX(r.posted_at) AS last_at,"
        " MAX(CASE WHEN r.overall = 'SUCCESS' THEN r.posted_at END) AS last_success_at"
        f" FROM ({report_sql.reports(dialect, comment_where, job_where)}) r"
        " GROUP BY 1, 2, 3, 4")


def _window_where(alias: str, system: bool) -> str:
    where = f"{alias}.posted_at >= :lo AND {alias}.posted_at < :hi"
    return where + (f" AND {alias}.ci_system_id = :system" if system else "")


def _insert(conn: Connection, lo: dt.datetime, hi: dt.datetime, system_id: int | None) -> None:
    dialect = conn.dialect.name
    stamp = datetime_param(conn)
    params = {"lo": stamp(lo), "hi": stamp(hi), **report_sql.class_params()}
    if system_id is not None:
        params["system"] = system_id
    system = system_id is not None
    for table, columns, sql in (
            (ci_daily_jobs, JOB_COLUMNS, jobs_select(dialect, _window_where("j", system))),
            (ci_daily_reports, REPORT_COLUMNS,
             reports_select(dialect, _window_where("c", system), _window_where("j", system)))):
        statement = text(f"INSERT INTO {table.name} ({', '.join(columns)}) {sql}")
        conn.execute(statement.bindparams(*report_sql.expanding(sql)), params)


FIRST_COLUMNS = ("ci_system_id", "patch_set_id", "project", "first_at", "created_on")
#: the patch sets one CI system reported on in a window
_REPORTED_IN = ("SELECT patch_set_id FROM ci_comments WHERE ci_system_id = :system"
                " AND posted_at >= :lo AND posted_at < :hi UNION SELECT patch_set_id"
                " FROM ci_job_results WHERE comment_id IS NULL AND ci_system_id = :system"
                " AND posted_at >= :lo AND posted_at < :hi")


def _insert_first_reports(conn: Connection, comment_where: str, job_where: str,
                          params: dict) -> None:
    """ci_first_reports rows of the (CI system, patch set) pairs the filters
    select (all their reports: the filters select whole pairs)."""
    sql = (f"INSERT INTO {ci_first_reports.name} ({', '.join(FIRST_COLUMNS)})"
           " SELECT r.ci_system_id, r.patch_set_id, MIN(COALESCE(up.project, '')),"
           " MIN(r.posted_at), MIN(up.created_on) FROM ("
           + report_sql.reports(conn.dialect.name, comment_where, job_where)
           + ") r JOIN patch_sets up ON up.id = r.patch_set_id"
           " GROUP BY r.ci_system_id, r.patch_set_id")
    conn.execute(text(sql).bindparams(*report_sql.expanding(sql)),
                 {**params, **report_sql.class_params()})


def _refresh_first_reports(conn: Connection, system_id: int, lo: dt.datetime,
                           hi: dt.datetime) -> None:
    """Again the first reports of one CI on the patch sets it reported on in [lo, hi)."""
    stamp = datetime_param(conn)
    params = {"system": system_id, "lo": stamp(lo), "hi": stamp(hi)}
    conn.execute(text(f"DELETE FROM {ci_first_reports.name} WHERE ci_system_id = :system"
                      f" AND patch_set_id IN ({_REPORTED_IN})"), params)
    _insert_first_reports(conn, f"c.ci_system_id = :system AND c.patch_set_id IN ({_REPORTED_IN})",
                          f"j.ci_system_id = :system AND j.patch_set_id IN ({_REPORTED_IN})",
                          params)


def _rebuild_first_reports(conn: Connection) -> None:
    conn.execute(delete(ci_first_reports))
    _insert_first_reports(conn, "1=1", "1=1", {})


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def refresh(conn: Connection, keys: Iterable[tuple[int, dt.date]]) -> int:
    """Recompute the rollup rows of each (CI system id, day) of ``keys`` from
    the raw tables, inside the caller's transaction; returns how many."""
    keys = sorted(set(keys))
    if not keys:
        return 0
    # one writer at a time per CI system: two transactions recomputing the
    # same day would each insert it (the row locks are released at commit)
    conn.execute(select(ci_systems.c.id).where(ci_systems.c.id.in_({s for s, _ in keys}))
                 .order_by(ci_systems.c.id).with_for_update())
    for system_id, day in keys:
        for table in (ci_daily_jobs, ci_daily_reports):
            conn.execute(delete(table).where(table.c.ci_system_id == system_id,
                                             table.c.day == day))
        _insert(conn, _midnight(day), _midnight(day) + ONE_DAY, system_id)
        _refresh_first_reports(conn, system_id, _midnight(day), _midnight(day) + ONE_DAY)
    return len(keys)


def _recompute_days(conn: Connection, first: dt.date, last: dt.date) -> None:
    """Every CI system's rows of the days first..last, again from the raw tables."""
    for table in (ci_daily_jobs, ci_daily_reports):
        conn.execute(delete(table).where(table.c.day >= first, table.c.day <= last))
    day = first
    while day <= last:
        stop = min(last + ONE_DAY, day + dt.timedelta(days=DAYS_PER_BUILD))
        _insert(conn, _midnight(day), _midnight(stop), None)
        day = stop


def _as_date(value) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value.date() if isinstance(value, dt.datetime) else value


def build_all(conn: Connection) -> dict:
    """Both rollups from scratch (every day the raw tables hold)."""
    spans = union_all(select(func.min(ci_comments.c.posted_at), func.max(ci_comments.c.posted_at)),
                      select(func.min(ci_job_results.c.posted_at),
                             func.max(ci_job_results.c.posted_at)))
    bounds = [(_as_date(lo), _as_date(hi)) for lo, hi in conn.execute(spans) if lo is not None]
    for table in (ci_daily_jobs, ci_daily_reports):
        conn.execute(delete(table))
    _rebuild_first_reports(conn)
    if not bounds:
        return {"ci_days": 0}
    first, last = min(lo for lo, _ in bounds), max(hi for _, hi in bounds)
    _recompute_days(conn, first, last)
    return {"ci_days": (last - first).days + 1}


def expire(conn: Connection, cutoff: dt.datetime) -> None:
    """After the verdicts posted before ``cutoff`` were deleted: drop the days
    before it, recompute the day it falls in."""
    day = cutoff.date()
    for table in (ci_daily_jobs, ci_daily_reports):
        conn.execute(delete(table).where(table.c.day < day))
    _recompute_days(conn, day, day)
    _rebuild_first_reports(conn)  # a patch set's first report may be gone
