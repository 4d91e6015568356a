"""The shared rules, in one place: every aggregate, SQL expression and chart follows them.

- the status table: a raw subunit status -> pass, fail or skip;
- the run outcome: failed if any test failed, passed if any passed, else empty;
- the job key: the run metadata key naming a run's job (``build_name``);
- the resolutions (bucket sizes) and the widest window each one serves.

SQL is built from these (``queries/common.py``, ``ingest/rollups.py``), pandas
reads them (``analytics/``), and the dashboard fetches them from
``GET /api/v1/status`` (``rules``) instead of copying them.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, func
from sqlalchemy.sql import ColumnElement

PASS = "pass"
FAIL = "fail"
SKIP = "skip"

#: raw subunit status -> outcome class
STATUS_CLASS: dict[str, str] = {
    "success": PASS,
    "xfail": PASS,
    "fail": FAIL,
    "uxsuccess": FAIL,
    "skip": SKIP,
}

PASS_STATUSES = tuple(s for s, c in STATUS_CLASS.items() if c == PASS)
FAIL_STATUSES = tuple(s for s, c in STATUS_CLASS.items() if c == FAIL)
SKIP_STATUSES = tuple(s for s, c in STATUS_CLASS.items() if c == SKIP)

#: statuses that end a test in a subunit stream
FINAL_STATUSES = frozenset(STATUS_CLASS)


def classify(status: str | None) -> str | None:
    """Return PASS, FAIL or SKIP for a raw status, None for anything else."""
    return STATUS_CLASS.get(status or "")


# -- run outcome -------------------------------------------------------------------

PASSED, FAILED, EMPTY = "passed", "failed", "empty"
OUTCOMES = (PASSED, FAILED, EMPTY)


def run_outcome(passes: int | None, fails: int | None) -> str:
    """A run's outcome from its pass and fail counts (NULL counts as 0)."""
    if (fails or 0) > 0:
        return FAILED
    if (passes or 0) > 0:
        return PASSED
    return EMPTY


def run_outcome_is(passes, fails, outcome: str) -> ColumnElement:
    """A WHERE clause true for the runs whose outcome is ``outcome`` (index-friendly:
    plain comparisons rather than the CASE)."""
    fails = func.coalesce(fails, 0)
    passes = func.coalesce(passes, 0)
    if outcome == FAILED:
        return fails > 0
    if outcome == PASSED:
        return and_(fails == 0, passes > 0)
    if outcome == EMPTY:
        return and_(fails == 0, passes <= 0)
    raise ValueError(f"unknown run outcome {outcome!r}")


# -- jobs --------------------------------------------------------------------------

#: the run metadata key whose value names a run's job
BUILD_NAME_KEY = "build_name"
#: how the job views label runs stored without a build_name (the rollups file them under "")
NO_JOB_NAME = "(no job name)"


# -- resolutions -------------------------------------------------------------------

RESOLUTIONS = ("sec", "min", "hour", "day")
STEP = {"sec": dt.timedelta(seconds=1), "min": dt.timedelta(minutes=1),
        "hour": dt.timedelta(hours=1), "day": dt.timedelta(days=1)}
#: the widest window each resolution serves
MAX_WINDOW = {"sec": dt.timedelta(hours=1), "min": dt.timedelta(days=2),
              "hour": dt.timedelta(days=31), "day": dt.timedelta(days=3660)}


def as_json() -> dict:
    """The rules as served to the dashboard (GET /api/v1/status, ``rules``)."""
    return {
        "statuses": dict(STATUS_CLASS),
        "outcomes": list(OUTCOMES),
        "job_key": BUILD_NAME_KEY,
        "no_job_name": NO_JOB_NAME,
        "resolutions": [{"name": r, "seconds": int(STEP[r].total_seconds()),
                         "max_window_seconds": int(MAX_WINDOW[r].total_seconds())}
                        for r in RESOLUTIONS],
    }


# -- CI job results (docs/design.md's open vocabulary) ----------------------

CI_PASS = "pass"
CI_FAIL = "fail"
CI_INFRA = "infra"
CI_NEUTRAL = "neutral"

#: CI job result -> class. Infrastructure results are counted apart from
#: FAILURE: the job never got to say whether the change is good. Neutral
#: results (skipped, cancelled) count in no rate. Any other word is a failure.
CI_RESULT_CLASS: dict[str, str] = {
    "SUCCESS": CI_PASS,
    "FAILURE": CI_FAIL,
    "ERROR": CI_FAIL,
    "UNSTABLE": CI_FAIL,
    "MERGE_CONFLICT": CI_FAIL,
    "MERGE_FAILURE": CI_FAIL,   # Zuul's later name of MERGE_CONFLICT (a buildset result)
    "CONFIG_ERROR": CI_FAIL,    # a Zuul buildset: the change breaks Zuul's configuration
    "NODE_FAILURE": CI_INFRA,
    "RETRY_LIMIT": CI_INFRA,
    "POST_FAILURE": CI_INFRA,
    "TIMED_OUT": CI_INFRA,
    "SKIPPED": CI_NEUTRAL,
    "CANCELED": CI_NEUTRAL,
    "ABORTED": CI_NEUTRAL,
    "NOT_REGISTERED": CI_NEUTRAL,
    "NEUTRAL": CI_NEUTRAL,  # a verify-status value of 0
    "NO_JOBS": CI_NEUTRAL,  # a Zuul buildset with nothing to run: no verdict on the change
}
CI_INFRA_RESULTS = tuple(r for r, c in CI_RESULT_CLASS.items() if c == CI_INFRA)


def ci_classify(result: str | None) -> str:
    """The class of a CI job result; unknown words are failures."""
    return CI_RESULT_CLASS.get(result or "", CI_FAIL)
