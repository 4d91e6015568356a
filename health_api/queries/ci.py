"""CI verdict reads (docs/design.md section 3): rows for health_api.analytics.ci.

Every function takes an open connection and returns plain tuples; windows
are half-open [start, stop) on naive UTC times. Filters are bound
parameters; project names are compared exactly.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ..db import models as m

SYS, CH, PS = m.ci_systems, m.changes, m.patch_sets
COM, JOB = m.ci_comments, m.ci_job_results

SYSTEM_COLUMNS = ("id", "username", "display_name", "declared", "first_seen", "last_seen")


def systems(conn) -> list[tuple]:
    """Every known CI system: SYSTEM_COLUMNS."""
    c = SYS.c
    return list(conn.execute(select(c.id, c.username, c.display_name, c.declared,
                                    c.first_seen, c.last_seen).order_by(c.username)))


def last_success(conn, system_ids: Iterable[int] | None = None) -> dict[int, dt.datetime]:
    """CI system id -> the time of its newest SUCCESS report."""
    c = COM.c
    query = select(c.ci_system_id, func.max(c.posted_at)).where(c.overall == "SUCCESS")
    if system_ids is not None:
        query = query.where(c.ci_system_id.in_(list(system_ids)))
    rows = conn.execute(query.group_by(c.ci_system_id))
    return {sid: at for sid, at in rows}


REPORT_COLUMNS = ("ci_system_id", "patch_set_id", "project", "pipeline", "posted_at",
                  "overall", "parsed", "ps_created_on")


def reports(conn, start, stop, *, system_ids: Iterable[int] | None = None,
            project: str | None = None) -> list[tuple]:
    """CI comments posted in the window, with their patch set's upload time: REPORT_COLUMNS."""
    c = COM.c
    query = (select(c.ci_system_id, c.patch_set_id, c.project, c.pipeline, c.posted_at,
                    c.overall, c.parsed, PS.c.created_on)
             .join(PS, PS.c.id == c.patch_set_id)
             .where(c.posted_at >= start, c.posted_at < stop))
    if system_ids is not None:
        query = query.where(c.ci_system_id.in_(list(system_ids)))
    if project is not None:
        query = query.where(c.project == project)
    return list(conn.execute(query))


JOB_COLUMNS = ("ci_system_id", "patch_set_id", "pipeline", "job", "result", "attempt",
               "posted_at", "voting", "duration")


def job_results(conn, start, stop, *, system_ids: Iterable[int] | None = None,
                project: str | None = None, job: str | None = None) -> list[tuple]:
    """Job results posted in the window: JOB_COLUMNS."""
    c = JOB.c
    query = select(c.ci_system_id, c.patch_set_id, c.pipeline, c.job, c.result, c.attempt,
                   c.posted_at, c.voting, c.duration).where(c.posted_at >= start,
                                                            c.posted_at < stop)
    if system_ids is not None:
        query = query.where(c.ci_system_id.in_(list(system_ids)))
    if job is not None:
        query = query.where(c.job == job)
    if project is not None:
        query = query.join(PS, PS.c.id == c.patch_set_id).where(PS.c.project == project)
    return list(conn.execute(query))


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
    """Every CI comment on the patch sets uploaded in the window (posted
    before ``before`` when given): REPORT_COLUMNS."""
    c = COM.c
    query = (select(c.ci_system_id, c.patch_set_id, c.project, c.pipeline, c.posted_at,
                    c.overall, c.parsed, PS.c.created_on)
             .join(PS, PS.c.id == c.patch_set_id)
             .where(PS.c.created_on >= start, PS.c.created_on < stop))
    if system_ids is not None:
        query = query.where(c.ci_system_id.in_(list(system_ids)))
    if project is not None:
        query = query.where(PS.c.project == project)
    if before is not None:
        query = query.where(c.posted_at < before)
    return list(conn.execute(query))


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
