"""The one status-classification table shared by every aggregate.

subunit statuses are stored raw; every count of passes, failures and skips
goes through this table so that ingest counters, rollups and analytics agree.
"""
from __future__ import annotations

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


# -- CI job results (DESIGN.md section 3's open vocabulary) ----------------------

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
    "NODE_FAILURE": CI_INFRA,
    "RETRY_LIMIT": CI_INFRA,
    "POST_FAILURE": CI_INFRA,
    "TIMED_OUT": CI_INFRA,
    "SKIPPED": CI_NEUTRAL,
    "CANCELED": CI_NEUTRAL,
    "ABORTED": CI_NEUTRAL,
    "NOT_REGISTERED": CI_NEUTRAL,
}
CI_INFRA_RESULTS = tuple(r for r, c in CI_RESULT_CLASS.items() if c == CI_INFRA)


def ci_classify(result: str | None) -> str:
    """The class of a CI job result; unknown words are failures."""
    return CI_RESULT_CLASS.get(result or "", CI_FAIL)
