"""One function per CI endpoint: run the CI queries, hand the rows to analytics.

No Flask and no SQL here (like health_api.api.reports). ``settings`` is the
CiSettings the app loaded: ci-systems.yaml's entries, the coverage minimum
age and the silence threshold. The CLI's ``report ci`` calls these too.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..analytics import buckets, ci as aci, ci_coverage as cov
from ..queries import ci as q
from ..queries import ci_daily as d
from .errors import not_found

WHO_HAS_CI_SPAN = dt.timedelta(days=7)
#: beyond this many patch sets, one window query beats listing their ids
MAX_LISTED_PATCH_SETS = 5000


@dataclass
class CiSettings:
    systems: dict = field(default_factory=dict)   # username -> CiSystemConfig
    coverage_min_age: dt.timedelta = dt.timedelta(hours=1)
    silent_after: dt.timedelta = dt.timedelta(hours=24)


def load_ci_settings(config) -> CiSettings:
    """ci-systems.yaml ([gerrit] ci_systems; absent file: no declarations) and the
    [ci] thresholds. A malformed file raises ConfigError naming it."""
    import os

    from ..config import ConfigError
    from ..gerrit.systems import load_ci_systems

    path = config.get("gerrit", "ci_systems", "etc/ci-systems.yaml")
    declared = {}
    if path and os.path.isfile(path):
        try:
            declared = load_ci_systems(path)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    return CiSettings(
        systems=declared,
        coverage_min_age=dt.timedelta(seconds=config.get_int("ci", "coverage_min_age", 3600)),
        silent_after=dt.timedelta(hours=config.get_float("ci", "silent_after_hours", 24)))


def _system(conn, name: str, parameter: str = "system"):
    for row in q.systems(conn):
        if row.username == name:
            return row
    raise not_found(parameter, f"no CI system {name!r}")


def _parts(start: dt.datetime, stop: dt.datetime):
    """The window as its whole days (the rollups) and its partial days at
    either end (read raw): (days or None, edges)."""
    first, last = buckets.ceil(start, "day"), buckets.floor(stop, "day")
    if first >= last:
        return None, [(start, stop)] if start < stop else []
    return (first.date(), last.date()), [(lo, hi) for lo, hi in ((start, first), (last, stop))
                                         if lo < hi]


def _board(conn, settings: CiSettings, systems, start, stop, as_of, project=None, ids=None):
    """The scoreboard rows of ``systems`` over [start, stop)."""
    days, edges = _parts(start, stop)
    return aci.scoreboard(systems,
                          d.report_sums(conn, days, edges, system_ids=ids, project=project),
                          d.job_sums(conn, days, edges, system_ids=ids, project=project),
                          d.first_reports(conn, start, stop, system_ids=ids, project=project),
                          d.last_success(conn, ids), settings.systems, as_of,
                          settings.silent_after)


def _points(conn, start, stop, resolution, ids) -> list[tuple]:
    """Report sums per CI system and bucket of a snapped window."""
    if resolution == "day":
        return d.report_sums(conn, (start.date(), stop.date()), [], system_ids=ids, by_day=True)
    return aci.report_points(q.reports(conn, start, stop, system_ids=ids), resolution)


def _check_project(conn, project: str | None) -> None:
    if project is not None and not q.project_exists(conn, project):
        raise not_found("project", f"no project {project!r}")


def scoreboard(conn, settings: CiSettings, start, stop, project=None, only=None) -> dict:
    """``only``: these CI system names (the upstream page)."""
    _check_project(conn, project)
    systems = q.systems(conn)
    ids = None
    if only is not None:
        systems = [r for r in systems if r.username in only]
        ids = [r.id for r in systems]
    rows = _board(conn, settings, systems, start, stop, stop, project, ids)
    if project is not None:  # the CIs that reported on the project or declare it
        rows = [r for r in rows if r["reports"] or (
            r["system"] in settings.systems
            and cov.declares(settings.systems[r["system"]], project))]
    return {"start": start, "stop": stop, "project": project,
            "silent_after_hours": settings.silent_after.total_seconds() / 3600, "systems": rows}


def scoreboard_series(conn, start, stop, resolution, system=None, only=None) -> dict:
    start, stop = buckets.snap(start, stop, resolution)
    systems = q.systems(conn)
    ids = None
    if system is not None:
        ids = [_system(conn, system).id]
    elif only is not None:
        ids = [r.id for r in systems if r.username in only]
    out = aci.series(_points(conn, start, stop, resolution, ids), systems, start, stop,
                     resolution)
    return {"start": start, "stop": stop, "resolution": resolution, **out}


def system_detail(conn, settings: CiSettings, name, start, stop, resolution, missed_limit) -> dict:
    row = _system(conn, name, "name")
    as_of = stop
    start, stop = buckets.snap(start, stop, resolution)
    board = _board(conn, settings, [row], start, stop, as_of, ids=[row.id])[0]
    series = aci.series(_points(conn, start, stop, resolution, [row.id]), [row], start, stop,
                        resolution)
    mine = q.reports_on_uploads(conn, start, stop, system_ids=[row.id], before=stop)
    missed = coverage(conn, settings, name, start, stop, "missed", missed_limit, 0, mine=mine)
    agreement = _agreement_rows(conn, settings, start, stop, None, row.id, mine=mine)
    return {"start": start, "stop": stop, "resolution": resolution, **board,
            "buckets": series["buckets"],
            "points": series["series"][0]["points"] if series["series"] else [],
            "coverage": {k: missed[k] for k in ("eligible", "covered", "missed", "coverage",
                                                "ci_low", "ci_high")},
            "missed_patch_sets": missed["patch_sets"],
            "agreement": agreement[0] if agreement else None}


def coverage(conn, settings: CiSettings, name, start, stop, show, limit, offset,
             project=None, mine=None) -> dict:
    """``mine``: the CI's reports on the window's uploads, when read already."""
    row = _system(conn, name, "name")
    _check_project(conn, project)
    config = settings.systems.get(name)
    reports = mine if mine is not None else q.reports_on_uploads(
        conn, start, stop, system_ids=[row.id], project=project, before=stop)
    out = cov.coverage(q.patch_sets(conn, start, stop, project=project,
                                    projects_in=_scope_projects(config, reports)),
                       reports, row.id, config, settings.coverage_min_age, stop, show, limit,
                       offset)
    return {"system": name, "project": project, "start": start, "stop": stop, "show": show,
            "scope": "declared" if config is not None else "discovered",
            "min_age_seconds": int(settings.coverage_min_age.total_seconds()), **out}


def _scope_projects(config, reports) -> list[str] | None:
    """The only projects a CI's eligible patch sets can be on (None: any):
    its declared project names, or without a declaration those it reported on."""
    if config is None:
        return sorted({r[2] for r in reports})
    names = config.overrides.projects
    if not names or any(n.startswith("^") for n in names):
        return None
    return list(names)


def unstable_jobs(conn, start, stop, system=None, project=None, job=None, limit=50) -> dict:
    _check_project(conn, project)
    ids = [_system(conn, system).id] if system is not None else None
    if job is not None and not q.job_exists(conn, job):
        raise not_found("job", f"no CI job {job!r}")
    systems = {r.id: r.username for r in q.systems(conn)}
    days, edges = _parts(start, stop)
    rows = aci.job_table(d.job_sums(conn, days, edges, system_ids=ids, project=project, job=job))
    for r in rows:
        r["system"] = systems.get(r.pop("ci_system_id"))
    return {"start": start, "stop": stop, "system": system, "project": project, "job": job,
            "total": len(rows), "jobs": rows[:limit]}


def _agreement_rows(conn, settings, start, stop, project, system_id=None, mine=None
                    ) -> list[dict]:
    systems = q.systems(conn)
    trusted = [r.id for r in systems if r.username in settings.systems
               and settings.systems[r.username].trusted]
    if system_id is None:
        reports = q.reports_on_uploads(conn, start, stop, project=project, before=stop)
    else:  # the upstream reports on the patch sets this CI reported on, not on all
        reports = list(mine) if mine is not None else q.reports_on_uploads(
            conn, start, stop, system_ids=[system_id], project=project, before=stop)
        patch_sets = sorted({r[1] for r in reports})
        if len(patch_sets) > MAX_LISTED_PATCH_SETS:
            reports += q.reports_on_uploads(conn, start, stop, system_ids=trusted,
                                            project=project, before=stop)
        else:
            reports += q.reports_on_patch_sets(conn, patch_sets, trusted, before=stop)
    return cov.agreement(reports, systems, settings.systems)


def agreement(conn, settings: CiSettings, start, stop, system=None, project=None) -> dict:
    _check_project(conn, project)
    system_id = _system(conn, system).id if system is not None else None
    trusted = sorted(n for n, c in settings.systems.items() if c.trusted)
    return {"start": start, "stop": stop, "project": project, "upstream": trusted,
            "systems": _agreement_rows(conn, settings, start, stop, project, system_id)}


def who_has_ci(conn, settings: CiSettings, stop) -> dict:
    start = stop - WHO_HAS_CI_SPAN
    systems = q.systems(conn)
    board = {r["system"]: r for r in aci.scoreboard(systems, [], [], [], {}, settings.systems,
                                                    stop, settings.silent_after)}
    projects = sorted(set(q.projects(conn)) | {
        p for c in settings.systems.values() for p in c.overrides.projects
        if not p.startswith("^")})
    days, edges = _parts(start, stop)
    eligible, covered = q.coverage_counts(conn, start, stop, stop, settings.coverage_min_age)
    out = cov.who_has_ci(projects, systems, settings.systems, eligible, covered,
                         d.last_reports(conn, days, edges), board)
    return {"start": start, "stop": stop, **out}


def grid(conn, settings: CiSettings, project, start, stop, system=None, pipeline=None,
         columns=20) -> dict:
    _check_project(conn, project)
    system_id = _system(conn, system).id if system is not None else None
    patch_sets = q.recent_patch_sets(conn, project, start, stop, columns)
    trusted = [r.id for r in q.systems(conn) if r.username in settings.systems
               and settings.systems[r.username].trusted]
    oldest = min((p.created_on for p in patch_sets), default=stop)
    jobs = q.job_results_on_uploads(conn, project, oldest, stop, system_id=system_id,
                                    pipeline=pipeline)
    upstream = q.reports_on_uploads(conn, oldest, stop, system_ids=trusted, project=project)
    out = cov.grid(patch_sets, jobs, upstream, q.systems(conn))
    return {"project": project, "start": start, "stop": stop, "system": system,
            "pipeline": pipeline, "pipelines": q.pipelines(conn, project, oldest, stop), **out}


def upstream_health(conn, settings: CiSettings, start, stop, resolution) -> dict:
    trusted = sorted(n for n, c in settings.systems.items() if c.trusted)
    rows = scoreboard(conn, settings, start, stop, only=set(trusted))["systems"]
    series = scoreboard_series(conn, start, stop, resolution, only=set(trusted))
    return {"start": start, "stop": stop, "resolution": resolution, "upstream": trusted,
            "systems": rows, "buckets": series["buckets"],
            "series": [s for s in series["series"] if s["system"] in trusted]}
