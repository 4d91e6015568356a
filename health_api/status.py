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
