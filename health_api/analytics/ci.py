"""CI verdicts in pandas: scoreboard, time series, unstable jobs (docs/design.md section 4).

Pure functions over the rows health_api.queries.ci and .ci_daily return
(the daily rollups' sums, raw report rows); outputs are JSON-ready. A CI
system's report is any source's verdict set on a patch set (a Gerrit comment,
a Zuul run, a verify-status report: health_api.verdicts.report_sql); its
verdict is SUCCESS or not (an unparsed comment has none). Job results are
classified by health_api.rules.CI_RESULT_CLASS.
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


def _latest(a, b):
    return b if a is None or (b is not None and b > a) else a


def job_table(rows) -> list[dict]:
    """Per job (JOB_SUM_COLUMNS rows, several per key when the window was
    read in parts): result counts, success rate (SUCCESS / (SUCCESS +
    failures)), failure rate, infrastructure results apart, recheck flips,
    patch sets (first attempts); ranked by flips, then failure rate, then name.
    Plain Python: a few rows per CI system and job, where pandas' per-call
    cost would dominate."""
    per_key: dict = {}
    for system_id, job, result, results, first, flips, _dsum, _dn, last_at in rows:
        entry = per_key.setdefault((system_id, job), {
            "counts": {}, "classes": {}, "flips": 0, "patch_sets": 0, "last": None})
        result = str(result)
        entry["counts"][result] = entry["counts"].get(result, 0) + int(results)
        cls = CI_RESULT_CLASS.get(result, CI_FAIL)
        entry["classes"][cls] = entry["classes"].get(cls, 0) + int(results)
        entry["flips"] += int(flips)
        entry["patch_sets"] += int(first)
        entry["last"] = _latest(entry["last"], last_at)
    out = []
    for (system_id, job), entry in per_key.items():
        cls = entry["classes"]
        passed, failed = cls.get(CI_PASS, 0), cls.get(CI_FAIL, 0)
        low, high = wilson(failed, passed + failed)
        out.append({
            "ci_system_id": int(system_id), "job": job,
            "results": sum(entry["counts"].values()),
            "counts": dict(sorted(entry["counts"].items())),
            "success": passed, "failure": failed, "infra": cls.get(CI_INFRA, 0),
            "neutral": cls.get(CI_NEUTRAL, 0),
            **success_rate(passed, passed + failed),
            "failure_rate": failed / (passed + failed) if passed + failed else None,
            "failure_ci_low": low, "failure_ci_high": high,
            "recheck_flips": entry["flips"], "patch_sets": entry["patch_sets"],
            "last_result_at": entry["last"],
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
    counts: dict[int, list[int]] = {}  # CI system id -> [reports, success, voted, parsed]
    for system_id, _day, n, voted, success, parsed, *_ in report_rows:
        sums = counts.setdefault(system_id, [0, 0, 0, 0])
        for i, value in enumerate((n, success, voted, parsed)):
            sums[i] += int(value)
    first = pd.DataFrame(list(first_rows), columns=list(FIRST_REPORT_COLUMNS))
    first["delay"] = (pd.to_datetime(first["first_at"]) - pd.to_datetime(first["ps_created_on"])
                      ).dt.total_seconds()
    delay_stats = first.groupby("ci_system_id")["delay"].quantile([0.5, 0.9]).unstack() \
        if len(first) else pd.DataFrame(columns=[0.5, 0.9])
    out = []
    for system_id, username, display_name, declared, first_seen, last_seen in systems:
        config = ci_config.get(username)
        n_reports, n_success, n_voted, n_parsed = counts.get(system_id, (0, 0, 0, 0))
        unparsed = n_reports - n_parsed
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
            "reports": n_reports, "success": n_success, **success_rate(n_success, n_voted),
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
