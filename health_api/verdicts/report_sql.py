"""What a CI report, a result class and a recheck flip are, in SQL: one
definition for the daily CI rollups (health_api.verdicts.rollup) and the
raw reads (health_api.queries.ci), so both count the same things.

**A report** is one CI system's verdict set on one patch set, whatever the
source: a Gerrit CI comment (its overall result; NULL when unparsed), or
the comment-less results (Zuul builds, verify-status reports) of one CI
system on one patch set with the same pipeline, attempt and day: SUCCESS
unless one of its voting results is a failure or an infrastructure result,
and no verdict (NULL, as a comment without one) when all its results are
neutral (a Zuul NO_JOBS buildset, verify-status values of 0).

**A recheck flip** is counted once per (CI system, pipeline, patch set,
job) whose first failure is followed by a SUCCESS (docs/design.md "flaky
job"), on the row of the first SUCCESS after that failure, so a flip stays
on the day it happened whatever comes later.

Result classes come from health_api.rules.CI_RESULT_CLASS (a result it does
not know is a failure, as in health_api.analytics.ci). The class lists are
bound parameters (``expanding``): pass ``class_params()``.
"""
from __future__ import annotations

from sqlalchemy import bindparam

from ..rules import CI_INFRA, CI_NEUTRAL, CI_PASS, CI_RESULT_CLASS

#: the day of a time column, per dialect (naive UTC midnight as a DATE)
_DAY = {
    "sqlite": "date({})",
    "postgresql": "CAST({} AS DATE)",
    "mysql": "DATE({})",
}


def day_of(dialect: str, column: str) -> str:
    return _DAY["mysql" if dialect == "mariadb" else dialect].format(column)


def class_params() -> dict:
    """Bound values of the class lists the SQL below names."""
    of = {cls: [r for r, c in CI_RESULT_CLASS.items() if c == cls]
          for cls in (CI_PASS, CI_INFRA, CI_NEUTRAL)}
    return {"pass_results": of[CI_PASS], "infra_results": of[CI_INFRA],
            "neutral_results": of[CI_NEUTRAL],
            "not_fail_results": of[CI_PASS] + of[CI_INFRA] + of[CI_NEUTRAL], "yes": True}


def expanding(sql: str) -> list:
    """The class lists ``sql`` names, as expanding bound parameters."""
    return [bindparam(name, expanding=True) for name in
            ("pass_results", "infra_results", "neutral_results", "not_fail_results")
            if f":{name}" in sql]


def _same_group(a: str, b: str) -> str:
    return (f"{a}.patch_set_id = {b}.patch_set_id AND {a}.ci_system_id = {b}.ci_system_id "
            f"AND {a}.job = {b}.job AND COALESCE({a}.pipeline, '') = COALESCE({b}.pipeline, '')")


def _fail(alias: str) -> str:
    return f"{alias}.result NOT IN :not_fail_results"


def flip(alias: str = "j") -> str:
    """True on the row of ``alias`` that completes a recheck flip (see above)."""
    return (
        f"{alias}.attempt > 1 AND {alias}.result IN :pass_results"
        f" AND EXISTS (SELECT 1 FROM ci_job_results f WHERE {_same_group('f', alias)}"
        f" AND f.attempt < {alias}.attempt AND {_fail('f')})"
        f" AND NOT EXISTS (SELECT 1 FROM ci_job_results p WHERE {_same_group('p', alias)}"
        f" AND p.attempt < {alias}.attempt AND p.result IN :pass_results"
        f" AND EXISTS (SELECT 1 FROM ci_job_results f2 WHERE {_same_group('f2', 'p')}"
        f" AND f2.attempt < p.attempt AND {_fail('f2')}))")


#: the columns of every report select below
REPORT_SELECT_COLUMNS = ("ci_system_id", "patch_set_id", "project", "pipeline", "posted_at",
                         "overall", "parsed")


def reports(dialect: str, comment_where: str, job_where: str) -> str:
    """Every report as REPORT_SELECT_COLUMNS (project and pipeline '' when
    unknown; parsed 1 or 0). ``comment_where`` filters ``ci_comments c``,
    ``job_where`` the comment-less ``ci_job_results j`` joined to their
    ``patch_sets ps`` (both SQL with named parameters; "1=1" for none)."""
    bad = ("j.voting = :yes AND j.result NOT IN :pass_results"
           " AND j.result NOT IN :neutral_results")
    return (
        "SELECT c.ci_system_id, c.patch_set_id, COALESCE(c.project, '') AS project,"
        " COALESCE(c.pipeline, '') AS pipeline, c.posted_at, c.overall,"
        " CASE WHEN c.parsed = :yes THEN 1 ELSE 0 END AS parsed"
        f" FROM ci_comments c WHERE {comment_where}"
        " UNION ALL "
        "SELECT j.ci_system_id, j.patch_set_id, COALESCE(ps.project, ''),"
        " COALESCE(j.pipeline, ''), MAX(j.posted_at),"
        f" CASE WHEN SUM(CASE WHEN {bad} THEN 1 ELSE 0 END) > 0 THEN 'FAILURE'"
        " WHEN SUM(CASE WHEN j.result IN :neutral_results THEN 0 ELSE 1 END) = 0 THEN NULL"
        " ELSE 'SUCCESS' END, 1"
        " FROM ci_job_results j JOIN patch_sets ps ON ps.id = j.patch_set_id"
        f" WHERE j.comment_id IS NULL AND {job_where}"
        " GROUP BY j.ci_system_id, j.patch_set_id, ps.project, j.pipeline, j.attempt, "
        + day_of(dialect, "j.posted_at"))
