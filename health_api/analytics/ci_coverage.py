"""CI coverage, agreement with the upstream CI, who has CI, and the grid.

Pure pandas over health_api.queries.ci rows. Coverage follows docs/design.md
section 4: a patch set is eligible for a CI when it was uploaded on a
project and branch the CI is declared for (a CI without an entry in
ci-systems.yaml: the projects it reported on), stayed current (not replaced
by a newer patch set, not abandoned) for at least ``min_age``, and that
age was reached before ``as_of``; it is covered when the CI commented on it.
"""
from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from .ci import REPORT_COLUMNS, latest_verdicts, reports_frame, success_rate
from .jsonsafe import clean

PATCH_SET_COLUMNS = ("patch_set_id", "change", "patch_set", "project", "branch", "subject",
                     "created_on", "superseded_on", "change_status", "status_changed_at")
GRID_COLUMNS = ("ci_system_id", "patch_set_id", "pipeline", "job", "result", "attempt",
                "posted_at", "url", "duration", "voting")
MISSED = "missed"
REPORTED = "REPORTED"  # commented, but no verdict could be read from the comment


def patch_sets_frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=list(PATCH_SET_COLUMNS))
    for column in ("created_on", "superseded_on", "status_changed_at"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def eligible(patch_sets: pd.DataFrame, min_age: dt.timedelta, as_of: dt.datetime) -> pd.DataFrame:
    """The patch sets that stayed current for ``min_age`` before ``as_of``."""
    if patch_sets.empty:
        return patch_sets
    end = pd.Series(pd.Timestamp(as_of), index=patch_sets.index)
    end = end.where(patch_sets["superseded_on"].isna() | (patch_sets["superseded_on"] > end),
                    patch_sets["superseded_on"])
    abandoned = patch_sets["status_changed_at"].where(patch_sets["change_status"] == "ABANDONED")
    end = end.where(abandoned.isna() | (abandoned > end), abandoned)
    return patch_sets[end - patch_sets["created_on"] >= pd.Timedelta(min_age)]


def in_scope(patch_sets: pd.DataFrame, config, reported_projects: set[str]) -> pd.DataFrame:
    """The patch sets on the CI's declared projects and branches (without a
    declaration: the projects it reported on)."""
    if patch_sets.empty:
        return patch_sets
    if config is None:
        return patch_sets[patch_sets["project"].isin(reported_projects)]
    pairs = patch_sets[["project", "branch"]].drop_duplicates()
    keep = {(p, b) for p, b in pairs.itertuples(index=False) if config.covers(p, b)}
    mask = pd.Series([(p, b) in keep for p, b in zip(patch_sets["project"], patch_sets["branch"])],
                     index=patch_sets.index, dtype=bool)
    return patch_sets[mask]


def coverage(ps_rows, report_rows, system_id: int, config, min_age: dt.timedelta,
             as_of: dt.datetime, show: str, limit: int, offset: int) -> dict:
    """Every eligible patch set with the CI's newest verdict or "missed",
    newest first, one page of them; coverage with its Wilson interval."""
    reports = reports_frame(report_rows)
    mine = reports[(reports["ci_system_id"] == system_id)
                   & (pd.to_datetime(reports["posted_at"]) < pd.Timestamp(as_of))]
    scope = in_scope(eligible(patch_sets_frame(ps_rows), min_age, as_of), config,
                     set(mine["project"].dropna()))
    # a dict: Series.get costs ~10 us a patch set (thousands on a busy CI's week)
    verdicts = latest_verdicts(mine).set_index("patch_set_id")["overall"].to_dict()
    commented = set(mine["patch_set_id"])
    scope = scope.assign(result=[verdicts.get(ps, REPORTED) if ps in commented else MISSED
                                 for ps in scope["patch_set_id"]])
    scope = scope.sort_values(["created_on", "patch_set_id"], ascending=False, kind="stable")
    covered = int((scope["result"] != MISSED).sum())
    total = int(len(scope))
    shown = scope if show == "all" else scope[(scope["result"] == MISSED) == (show == MISSED)]
    page = shown.iloc[offset:offset + limit]
    rate = success_rate(covered, total)
    return clean({
        "eligible": total, "covered": covered, "missed": total - covered,
        "coverage": rate["success_rate"], "ci_low": rate["ci_low"], "ci_high": rate["ci_high"],
        "total": int(len(shown)), "limit": limit, "offset": offset,
        "patch_sets": [{"change": int(r.change), "patch_set": int(r.patch_set),
                        "project": r.project, "branch": r.branch, "subject": r.subject,
                        "created_on": r.created_on, "result": r.result}
                       for r in page.itertuples(index=False)],
    })


def agreement(report_rows, systems, ci_config: dict) -> list[dict]:
    """Per CI system: on the patch sets it and the upstream (trusted) CI both
    gave a verdict on, how often they agree, and both directions of disagreement."""
    reports = reports_frame(report_rows)
    names = {sid: username for sid, username, *_ in systems}
    trusted = {sid for sid, name in names.items()
               if ci_config.get(name) is not None and ci_config[name].trusted}
    verdicts = latest_verdicts(reports)
    upstream = verdicts[verdicts["ci_system_id"].isin(trusted)]
    upstream = upstream[pd.Series([declares(ci_config[names[s]], p) for s, p in
                                   zip(upstream["ci_system_id"], upstream["project"])],
                                  index=upstream.index, dtype=bool)]
    upstream = upstream.drop_duplicates("patch_set_id", keep="last").set_index("patch_set_id")
    out = []
    for system_id, part in verdicts[~verdicts["ci_system_id"].isin(trusted)].groupby("ci_system_id"):
        if system_id not in names:
            continue
        both = part.join(upstream["success"].rename("upstream_success"), on="patch_set_id",
                         how="inner")
        agree = int((both["success"] == both["upstream_success"]).sum())
        rate = success_rate(agree, len(both))
        out.append({"system": names[system_id], "both_voted": int(len(both)), "agree": agree,
                    "agreement": rate["success_rate"], "ci_low": rate["ci_low"],
                    "ci_high": rate["ci_high"],
                    "ci_failed_upstream_passed": int(((both["success"] == 0)
                                                      & (both["upstream_success"] == 1)).sum()),
                    "ci_passed_upstream_failed": int(((both["success"] == 1)
                                                      & (both["upstream_success"] == 0)).sum())})
    out.sort(key=lambda r: r["system"])
    return clean(out)


def declares(config, project) -> bool:
    """Whether a ci-systems.yaml entry declares the project (on any branch);
    no ``projects`` means every project."""
    names = config.overrides.projects
    return not names or any(project == name or (name.startswith("^") and project is not None
                                                and re.match(name, project))
                            for name in names)


def who_has_ci(projects: list[str], systems, ci_config: dict, eligible_rows, covered_rows,
               last_rows, scoreboard_rows: dict) -> dict:
    """Per project: its declared and discovered third-party CI systems with
    status, last report on the project and coverage over the window; the
    upstream CI apart; the projects without any third-party CI.
    ``eligible_rows``: (project, branch, eligible patch sets uploaded in the
    window); ``covered_rows``: (CI system id, project, branch, those of them it
    reported on); ``last_rows``: (project, CI system id, last report) of the
    reports posted in the window (several rows of a pair: the newest counts)."""
    names = {sid: username for sid, username, *_ in systems}
    ids = {username: sid for sid, username in names.items()}
    per_branch: dict[str, dict] = {}
    for project, branch, n in eligible_rows:
        per_branch.setdefault(project, {})[branch] = int(n)
    covered_by: dict = {}
    for sid, project, branch, n in covered_rows:
        covered_by.setdefault((sid, project), {})[branch] = int(n)
    last: dict = {}
    for project, sid, at in last_rows:
        if at is not None and (last.get((project, sid)) is None or at > last[(project, sid)]):
            last[(project, sid)] = at
    discovered_by: dict[str, set] = {}
    for project, sid in last:
        if sid in names:
            discovered_by.setdefault(project, set()).add(names[sid])
    declaring = _declaring(ci_config)
    out, without = [], []
    for project in projects:
        declared = declaring(project)
        discovered = discovered_by.get(project, set())
        branches = per_branch.get(project, {})
        rows, upstream = [], []
        for name in sorted(declared | discovered):
            cfg = ci_config.get(name)
            sid = ids.get(name)
            board = scoreboard_rows.get(name, {})
            scope = [b for b in branches if cfg is None or cfg.covers(project, b)]
            hits = covered_by.get((sid, project), {})
            total = sum(branches[b] for b in scope)
            covered = sum(hits.get(b, 0) for b in scope)
            rate = success_rate(covered, total)
            row = {"system": name, "display_name": board.get("display_name", name),
                   "declared": name in declared, "discovered": name in discovered,
                   "status": board.get("status", "never_seen"),
                   "last_report": last.get((project, sid)),
                   "eligible": total, "covered": covered, "missed": total - covered,
                   "coverage": rate["success_rate"], "ci_low": rate["ci_low"],
                   "ci_high": rate["ci_high"]}
            (upstream if cfg is not None and cfg.trusted else rows).append(row)
        if not rows:
            without.append(project)
        out.append({"project": project, "systems": rows, "upstream": upstream})
    return clean({"projects": out, "without_ci": without})


def _declaring(ci_config: dict):
    """project -> the names of the ci-systems.yaml entries declaring it (as
    ``declares``), with the entries naming plain projects looked up, not scanned."""
    by_name: dict[str, set] = {}
    scanned = []
    for name, cfg in ci_config.items():
        listed = cfg.overrides.projects
        if listed and not any(p.startswith("^") for p in listed):
            for project in listed:
                by_name.setdefault(project, set()).add(name)
        else:
            scanned.append((name, cfg))
    return lambda project: by_name.get(project, set()) | {
        name for name, cfg in scanned if declares(cfg, project)}


def grid(ps_rows, job_rows, upstream_rows, systems) -> dict:
    """Patch sets as columns (newest first), (CI system, pipeline, job) as
    rows; each cell the current (highest attempt) result with its log link,
    attempt count and time."""
    columns = patch_sets_frame(ps_rows)
    names = {sid: username for sid, username, *_ in systems}
    upstream = latest_verdicts(reports_frame(upstream_rows)).drop_duplicates(
        "patch_set_id", keep="last").set_index("patch_set_id")["overall"]
    position = {ps: i for i, ps in enumerate(columns["patch_set_id"])}
    jobs = pd.DataFrame(list(job_rows), columns=list(GRID_COLUMNS))
    jobs = jobs[jobs["patch_set_id"].isin(position)]
    rows = []
    if len(jobs):
        jobs = jobs.assign(pipeline=jobs["pipeline"].fillna(""))
        keys = ["ci_system_id", "pipeline", "job", "patch_set_id"]
        attempts = jobs.groupby(keys).size().rename("attempts")
        current = (jobs.sort_values(["attempt", "posted_at"], kind="stable")
                   .drop_duplicates(keys, keep="last").join(attempts, on=keys))
        for (sid, pipeline, job), part in current.groupby(["ci_system_id", "pipeline", "job"]):
            cells: list = [None] * len(position)
            for r in part.itertuples(index=False):
                cells[position[r.patch_set_id]] = {
                    "result": r.result, "url": r.url, "attempts": int(r.attempts),
                    "posted_at": r.posted_at, "duration": r.duration, "voting": bool(r.voting)}
            rows.append({"system": names.get(sid, str(sid)), "pipeline": pipeline or None,
                         "job": job, "cells": cells})
    rows.sort(key=lambda r: (r["system"], r["pipeline"] or "", r["job"]))
    return clean({"columns": [{"change": int(c.change), "patch_set": int(c.patch_set),
                               "subject": c.subject, "branch": c.branch,
                               "created_on": c.created_on,
                               "upstream": upstream.get(c.patch_set_id)}
                              for c in columns.itertuples(index=False)],
                  "rows": rows})


__all__ = ["coverage", "agreement", "who_has_ci", "grid", "eligible", "REPORT_COLUMNS"]
