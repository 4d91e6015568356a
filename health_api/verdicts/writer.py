"""The source-neutral verdict writer: one CI job result from any collector.

A collector (Zuul builds, verify-status reports; Gerrit comments go the
same way through ``health_api.gerrit.writer``) turns what it read into
``Verdict`` values and hands them to ``VerdictWriter.write`` inside its
transaction. The writer stores the parents the verdict needs (change, patch
set, CI system), numbers its attempt among every result of the same
(CI system, pipeline, patch set, job), whatever its source, and inserts it
into ``ci_job_results`` with no comment parent, identified by
``result_key``: the collector's natural key (a Zuul build's uuid, a
verification's uuid), unique, so writing the same verdicts again stores
nothing new.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Mapping, Sequence

from sqlalchemy import Connection

from ..db import bulk
from ..db.models import ci_job_results
from .rows import VerdictRows
from .values import clean_text, naive_utc

__all__ = ["SOURCES", "Verdict", "VerdictError", "VerdictWriter", "WriteResult"]

#: where a verdict came from (ci_job_results.source)
SOURCES = ("gerrit", "zuul", "verify-status")
_URL_MAX = 8192
_INT_MAX = 2**31 - 1
_COLUMNS = ("comment_id", "position", "ci_system_id", "patch_set_id", "pipeline", "posted_at",
            "job", "result", "url", "duration", "voting", "detail", "attempt", "source",
            "result_key")


class VerdictError(ValueError):
    """A verdict that cannot be stored (the message names the field)."""


@dataclass(frozen=True)
class Verdict:
    """One CI job result on one Gerrit patch set.

    ``attempt`` is not given: the writer numbers it (1 for the first result
    of the job on the patch set, by ``posted_at``)."""

    ci_system: str          # the CI system's name (a Gerrit username for Gerrit CIs)
    change: int             # Gerrit change number
    patch_set: int          # patch set number
    job: str
    result: str             # SUCCESS, FAILURE, NODE_FAILURE, ... (upper case)
    posted_at: dt.datetime  # when the result was reported (UTC)
    source: str             # one of SOURCES
    result_key: str         # unique per result: "zuul:<build uuid>", "vs:<uuid>"
    pipeline: str | None = None
    url: str | None = None
    duration: int | None = None  # seconds
    voting: bool = True
    detail: str | None = None
    project: str | None = None   # used when the change is new to the store
    branch: str | None = None
    revision: str | None = None  # the patch set's commit, when new to the store


@dataclass
class WriteResult:
    stored: int = 0
    duplicates: int = 0
    #: result_key -> (ci_job_results.id, attempt) of every verdict written or found
    rows: dict[str, tuple[int, int]] = field(default_factory=dict)


def _checked(verdict: Verdict) -> Verdict:
    """The verdict with its text bounded and cleaned, or VerdictError."""
    def text(name: str, value: Any, limit: int, required: bool = False) -> str | None:
        if value is None or value == "":
            if required:
                raise VerdictError(f"{name} is required")
            return None
        if not isinstance(value, str):
            raise VerdictError(f"{name} must be a string")
        return clean_text(value.strip(), limit)

    if verdict.source not in SOURCES:
        raise VerdictError(f"source must be one of {', '.join(SOURCES)}")
    for name in ("change", "patch_set"):
        value = getattr(verdict, name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= _INT_MAX:
            raise VerdictError(f"{name} must be a positive integer")
    if not isinstance(verdict.posted_at, dt.datetime):
        raise VerdictError("posted_at must be a time")
    duration = verdict.duration
    if duration is not None and (isinstance(duration, bool) or not isinstance(duration, int)
                                 or not 0 <= duration <= _INT_MAX):
        duration = None
    return Verdict(
        ci_system=text("ci_system", verdict.ci_system, 255, True),
        change=verdict.change, patch_set=verdict.patch_set,
        job=text("job", verdict.job, 255, True),
        result=text("result", verdict.result, 32, True).upper(),
        posted_at=naive_utc(verdict.posted_at).replace(microsecond=0),
        source=verdict.source, result_key=text("result_key", verdict.result_key, 64, True),
        pipeline=text("pipeline", verdict.pipeline, 255), url=text("url", verdict.url, _URL_MAX),
        duration=duration, voting=bool(verdict.voting), detail=text("detail", verdict.detail, 255),
        project=text("project", verdict.project, 255), branch=text("branch", verdict.branch, 255),
        revision=text("revision", verdict.revision, 64))


class VerdictWriter(VerdictRows):
    """Writes verdicts into the CI tables; keep one per process part (it
    caches row ids), call ``reset_caches`` after a rolled-back transaction."""

    def __init__(self, declared: Mapping[str, Any] | None = None):
        super().__init__(declared)

    def write(self, conn: Connection, verdicts: Sequence[Verdict]) -> WriteResult:
        """Store ``verdicts`` (in one transaction: the caller's). Raises
        VerdictError, before writing anything, if one is not storable."""
        result = WriteResult()
        keyed: dict[str, Verdict] = {}
        for verdict in map(_checked, verdicts):
            if verdict.result_key in keyed:
                result.duplicates += 1
            keyed[verdict.result_key] = verdict  # the last report of a key wins
        if not keyed:
            return result
        for row_id, key, attempt in bulk.fetch_in(
                conn, "SELECT id, result_key, attempt FROM ci_job_results", "result_key",
                list(keyed)):
            result.rows[key] = (row_id, attempt)
            del keyed[key]
            result.duplicates += 1
        if not keyed:
            return result
        fresh = sorted(keyed.values(), key=attrgetter("posted_at"))  # stable: input order
        changes = {}
        patch_sets = {}
        for v in fresh:
            changes.setdefault(v.change, (v.project, v.branch, None, None, None))
            patch_sets.setdefault((v.change, v.patch_set), (v.revision, None, None, None))
        change_ids = self.ensure_changes(conn, changes)
        ps_ids, new_ps = self.ensure_patch_sets(conn, patch_sets, changes, change_ids)
        self.ensure_systems(conn, [(v.ci_system, v.posted_at, None, v.ci_system) for v in fresh])
        systems = self.load_systems(conn)
        self.load_attempts(conn, set(ps_ids.values()), new_ps)
        stamp = bulk.datetime_param(conn)
        rows, renumber = [], set()
        for v in fresh:
            ps_id, sys_id = ps_ids[(v.change, v.patch_set)], systems[v.ci_system][0]
            groups = self.attempt_groups(ps_id)
            group = (sys_id, v.pipeline, v.job)
            seen = groups.get(group)
            if seen is None:
                attempt, last = 1, v.posted_at
            else:
                attempt, last = seen[0] + 1, max(seen[1], v.posted_at)
                if v.posted_at < seen[1]:
                    renumber.add((ps_id,) + group)
            groups[group] = (attempt, last)
            rows.append((None, 0, sys_id, ps_id, v.pipeline, stamp(v.posted_at), v.job,
                         v.result, v.url, v.duration, v.voting, v.detail, attempt, v.source,
                         v.result_key))
        # keys stored before were skipped above; the same key written by a
        # concurrent transaction makes this one fail (IntegrityError): the
        # caller runs it again and then finds it stored
        bulk.insert_rows(conn, ci_job_results, _COLUMNS, rows)
        for group in renumber:
            self.renumber(conn, *group)
        for v in fresh:
            self.touch(systems[v.ci_system][0], v.posted_at)
        self.roll_up(conn)
        for row_id, key, attempt in bulk.fetch_in(
                conn, "SELECT id, result_key, attempt FROM ci_job_results", "result_key",
                [row[-1] for row in rows]):
            result.rows[key] = (row_id, attempt)
        result.stored = len(rows)
        return result
