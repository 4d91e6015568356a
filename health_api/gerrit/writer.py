"""A ``PreparedBatch`` into the CI tables, inside the caller's transaction.

The parents (changes, patch sets, CI systems) and attempt numbers are the
source-neutral ones of ``health_api.verdicts.rows``; this module adds what
is Gerrit's own: CI comments, their job lines (source 'gerrit') and recheck
requests, change status and the collector state.

Idempotency comes from unique keys: ``changes.number``,
``patch_sets(change_id, number)``, ``ci_systems.username``,
``ci_comments.comment_key`` and ``ci_job_results(comment_id, position)``.
Changes, patch sets and CI systems are inserted with insert-ignore; comment
keys are looked up first, so only new comments are inserted. Where the
engine can reserve ids (``bulk.allocate_ids``: PostgreSQL, SQLite) new
comments get theirs up front and are inserted, with their job results, by
plain bulk inserts and no read back; a comment a concurrent writer stored
in between fails the insert, and the store retries the events one by one.

A comment by an account that is not declared is stored only when it is a CI
report or carries a non-zero ``Verified`` vote (the account becomes a CI), or
when it was posted after the account's first stored comment
(``ci_systems.first_seen``); others are counted as ``non_ci_comments``, the
same however often the events are stored.

**Attempts**: see ``health_api.verdicts.rows``. **Recheck requests**: a
comment that is not a CI report and asks for a recheck ("recheck",
"recheck <ci>", a declared CI's ``recheck`` pattern) is stored in
``ci_recheck_requests`` under its comment key, whoever wrote it.
"""
from __future__ import annotations

import datetime as dt
from operator import attrgetter
from typing import Any, Mapping

from sqlalchemy import Connection, and_, bindparam, func, or_, select, update

from ..db import bulk
from ..db.models import (ci_comments, ci_job_results, ci_recheck_requests, changes,
                         collector_state)
from ..verdicts.rows import VerdictRows
from .rows import UTC, CiConfig, PreparedBatch, PreparedComment, StoreStats

__all__ = ["BatchWriter", "LAST_EVENT_KEY"]

LAST_EVENT_KEY = "stream.last_event_at"
_COMMENT_COLUMNS = ("comment_key", "message_id", "patch_set_id", "ci_system_id", "project",
                    "posted_at", "pipeline", "overall", "votes", "raw_text", "parsed")
#: the order of PreparedComment.jobs after the comment's own columns, then attempt
_JOB_COLUMNS = ("comment_id", "ci_system_id", "patch_set_id", "pipeline", "posted_at",
                "position", "job", "result", "url", "duration", "voting", "detail", "attempt")
_RECHECK_COLUMNS = ("request_key", "source", "patch_set_id", "project", "requester",
                    "requested_at", "target", "text")
_posted_at = attrgetter("posted_at")


class BatchWriter(VerdictRows):
    """Writes prepared batches; one per GerritStore (it owns the id caches)."""

    def __init__(self, config: CiConfig):
        self.config = config
        super().__init__(config.declared)

    def reset_caches(self) -> None:
        super().reset_caches()
        self._last_event_at: dt.datetime | None = None
        self._last_event_loaded = False

    def write(self, conn: Connection, batch: PreparedBatch, stats: StoreStats) -> None:
        if batch.empty():
            return
        change_ids = self._ensure_changes(conn, batch)
        ps_ids, new_ps = self._ensure_patch_sets(conn, batch, change_ids, stats)
        if batch.comments:
            self._write_comments(conn, batch, ps_ids, new_ps, stats)
        if batch.statuses:
            self._write_statuses(conn, batch, stats)
        self.roll_up(conn)

    def _ensure_changes(self, conn: Connection, batch: PreparedBatch) -> dict[int, int]:
        return self.ensure_changes(conn, batch.changes)

    def _ensure_patch_sets(self, conn: Connection, batch: PreparedBatch,
                           change_ids: dict[int, int], stats: StoreStats
                           ) -> tuple[dict[tuple[int, int], int], set[int]]:
        ids, new = self.ensure_patch_sets(conn, batch.patch_sets, batch.changes, change_ids)
        stats.patch_sets += len(new)
        return ids, new

    # -- comments and job results ----------------------------------------------------

    def _ci_comments(self, batch: PreparedBatch, systems: Mapping[str, Any],
                     stats: StoreStats) -> dict[str, PreparedComment]:
        """The comments of CI accounts by key, without repeats, in batch order."""
        declared = self.config.declared
        keyed: dict[str, PreparedComment] = {}
        discovered: set[str] = set()
        for comment in batch.comments:
            username = comment.username
            if username not in declared and username not in discovered:
                # An undeclared account is a CI from its first report or vote on:
                # its plain comments from before then stay non-CI, also when the
                # events are stored again after it became known (replays agree).
                known = systems.get(username)
                if not comment.ci_evidence and (known is None or known[1] is None
                                                or comment.posted_at < known[1]):
                    stats.non_ci_comments += 1
                    continue
                if known is None:
                    discovered.add(username)
            if comment.key in keyed:
                stats.duplicate_comments += 1
                continue
            keyed[comment.key] = comment
        return keyed

    def _write_comments(self, conn: Connection, batch: PreparedBatch, ps_ids, new_ps: set[int],
                        stats: StoreStats) -> None:
        rechecks = [c for c in batch.comments if c.recheck is not None]
        if rechecks:
            self._write_rechecks(conn, batch, rechecks, ps_ids, stats)
        systems = self.load_systems(conn)
        keyed = self._ci_comments(batch, systems, stats)
        if not keyed:
            return
        existing = {k for (k,) in bulk.fetch_in(
            conn, "SELECT comment_key FROM ci_comments", "comment_key", list(keyed))}
        if existing:
            stats.duplicate_comments += len(existing)
            updates = [{"k": k, "m": keyed[k].message_id} for k in existing
                       if keyed[k].message_id]
            if updates:
                conn.execute(update(ci_comments).where(and_(
                    ci_comments.c.comment_key == bindparam("k"),
                    ci_comments.c.message_id.is_(None))).values(message_id=bindparam("m")),
                    updates)
        fresh = [comment for key, comment in keyed.items() if key not in existing]
        if not fresh:
            return
        # in event order, as one by one would
        self.ensure_systems(conn, [(c.username, c.posted_at, c.account_id, c.name)
                                   for c in fresh])
        fresh.sort(key=_posted_at)
        rows = []
        stamp = bulk.datetime_param(conn)
        for comment in fresh:
            rows.append((comment.key, comment.message_id,
                         ps_ids[(comment.change, comment.patch_set)],
                         systems[comment.username][0], batch.changes[comment.change][0],
                         stamp(comment.posted_at), comment.pipeline, comment.overall,
                         comment.votes, comment.raw_text, comment.parsed))
        comment_ids, reserved = self._insert_comments(conn, rows)
        for row, comment_id in zip(rows, comment_ids):
            if comment_id is not None:
                self.touch(row[3], row[5])
        stats.comments += len(rows)
        stats.unparsed_comments += sum(1 for comment in fresh if not comment.parsed)
        self._write_jobs(conn, fresh, rows, comment_ids, reserved, new_ps, stats)

    @staticmethod
    def _write_rechecks(conn: Connection, batch: PreparedBatch, rechecks: list[PreparedComment],
                        ps_ids, stats: StoreStats) -> None:
        keyed = {c.key: c for c in rechecks}
        stored = {k for (k,) in bulk.fetch_in(
            conn, "SELECT request_key FROM ci_recheck_requests", "request_key", list(keyed))}
        stamp = bulk.datetime_param(conn)
        rows = [(key, "gerrit", ps_ids[(c.change, c.patch_set)], batch.changes[c.change][0],
                 c.username, stamp(c.posted_at), c.recheck or None,
                 (c.raw_text or "")[:255])
                for key, c in keyed.items() if key not in stored]
        if rows:
            bulk.insert_ignore_rows(conn, ci_recheck_requests, _RECHECK_COLUMNS,
                                    ("request_key",), rows)
            stats.recheck_requests += len(rows)

    @staticmethod
    def _insert_comments(conn: Connection, rows: list[tuple]) -> tuple[list[int | None], bool]:
        """Insert new comment rows: their ids in row order (None: not stored),
        and whether the ids were reserved (so the rows are surely ours)."""
        ids = bulk.allocate_ids(conn, ci_comments, len(rows))
        if ids is not None:
            bulk.insert_rows(conn, ci_comments, ("id",) + _COMMENT_COLUMNS,
                             [(row_id,) + row for row_id, row in zip(ids, rows)])
            return ids, True
        # MySQL/MariaDB: no ids up front; a concurrent copy of a comment is
        # skipped and its id read back like ours
        bulk.insert_ignore_rows(conn, ci_comments, _COMMENT_COLUMNS, ("comment_key",), rows)
        by_key = {key: row_id for row_id, key in bulk.fetch_in(
            conn, "SELECT id, comment_key FROM ci_comments", "comment_key",
            [row[0] for row in rows])}
        return [by_key.get(row[0]) for row in rows], False

    def _write_jobs(self, conn: Connection, fresh: list[PreparedComment], rows,
                    comment_ids: list[int | None], reserved: bool, new_ps: set[int],
                    stats: StoreStats) -> None:
        self.load_attempts(conn, {row[2] for row, comment in zip(rows, fresh) if comment.jobs},
                           new_ps)
        attempts = self._attempts
        job_rows = []
        renumber: set[tuple] = set()
        for comment, row, comment_id in zip(fresh, rows, comment_ids):
            if not comment.jobs or comment_id is None:
                continue
            ps_id, sys_id, pipeline = row[2], row[3], row[6]
            posted = comment.posted_at
            groups = attempts.get(ps_id)
            if groups is None:
                groups = self.attempt_groups(ps_id)
            head = (comment_id, sys_id, ps_id, pipeline, row[5])
            for job in comment.jobs:
                group = (sys_id, pipeline, job[1])
                seen = groups.get(group)  # (results so far, the latest posted_at)
                if seen is None:
                    attempt, last = 1, posted
                else:
                    attempt, last = seen[0] + 1, seen[1]
                    if posted < last:  # arrived late: numbered again below
                        renumber.add((ps_id,) + group)
                    elif posted > last:
                        last = posted
                groups[group] = (attempt, last)
                job_rows.append(head + job + (attempt,))
        if reserved:  # new comment ids: no job result of theirs can exist
            bulk.insert_rows(conn, ci_job_results, _JOB_COLUMNS, job_rows)
        else:
            bulk.insert_ignore_rows(conn, ci_job_results, _JOB_COLUMNS,
                                    ("comment_id", "position"), job_rows)
        stats.job_results += len(job_rows)
        for group in renumber:
            self.renumber(conn, *group)

    # -- change status and collector state ---------------------------------------------

    @staticmethod
    def _write_statuses(conn: Connection, batch: PreparedBatch, stats: StoreStats) -> None:
        c = changes.c
        params = [{"n": number, "s": status, "t": at} for number, status, at in batch.statuses]
        conn.execute(update(changes).where(and_(
            c.number == bindparam("n"),
            or_(c.status_changed_at.is_(None), bindparam("t").is_(None),
                c.status_changed_at <= bindparam("t")))).values(
            status=bindparam("s"), status_changed_at=func.coalesce(
                bindparam("t"), c.status_changed_at)), params)
        stats.status_changes += len(params)  # applied unless a later status is stored

    def write_state(self, conn: Connection, last_event_at: dt.datetime | None,
                    state: Mapping[str, str] | None) -> None:
        """Store ``state`` key/values, and the newest event time if it moved on."""
        values = dict(state or {})
        if last_event_at is not None:
            if not self._last_event_loaded:
                stored = conn.execute(select(collector_state.c.value).where(
                    collector_state.c.key == LAST_EVENT_KEY)).scalar()
                self._last_event_at = dt.datetime.fromisoformat(stored) if stored else None
                self._last_event_loaded = True
            if self._last_event_at is None or last_event_at > self._last_event_at:
                self._last_event_at = last_event_at
                values[LAST_EVENT_KEY] = last_event_at.isoformat()
        if not values:
            return
        now = dt.datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        conn.execute(collector_state.delete().where(collector_state.c.key.in_(list(values))))
        conn.execute(collector_state.insert(), [
            {"key": k, "value": v, "updated_at": now} for k, v in values.items()])
