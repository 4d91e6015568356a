"""CI figures over a window from the daily rollups (health_api.verdicts.rollup).

A window is read as its whole days (``days``: [first, stop) dates) from
``ci_daily_jobs`` / ``ci_daily_reports``, plus its partial days at either end
(``edges``: [lo, hi) times) computed from the raw tables by the rollups' own
selects, so a window that is not day-aligned gets the figures the raw rows
give. Rows come back summed in SQL: their number grows with CI systems and
jobs, not with verdicts. Callers add up the parts (one row per part).
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable, Sequence

from sqlalchemy import Date, DateTime, bindparam, column, func, select, text

from ..db import models as m
from ..db.bulk import datetime_param
from ..verdicts import report_sql, rollup

Days = tuple[dt.date, dt.date]
Edges = Sequence[tuple[dt.datetime, dt.datetime]]

#: per CI system (and day, with ``by_day``; else None): report figures
REPORT_SUM_COLUMNS = ("ci_system_id", "day", "reports", "voted", "success", "parsed",
                      "last_at", "last_success_at")
#: per CI system, job and result: result figures
JOB_SUM_COLUMNS = ("ci_system_id", "job", "result", "results", "first_results", "flips",
                   "duration_sum", "durations", "last_at")
_REPORT_SUMS = (("reports", "SUM"), ("voted", "SUM"), ("success", "SUM"), ("parsed", "SUM"),
                ("last_at", "MAX"), ("last_success_at", "MAX"))
_JOB_SUMS = (("results", "SUM"), ("first_results", "SUM"), ("flips", "SUM"),
             ("duration_sum", "SUM"), ("durations", "SUM"), ("last_at", "MAX"))


def _rolled(conn, table, days: Days | None, keys: Sequence[str], sums, system_ids, project,
            job=None) -> list[tuple]:
    if days is None or days[0] >= days[1]:
        return []
    c = table.c
    query = (select(*[c[k] for k in keys],
                    *[getattr(func, agg.lower())(c[name]) for name, agg in sums])
             .where(c.day >= days[0], c.day < days[1]).group_by(*[c[k] for k in keys]))
    if system_ids is not None:
        query = query.where(c.ci_system_id.in_(list(system_ids)))
    if project is not None:
        query = query.where(c.project == project)
    if job is not None:
        query = query.where(c.job == job)
    return [_numbers(r, len(keys), sums) for r in conn.execute(query)]


def _numbers(row, width: int, sums) -> tuple:
    """Sums as int (PostgreSQL and MySQL give SUMs as Decimal)."""
    return (*row[:width], *[int(v) if agg == "SUM" and v is not None else v
                            for v, (_, agg) in zip(row[width:], sums)])


def _typed(sql: str, binds: list, names: Sequence[str]):
    """``sql`` with its result columns typed (text() leaves SQLite's times as strings)."""
    types = {"day": Date, "last_at": DateTime, "last_success_at": DateTime,
             "posted_at": DateTime, "created_on": DateTime}
    return text(sql).bindparams(*binds).columns(*[column(n, types.get(n)) for n in names])


def _edge(conn, inner: str, keys: Sequence[str], sums, params: dict) -> list[tuple]:
    """``inner`` (a rollup select) summed by ``keys``."""
    parts = ", ".join(f"{agg}(e.{name})" for name, agg in sums)
    group = ", ".join(f"e.{k}" for k in keys)
    sql = f"SELECT {group}, {parts} FROM ({inner}) e GROUP BY {group}"
    binds = report_sql.expanding(sql)
    if "system_ids" in params:
        binds.append(bindparam("system_ids", expanding=True))
    params = {**params, **report_sql.class_params()}
    statement = _typed(sql, binds, [*keys, *[name for name, _ in sums]])
    return [_numbers(r, len(keys), sums) for r in conn.execute(statement, params)]


def _edge_filters(conn, lo, hi, alias: str, project_column: str, system_ids, project,
                  job=None) -> tuple[str, dict]:
    stamp = datetime_param(conn)
    where = [f"{alias}.posted_at >= :elo", f"{alias}.posted_at < :ehi"]
    params = {"elo": stamp(lo), "ehi": stamp(hi)}
    if system_ids is not None:
        where.append(f"{alias}.ci_system_id IN :system_ids")
        params["system_ids"] = list(system_ids)
    if project is not None:
        where.append(f"{project_column} = :project")
        params["project"] = project
    if job is not None:
        where.append(f"{alias}.job = :job")
        params["job"] = job
    return " AND ".join(where), params


def _report_parts(conn, days: Days | None, edges: Edges, keys: list[str], sums,
                  system_ids: list[int] | None, project: str | None) -> list[tuple]:
    """``sums`` of ci_daily_reports by ``keys``: the whole days from the rollup,
    the partial days at the edges computed by the rollup's own SQL; a row per part."""
    rows = _rolled(conn, m.ci_daily_reports, days, keys, sums, system_ids, project)
    for lo, hi in edges:
        cwhere, params = _edge_filters(conn, lo, hi, "c", "c.project", system_ids, project)
        jwhere, _ = _edge_filters(conn, lo, hi, "j", "ps.project", system_ids, project)
        rows += _edge(conn, rollup.reports_select(conn.dialect.name, cwhere, jwhere), keys,
                      sums, params)
    return rows


def report_sums(conn, days: Days | None, edges: Edges, *, system_ids: Iterable[int] | None = None,
                project: str | None = None, by_day: bool = False) -> list[tuple]:
    """REPORT_SUM_COLUMNS over the window."""
    keys = ["ci_system_id"] + (["day"] if by_day else [])
    system_ids = None if system_ids is None else list(system_ids)
    rows = _report_parts(conn, days, edges, keys, _REPORT_SUMS, system_ids, project)
    return [r if by_day else (r[0], None, *r[1:]) for r in rows]


def job_sums(conn, days: Days | None, edges: Edges, *, system_ids: Iterable[int] | None = None,
             project: str | None = None, job: str | None = None) -> list[tuple]:
    """JOB_SUM_COLUMNS over the window."""
    keys = ["ci_system_id", "job", "result"]
    system_ids = None if system_ids is None else list(system_ids)
    rows = _rolled(conn, m.ci_daily_jobs, days, keys, _JOB_SUMS, system_ids, project, job)
    for lo, hi in edges:
        where, params = _edge_filters(conn, lo, hi, "j", "ps.project", system_ids, project, job)
        rows += _edge(conn, rollup.jobs_select(conn.dialect.name, where), keys, _JOB_SUMS,
                      params)
    return rows


def last_success(conn, system_ids: Iterable[int] | None = None) -> dict[int, dt.datetime]:
    """CI system id -> the time of its newest report with a SUCCESS verdict."""
    c = m.ci_daily_reports.c
    query = (select(c.ci_system_id, func.max(c.last_success_at))
             .where(c.last_success_at.is_not(None)).group_by(c.ci_system_id))
    if system_ids is not None:
        query = query.where(c.ci_system_id.in_(list(system_ids)))
    return {sid: at for sid, at in conn.execute(query)}


def first_reports(conn, start, stop, *, system_ids: Iterable[int] | None = None,
                  project: str | None = None) -> list[tuple]:
    """(CI system id, patch set id, its first report, the patch set's upload
    time) of the first reports posted in the window: the report delays."""
    c = m.ci_first_reports.c
    query = select(c.ci_system_id, c.patch_set_id, c.first_at, c.created_on).where(
        c.first_at >= start, c.first_at < stop)
    if system_ids is not None:
        query = query.where(c.ci_system_id.in_(list(system_ids)))
    if project is not None:
        query = query.where(c.project == project)
    return [tuple(r) for r in conn.execute(query).all()]


def last_reports(conn, days: Days | None, edges: Edges) -> list[tuple]:
    """(project, CI system id, its last report on the project) over the window,
    one row per part."""
    return _report_parts(conn, days, edges, ["project", "ci_system_id"],
                         (("last_at", "MAX"),), None, None)
