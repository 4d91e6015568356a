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
#: health_api.queries.ci_daily's sums: per CI system (and day) and per CI system, job, result
REPORT_SUM_COLUMNS = ("ci_system_id", "day", "reports", "voted", "success", "parsed",
                      "last_at", "last_success_at")
JOB_SUM_COLUMNS = ("ci_system_id", "job", "result", "results", "first_results", "flips",
                   "duration_sum", "durations", "last_at")
FIRST_REPORT_COLUMNS = ("ci_system_id", "patch_set_id", "first_at", "ps_created_on")
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


def job_sums_frame(rows) -> pd.DataFrame:
    """The parts' sums added up per (CI system, job, result), with the result's class."""
    frame = pd.DataFrame(list(rows), columns=list(JOB_SUM_COLUMNS))
    if len(frame):
        frame = frame.groupby(["ci_system_id", "job", "result"], as_index=False).agg(
            results=("results", "sum"), first_results=("first_results", "sum"),
            flips=("flips", "sum"), duration_sum=("duration_sum", "sum"),
            durations=("durations", "sum"), last_at=("last_at", "max"))
    frame["class"] = frame["result"].map(CI_RESULT_CLASS).fillna(CI_FAIL)
    return frame


def report_sums_frame(rows) -> pd.DataFrame:
    """The parts' report sums added up per (CI system, day)."""
    frame = pd.DataFrame(list(rows), columns=list(REPORT_SUM_COLUMNS))
    frame["day"] = frame["day"].astype(object).where(frame["day"].notna(), "")
    return frame.groupby(["ci_system_id", "day"], as_index=False).agg(
        reports=("reports", "sum"), voted=("voted", "sum"), success=("success", "sum"),
        parsed=("parsed", "sum"), last_at=("last_at", "max"),
        last_success_at=("last_success_at", "max"))


def latest_verdicts(reports: pd.DataFrame) -> pd.DataFrame:
    """The newest comment with a verdict of each (CI system, patch set)."""
    voted = reports[reports["voted"] == 1]
    return (voted.sort_values("posted_at", kind="stable")
            .drop_duplicates(["ci_system_id", "patch_set_id"], keep="last"))


def status_of(last_seen, as_of: dt.datetime, silent_after: dt.timedelta) -> str:
    if last_seen is None or pd.isna(last_seen):
        return NEVER_SEEN
    return SILENT if as_of - pd.Timestamp(last_seen).to_pydatetime() > silent_after else REPORTING


def job_table(rows) -> list[dict]:
    """Per job (JOB_SUM_COLUMNS rows): result counts, success rate (SUCCESS /
    (SUCCESS + failures)), failure rate, infrastructure results apart, recheck
    flips, patch sets (first attempts); ranked by flips, then failure rate,
    then name."""
    jobs = job_sums_frame(rows)
    if jobs.empty:
        return []
    keys = ["ci_system_id", "job"]
    classes = jobs.groupby(keys + ["class"])["results"].sum().unstack(fill_value=0)
    stats = jobs.groupby(keys).agg(results=("results", "sum"), flips=("flips", "sum"),
                                   patch_sets=("first_results", "sum"),
                                   last_result_at=("last_at", "max"))
    per_key: dict = {}
    for system_id, job, result, n in jobs[keys + ["result", "results"]].itertuples(index=False):
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
            "recheck_flips": int(row["flips"]),
            "patch_sets": int(row["patch_sets"]),
            "last_result_at": row["last_result_at"],
        })
    out.sort(key=lambda r: (-r["recheck_flips"], -(r["failure_rate"] or 0), r["job"]))
    return clean(out)


def scoreboard(systems, report_rows, job_rows, first_rows, last_success: dict, ci_config: dict,
               as_of: dt.datetime, silent_after: dt.timedelta) -> list[dict]:
    """One row per CI system (known to the database or declared), from
    REPORT_SUM_COLUMNS, JOB_SUM_COLUMNS and FIRST_REPORT_COLUMNS rows."""
    per_job: dict[int, list] = {}
    for row in job_table(job_rows):
        per_job.setdefault(row.pop("ci_system_id"), []).append(row)
    counts = report_sums_frame(report_rows).groupby("ci_system_id")[
        ["reports", "success", "voted", "parsed"]].sum()
    first = pd.DataFrame(list(first_rows), columns=list(FIRST_REPORT_COLUMNS))
    first["delay"] = (pd.to_datetime(first["first_at"]) - pd.to_datetime(first["ps_created_on"])
                      ).dt.total_seconds()
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


def report_points(reports_rows, resolution: str) -> list[tuple]:
    """Raw report rows (REPORT_COLUMNS) summed per CI system and bucket, as
    REPORT_SUM_COLUMNS rows with the bucket as their day (for hourly series)."""
    reports = reports_frame(reports_rows)
    if reports.empty:
        return []
    reports["bucket"] = buckets.bucket_series(reports["posted_at"], resolution)
    sums = reports.groupby(["ci_system_id", "bucket"]).agg(
        reports=("patch_set_id", "size"), voted=("voted", "sum"), success=("success", "sum"))
    return [(sid, bucket, int(r.reports), int(r.voted), int(r.success), 0, None, None)
            for (sid, bucket), r in zip(sums.index, sums.itertuples())]


def series(sum_rows, systems, start, stop, resolution: str) -> dict:
    """Per CI system and bucket (REPORT_SUM_COLUMNS rows whose day is the
    bucket): reports, verdicts, success rate with interval."""
    sums = report_sums_frame(sum_rows)
    index = buckets.grid(start, stop, resolution)
    names = {sid: username for sid, username, *_ in systems}
    sums["bucket"] = pd.to_datetime(sums["day"]) if len(sums) else \
        pd.Series(dtype="datetime64[ns]")
    out = []
    for system_id, part in sums.groupby("ci_system_id"):
        if system_id not in names:
            continue
        per = part.groupby("bucket")[["reports", "success", "voted"]].sum()
        per = per.reindex(index, fill_value=0)
        points = [{"bucket": buckets.key(ts.to_pydatetime()), "reports": int(r.reports),
                   "success": int(r.success), **success_rate(r.success, r.voted)}
                  for ts, r in zip(per.index, per.itertuples())]
        out.append({"system": names[system_id], "reports": int(per["reports"].sum()),
                    "points": points})
    out.sort(key=lambda s: s["system"])
    return clean({"buckets": buckets.keys(index), "series": out})
