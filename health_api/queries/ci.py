"""CI verdict reads (docs/design.md section 3): rows for health_api.analytics.ci.

Every function takes an open connection and returns plain tuples; windows
are half-open [start, stop) on naive UTC times. Filters are bound
parameters; project names are compared exactly.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from sqlalchemy import DateTime, bindparam, column, func, select, text
from sqlalchemy.orm import aliased

from ..db import bulk
from ..db import models as m
from ..verdicts import report_sql

SYS, CH, PS = m.ci_systems, m.changes, m.patch_sets
COM, JOB = m.ci_comments, m.ci_job_results

SYSTEM_COLUMNS = ("id", "username", "display_name", "declared", "first_seen", "last_seen")


def systems(conn) -> list[tuple]:
    """Every known CI system: SYSTEM_COLUMNS."""
    c = SYS.c
    return list(conn.execute(select(c.id, c.username, c.display_name, c.declared,
                                    c.first_seen, c.last_seen).order_by(c.username)))


REPORT_COLUMNS = ("ci_system_id", "patch_set_id", "project", "pipeline", "posted_at",
                  "overall", "parsed", "ps_created_on")


def _report_rows(conn, comment_where: list[str], job_where: list[str], params: dict,
                 system_ids, project_column: tuple[str, str] | None, project) -> list[tuple]:
    """Every report (any source: health_api.verdicts.report_sql) the filters
    select, with its patch set's upload time: REPORT_COLUMNS."""
    binds = [bindparam("patch_set_ids", expanding=True)] if "patch_set_ids" in params else []
    if system_ids is not None:
        comment_where.append("c.ci_system_id IN :system_ids")
        job_where.append("j.ci_system_id IN :system_ids")
        params["system_ids"] = list(system_ids)
        binds.append(bindparam("system_ids", expanding=True))
    if project is not None:
        comment_where.append(f"{project_column[0]} = :project")
        job_where.append(f"{project_column[1]} = :project")
        params["project"] = project
    sql = ("SELECT r.ci_system_id, r.patch_set_id, r.project, r.pipeline, r.posted_at,"
           " r.overall, r.parsed, up.created_on FROM ("
           + report_sql.reports(conn.dialect.name, " AND ".join(comment_where) or "1=1",
                                " AND ".join(job_where) or "1=1")
           + ") r JOIN patch_sets up ON up.id = r.patch_set_id")
    types = {"posted_at": DateTime, "ps_created_on": DateTime}
    statement = (text(sql).bindparams(*binds, *report_sql.expanding(sql))
                 .columns(*[column(n, types.get(n)) for n in REPORT_COLUMNS]))
    rows = conn.execute(statement, {**params, **report_sql.class_params()})
    return [(*r[:6], bool(r[6]), r[7]) for r in rows]


def reports(conn, start, stop, *, system_ids: Iterable[int] | None = None,
            project: str | None = None) -> list[tuple]:
    """The reports posted in the window, with their patch set's upload time: REPORT_COLUMNS."""
    stamp = bulk.datetime_param(conn)
    return _report_rows(conn, ["c.posted_at >= :lo", "c.posted_at < :hi"],
                        ["j.posted_at >= :lo", "j.posted_at < :hi"],
                        {"lo": stamp(start), "hi": stamp(stop)}, system_ids,
                        ("c.project", "ps.project"), project)


def job_exists(conn, job: str) -> bool:
    return conn.execute(select(JOB.c.id).where(JOB.c.job == job).limit(1)).first() is not None


def project_exists(conn, project: str) -> bool:
    return conn.execute(select(PS.c.id).where(PS.c.project == project).limit(1)).first() is not None


def projects(conn) -> list[str]:
    """Every project a patch set was seen on."""
    rows = conn.execute(select(CH.c.project).where(CH.c.project.is_not(None))
                        .group_by(CH.c.project).order_by(CH.c.project))
    return [p for (p,) in rows]


PATCH_SET_COLUMNS = ("patch_set_id", "change", "patch_set", "project", "branch", "subject",
                     "created_on", "superseded_on", "change_status", "status_changed_at")


def _patch_set_select():
    """PATCH_SET_COLUMNS, with when the change's next patch set replaced each one."""
    later = aliased(PS)
    superseded = (select(func.min(later.c.created_on))
                  .where(later.c.change_id == PS.c.change_id, later.c.number > PS.c.number)
                  .scalar_subquery())
    return (select(PS.c.id, CH.c.number, PS.c.number, PS.c.project, PS.c.branch, CH.c.subject,
                   PS.c.created_on, superseded, CH.c.status, CH.c.status_changed_at)
            .join(CH, CH.c.id == PS.c.change_id))


def patch_sets(conn, start, stop, *, project: str | None = None,
               projects_in: Iterable[str] | None = None) -> list[tuple]:
    """Patch sets uploaded in the window, with when the next patch set of the
    change replaced them and the change's status: PATCH_SET_COLUMNS."""
    query = (_patch_set_select()
             .where(PS.c.created_on >= start, PS.c.created_on < stop))
    if project is not None:
        query = query.where(PS.c.project == project)
    if projects_in is not None:
        query = query.where(PS.c.project.in_(list(projects_in)))
    return list(conn.execute(query))


def reports_on_uploads(conn, start, stop, *, system_ids: Iterable[int] | None = None,
                       project: str | None = None, before: dt.datetime | None = None
                       ) -> list[tuple]:
    """Every report on the patch sets uploaded in the window, posted from the
    window's start (and before ``before`` when given): REPORT_COLUMNS."""
    stamp = bulk.datetime_param(conn)
    uploaded = ("SELECT u.id FROM patch_sets u WHERE u.created_on >= :lo AND u.created_on < :hi"
                + (" AND u.project = :project" if project is not None else ""))
    # a report comes after its upload: "posted from the window's start" lets
    # one CI's reports be read by (CI, time), not by every upload of the window
    comment_where = [f"c.patch_set_id IN ({uploaded})", "c.posted_at >= :lo"]
    job_where = ["ps.created_on >= :lo", "ps.created_on < :hi", "j.posted_at >= :lo"]
    params = {"lo": stamp(start), "hi": stamp(stop)}
    if before is not None:
        comment_where.append("c.posted_at < :before")
        job_where.append("j.posted_at < :before")
        params["before"] = stamp(before)
    return _report_rows(conn, comment_where, job_where, params, system_ids,
                        ("c.project", "ps.project"), project)


_PLUS_AGE = {
    "postgresql": "{} + make_interval(secs => :min_age)",
    "mysql": "DATE_ADD({}, INTERVAL :min_age SECOND)",
    "sqlite": "datetime({}, '+' || :min_age || ' seconds')",
}


def _eligible(conn, start, stop, as_of: dt.datetime, min_age: dt.timedelta) -> tuple[str, dict]:
    """SQL (on ``patch_sets up``) for the patch sets uploaded in the window that
    are eligible for coverage as of ``as_of``: the rule of
    health_api.analytics.ci_coverage.eligible (stayed current, not replaced nor
    abandoned, for ``min_age`` before ``as_of``), in SQL for counts by the
    thousand. Parameters: lo, hi, latest, min_age."""
    name = conn.dialect.name
    aged = _PLUS_AGE["mysql" if name == "mariadb" else name].format("up.created_on")
    stamp = bulk.datetime_param(conn)
    sql = ("up.created_on >= :lo AND up.created_on < :hi AND up.created_on <= :latest"
           " AND NOT EXISTS (SELECT 1 FROM patch_sets later WHERE later.change_id = up.change_id"
           # a later patch set is uploaded after its predecessor, so from the
           # window's start: the replacements are read by upload time (one
           # index range), not as every patch set of the store
           " AND later.number > up.number AND later.created_on >= :lo"
           f" AND later.created_on < {aged})"
           " AND NOT EXISTS (SELECT 1 FROM changes ch WHERE ch.id = up.change_id"
           f" AND ch.status = 'ABANDONED' AND ch.status_changed_at < {aged})")
    return sql, {"lo": stamp(start), "hi": stamp(stop), "latest": stamp(as_of - min_age),
                 "min_age": int(min_age.total_seconds())}


def coverage_counts(conn, start, stop, as_of, min_age) -> tuple[list[tuple], list[tuple]]:
    """Of the uploads in the window: (project, branch, eligible patch sets),
    and (CI system id, project, branch, those of them it reported on before
    ``as_of``), from one ci_first_reports row per (CI, patch set) it reported
    on, whatever the source. One statement: eligibility is tested once per
    patch set (PostgreSQL would otherwise test every (CI, patch set) pair)."""
    where, params = _eligible(conn, start, stop, as_of, min_age)
    params["before"] = bulk.datetime_param(conn)(as_of)
    names = "up.project, up.branch"
    materialized = ""
    if conn.dialect.name == "postgresql":
        materialized = "MATERIALIZED "
        # as text: a materialized CTE has no statistics, so PostgreSQL sizes
        # varchar(255) names at full width and sorts (3x slower) rather than
        # hashes the (CI, project, branch) groups
        names = "CAST(up.project AS TEXT) AS project, CAST(up.branch AS TEXT) AS branch"
    sql = (f"WITH e AS {materialized}(SELECT up.id, {names} FROM patch_sets up"
           f" WHERE {where}) SELECT NULL, e.project, e.branch, COUNT(*) FROM e"
           " GROUP BY e.project, e.branch UNION ALL"
           " SELECT f.ci_system_id, e.project, e.branch, COUNT(*)"
           " FROM ci_first_reports f JOIN e ON e.id = f.patch_set_id"
           " WHERE f.created_on >= :lo AND f.created_on < :hi AND f.first_at < :before"
           " GROUP BY f.ci_system_id, e.project, e.branch")
    eligible, covered = [], []
    for system_id, project, branch, n in conn.execute(text(sql), params).all():
        if system_id is None:
            eligible.append((project, branch, n))
        else:
            covered.append((system_id, project, branch, n))
    return eligible, covered


def reports_on_patch_sets(conn, patch_set_ids: list[int], system_ids: Iterable[int], *,
                          before: dt.datetime | None = None) -> list[tuple]:
    """The reports of these CI systems on these patch sets (posted before
    ``before`` when given): REPORT_COLUMNS."""
    if not patch_set_ids:
        return []
    stamp = bulk.datetime_param(conn)
    comment_where = ["c.patch_set_id IN :patch_set_ids"]
    job_where = ["j.patch_set_id IN :patch_set_ids"]
    params = {"patch_set_ids": list(patch_set_ids)}
    if before is not None:
        comment_where.append("c.posted_at < :before")
        job_where.append("j.posted_at < :before")
        params["before"] = stamp(before)
    return _report_rows(conn, comment_where, job_where, params, system_ids, None, None)


GRID_COLUMNS = ("ci_system_id", "patch_set_id", "pipeline", "job", "result", "attempt",
                "posted_at", "url", "duration", "voting")


def job_results_on_uploads(conn, project: str, start, stop, *, system_id: int | None = None,
                           pipeline: str | None = None) -> list[tuple]:
    """Every job result on the project's patch sets uploaded in the window: GRID_COLUMNS."""
    c = JOB.c
    query = (select(c.ci_system_id, c.patch_set_id, c.pipeline, c.job, c.result, c.attempt,
                    c.posted_at, c.url, c.duration, c.voting)
             .join(PS, PS.c.id == c.patch_set_id)
             .where(PS.c.project == project, PS.c.created_on >= start, PS.c.created_on < stop))
    if system_id is not None:
        query = query.where(c.ci_system_id == system_id)
    if pipeline is not None:
        query = query.where(c.pipeline == pipeline)
    return list(conn.execute(query))


def recent_patch_sets(conn, project: str, start, stop, limit: int) -> list[tuple]:
    """The project's newest patch sets uploaded in the window: PATCH_SET_COLUMNS, newest first."""
    query = (_patch_set_select()
             .where(PS.c.project == project, PS.c.created_on >= start, PS.c.created_on < stop)
             .order_by(PS.c.created_on.desc(), PS.c.id.desc()).limit(limit))
    return list(conn.execute(query))


def pipelines(conn, project: str, start, stop) -> list[str]:
    """The pipelines CI systems reported in on the project's patch sets uploaded in the window."""
    rows = conn.execute(select(JOB.c.pipeline).join(PS, PS.c.id == JOB.c.patch_set_id)
                        .where(PS.c.project == project, PS.c.created_on >= start,
                               PS.c.created_on < stop, JOB.c.pipeline.is_not(None))
                        .group_by(JOB.c.pipeline))
    return sorted(p for (p,) in rows)
