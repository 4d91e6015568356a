"""Daily rollups per job and per test within a job.

The API aggregates months of data from these instead of raw test_runs. The
writer adds each run's contribution inside the run's own transaction; expiry
subtracts it; ``rebuild`` recomputes everything from the raw tables.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from .. import rules
from ..db import tables as m
from ..db.bulk import add_to_stored_rows, insert_new_rows, upsert_add_rows

BUILD_NAME_KEY = rules.BUILD_NAME_KEY
TEST_COLUMNS = ("day", "build_name", "test_id", "success", "failure", "skip", "timed",
                "run_time_sum")
#: from this many tests in a run, PostgreSQL adds to the stored rollup rows of
#: the day in one joined UPDATE (for 10,000: 28 ms against the upsert's 45);
#: for fewer the upsert's probe per row costs less (200: 1.7 ms against 2.8)
JOIN_MIN_ROWS = 1000
JOB_COLUMNS = ("day", "build_name", "passed", "failed", "empty", "run_time_sum",
               "run_time_sq_sum")


def build_name_of(metadata: Iterable[tuple[str, str]]) -> str:
    for key, value in metadata:
        if key == BUILD_NAME_KEY:
            return value[:255]
    return ""


def job_row(day: dt.date, build_name: str, passes: int, fails: int, run_time: float,
            sign: int = 1) -> dict:
    outcome = rules.run_outcome(passes, fails)
    run_time = run_time or 0.0
    return {"day": day, "build_name": build_name,
            "passed": sign * (outcome == "passed"), "failed": sign * (outcome == "failed"),
            "empty": sign * (outcome == "empty"), "run_time_sum": sign * run_time,
            "run_time_sq_sum": sign * run_time * run_time}


#: raw status -> (pass, fail, skip) increments, from the one classification table
STATUS_COUNTS = {raw: (int(klass == rules.PASS), int(klass == rules.FAIL),
                       int(klass == rules.SKIP))
                 for raw, klass in rules.STATUS_CLASS.items()}
NOT_COUNTED = (0, 0, 0)


def result_counts(raw_status: str, duration: float | None) -> list:
    """One result as a ``tally`` row: [pass, fail, skip, timed, time]."""
    passes, fails, skips = STATUS_COUNTS.get(raw_status, NOT_COUNTED)
    timed = passes and duration is not None
    return [passes, fails, skips, 1 if timed else 0, duration if timed else 0.0]


def tally(tests: Iterable[tuple[int, str, float | None]]) -> dict[int, list]:
    """(tests.id, raw status, duration) -> {tests.id: [pass, fail, skip, timed, time]},
    where ``timed``/``time`` count the passes that had a duration."""
    per_test: dict[int, list] = {}
    counts = STATUS_COUNTS.get
    for test_db_id, raw_status, duration in tests:
        # result_counts, inlined: this runs for every test of every run
        passes, fails, skips = counts(raw_status, NOT_COUNTED)
        timed = 1 if passes and duration is not None else 0
        row = per_test.get(test_db_id)
        if row is None:
            per_test[test_db_id] = [passes, fails, skips, timed, duration if timed else 0.0]
        else:
            row[0] += passes
            row[1] += fails
            row[2] += skips
            if timed:
                row[3] += 1
                row[4] += duration
    return per_test


def apply_run(conn, *, run_id: int, day: dt.date, build_name: str, passes: int, fails: int,
              run_time: float, per_test: dict[int, list], sign: int = 1) -> None:
    """Add (sign=1) or subtract (sign=-1) one run; ``per_test`` comes from ``tally``.
    Adding records the run in ch_rolled_runs (what rebuild-rollups --missing skips)."""
    new_day = apply_job(conn, run_id=run_id, day=day, build_name=build_name, passes=passes,
                        fails=fails, run_time=run_time, sign=sign)
    apply_tests(conn, day=day, build_name=build_name, per_test=per_test, new_day=new_day,
                sign=sign)


def apply_job(conn, *, run_id: int, day: dt.date, build_name: str, passes: int, fails: int,
              run_time: float, sign: int = 1) -> list | None:
    """``apply_run``'s first step: the run's ch_rolled_runs and job rows.
    Returns what ``apply_tests`` needs to know of the job's day."""
    if sign == 1:
        conn.execute(m.rolled_runs.insert().values(run_id=run_id))
    else:
        conn.execute(m.rolled_runs.delete().where(m.rolled_runs.c.run_id == run_id))
    job = job_row(day, build_name, passes, fails, run_time, sign)
    return upsert_add_rows(conn, m.job_daily, JOB_COLUMNS, ("day", "build_name"),
                           [tuple(job[c] for c in JOB_COLUMNS)], report_new=True)


def apply_tests(conn, *, day: dt.date, build_name: str, per_test: dict[int, list],
                new_day: list | None, sign: int = 1) -> None:
    """``apply_run``'s second step, for all of the run's tests or, called
    again and again in test id order, for a slice of them at a time."""
    if sign == 1:
        rows = [(day, build_name, test_db_id, *r) for test_db_id, r in sorted(per_test.items())]
    else:
        rows = [(day, build_name, test_db_id, *(sign * v for v in r))
                for test_db_id, r in sorted(per_test.items())]
    # The job's first run of the day (PostgreSQL tells): every writer adds the
    # job's row before its tests' rows, in the same transaction, so no test
    # row of that job and day can exist and plain inserts (COPY) do, at a
    # third of the upsert's cost. Should one exist all the same, the upsert.
    key = ("day", "build_name", "test_id")
    if new_day == [True] and insert_new_rows(conn, m.test_daily, TEST_COLUMNS, rows):
        return
    if new_day is not None and len(rows) >= JOIN_MIN_ROWS:
        # A later run of the day: most of its tests have their row already.
        rows = add_to_stored_rows(conn, m.test_daily, TEST_COLUMNS, key, rows)
    upsert_add_rows(conn, m.test_daily, TEST_COLUMNS, key, rows)
