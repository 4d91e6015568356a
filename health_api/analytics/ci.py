"""CI verdicts in pandas: scoreboard, time series, unstable jobs (docs/design.md section 4).

Pure functions over the rows health_api.queries.ci returns; outputs are
JSON-ready. A CI system's report is a comment; its verdict is the comment's
overall result (SUCCESS or not; an unparsed comment has none). Job results
are classified by health_api.status.CI_RESULT_CLASS.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from . import buckets
from .jsonsafe import clean, finite
from .rates import wilson
from ..rules import CI_FAIL, CI_INFRA, CI_NEUTRAL, CI_PASS, CI_RESULT_CLASS

REPORT_COLUMNS = ("ci_system_id", "patch_set_id", "project", "pipeline", "posted_at",
                  "overall", "parsed", "ps_created_on")
JOB_COLUMNS = ("ci_system_id", "patch_set_id", "pipeline", "job", "result", "attempt",
               "posted_at", "voting", "duration")
SYSTEM_COLUMNS = ("id", "username", "display_name", "declared", "first_seen", "last_seen")
NEVER_SEEN, SILENT, REPORTING = "never_seen", "silent", "reporting"


def success_rate(success: int, n: int) -> dict:
    """{"success_rate", "n", "ci_low", "ci_high"}: the 95% Wilson interval of success/n."""
    success, n = int(success), int(n)
    low, high = wilson(success, n)
    return {"success_rate": success / n if n else None, "n": n, "ci_low": low, "ci_high": high}


def reports_frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=list(REPORT_COLUMNS))
    frame["success"] = (frame["overall"] == "SUCCESS").astype(int)
    frame["voted"] = frame["overall"].notna().astype(int)
    frame["parsed"] = frame["parsed"].astype(bool)
    return frame


def jobs_frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=list(JOB_COLUMNS))
    frame["class"] = frame["result"].map(CI_RESULT_CLASS).fillna(CI_FAIL)
    return frame


def latest_verdicts(reports: pd.DataFrame) -> pd.DataFrame:
    """The newest comment with a verdict of each (CI system, patch set)."""
    voted = reports[reports["voted"] == 1]
    return (voted.sort_values("posted_at", kind="stable")
            .drop_duplicates(["ci_system_id", "patch_set_id"], keep="last"))


def status_of(last_seen, as_of: dt.datetime, silent_after: dt.timedelta) -> str:
    if last_seen is None or pd.isna(last_seen):
        return NEVER_SEEN
    return SILENT if as_of - pd.Timestamp(last_seen).to_pydatetime() > silent_after else REPORTING


def job_table(jobs: pd.DataFrame) -> list[dict]:
    """Per job: result counts, success rate (SUCCESS / (SUCCESS + failures)),
    failure rate, infrastructure results apart, recheck flips; ranked by
    flips, then failure rate, then name."""
    if jobs.empty:
        return []
    keys = ["ci_system_id", "job"]
    flips = recheck_flips(jobs)
    classes = jobs.groupby(keys + ["class"]).size().unstack(fill_value=0)
    counts = jobs.groupby(keys + ["result"]).size()
    stats = jobs.groupby(keys).agg(results=("result", "size"),
                                   patch_sets=("patch_set_id", "nunique"),
                                   last_result_at=("posted_at", "max"))
    per_key: dict = {}
    for (system_id, job, result), n in counts.items():
        per_key.setdefault((system_id, job), {})[str(result)] = int(n)
    out = []
    for (system_id, job), row in stats.iterrows():
        cls = classes.loc[(system_id, job)]
        passed, failed = int(cls.get(CI_PASS, 0)), int(cls.get(CI_FAIL, 0))
        low, high = wilson(failed, passed + failed)
        out.append({
            "ci_system_id": int(system_id), "job": job, "results": int(row["results"]),
            "counts": dict(sorted(per_key[(system_id, job)].items())),
            "success": passed, "failure": failed, "infra": int(cls.get(CI_INFRA, 0)),
            "neutral": int(cls.get(CI_NEUTRAL, 0)),
            **success_rate(passed, passed + failed),
            "failure_rate": failed / (passed + failed) if passed + failed else None,
            "failure_ci_low": low, "failure_ci_high": high,
            "recheck_flips": int(flips.get((system_id, job), 0)),
            "patch_sets": int(row["patch_sets"]),
            "last_result_at": row["last_result_at"],
        })
    out.sort(key=lambda r: (-r["recheck_flips"], -(r["failure_rate"] or 0), r["job"]))
    return clean(out)


def recheck_flips(jobs: pd.DataFrame) -> dict:
    """(CI system id, job) -> patch sets on which a failure was followed by a
    SUCCESS of the same job in the same pipeline (docs/design.md, "flaky job")."""
    keys = ["ci_system_id", "pipeline", "patch_set_id", "job"]
    frame = jobs.assign(pipeline=jobs["pipeline"].fillna(""))
    fails = frame[frame["class"] == CI_FAIL].groupby(keys)["attempt"].min()
    passes = frame[frame["class"] == CI_PASS].groupby(keys)["attempt"].max()
    both = pd.concat([fails.rename("first_fail"), passes.rename("last_pass")], axis=1,
                     join="inner")
    flipped = both[both["first_fail"] < both["last_pass"]].reset_index()
    if flipped.empty:
        return {}
    return flipped.groupby(["ci_system_id", "job"]).size().to_dict()


def scoreboard(systems, reports_rows, job_rows, last_success: dict, ci_config: dict,
               as_of: dt.datetime, silent_after: dt.timedelta) -> list[dict]:
    """One row per CI system (known to the database or declared)."""
    reports = reports_frame(reports_rows)
    jobs = jobs_frame(job_rows)
    per_job: dict[int, list] = {}
    for row in job_table(jobs):
        per_job.setdefault(row.pop("ci_system_id"), []).append(row)
    first = reports.sort_values("posted_at", kind="stable").drop_duplicates(
        ["ci_system_id", "patch_set_id"], keep="first")
    delays = ((pd.to_datetime(first["posted_at"]) - pd.to_datetime(first["ps_created_on"]))
              .dt.total_seconds())
    first = first.assign(delay=delays)
    grouped = reports.groupby("ci_system_id")
    counts = grouped.agg(reports=("patch_set_id", "size"), success=("success", "sum"),
                         voted=("voted", "sum"), parsed=("parsed", "sum"))
    delay_stats = first.groupby("ci_system_id")["delay"].quantile([0.5, 0.9]).unstack() \
        if len(first) else pd.DataFrame(columns=[0.5, 0.9])
    out = []
    for system_id, username, display_name, declared, first_seen, last_seen in systems:
        config = ci_config.get(username)
        c = counts.loc[system_id] if system_id in counts.index else None
        n_reports = int(c["reports"]) if c is not None else 0
        unparsed = n_reports - int(c["parsed"]) if c is not None else 0
        d = delay_stats.loc[system_id] if system_id in delay_stats.index else None
        out.append({
            "system": username, "display_name": (config.display_name if config else None)
            or display_name or username,
            "declared": bool(declared) or config is not None,
            "trusted": bool(config and config.trusted),
            "projects": list(config.overrides.projects) if config else [],
            "contact": config.contact if config else None,
            "status": status_of(last_seen, as_of, silent_after),
            "first_seen": first_seen, "last_seen": last_seen,
            "last_success": last_success.get(system_id),
            "reports": n_reports,
            "success": int(c["success"]) if c is not None else 0,
            **success_rate(int(c["success"]) if c is not None else 0,
                           int(c["voted"]) if c is not None else 0),
            "unparsed": unparsed,
            "unparsed_share": unparsed / n_reports if n_reports else None,
            "report_delay_median": finite(d[0.5]) if d is not None else None,
            "report_delay_p90": finite(d[0.9]) if d is not None else None,
            "jobs": per_job.get(system_id, []),
        })
    for row in out:
        row["silent"] = row["status"] != REPORTING
    return clean(out)


def series(reports_rows, systems, start, stop, resolution: str) -> dict:
    """Per CI system and bucket: reports, verdicts, success rate with interval."""
    reports = reports_frame(reports_rows)
    index = buckets.grid(start, stop, resolution)
    names = {sid: username for sid, username, *_ in systems}
    reports["bucket"] = buckets.bucket_series(reports["posted_at"], resolution) \
        if len(reports) else pd.Series(dtype="datetime64[ns]")
    out = []
    for system_id, part in reports.groupby("ci_system_id"):
        if system_id not in names:
            continue
        per = part.groupby("bucket").agg(reports=("patch_set_id", "size"),
                                         success=("success", "sum"), voted=("voted", "sum"))
        per = per.reindex(index, fill_value=0)
        points = [{"bucket": buckets.key(ts.to_pydatetime()), "reports": int(r.reports),
                   "success": int(r.success), **success_rate(r.success, r.voted)}
                  for ts, r in zip(per.index, per.itertuples())]
        out.append({"system": names[system_id], "reports": int(per["reports"].sum()),
                    "points": points})
    out.sort(key=lambda s: s["system"])
    return clean({"buckets": buckets.keys(index), "series": out})
