"""A ``PreparedBatch`` into the CI tables, inside the caller's transaction.

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

**Attempts.** Every job result is kept. ``attempt`` numbers the results of
one (CI system, pipeline, patch set, job) by posting time from 1; the
highest is current. New results normally arrive in time order and take the
next number from a per-patch-set cache; one that arrives earlier than a
stored one (a backfill filling a gap) renumbers its group.

Row ids are cached (changes, patch sets, CI systems, attempt counters); they
stay valid because rows are never deleted underneath a writer.
"""
from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from operator import attrgetter
from typing import Any, Mapping

from sqlalchemy import Connection, and_, bindparam, func, or_, select, update

from ..db import bulk
from ..db.models import (ci_comments, ci_job_results, ci_systems, changes,
                         collector_state, patch_sets)
from .rows import (UTC, CiConfig, PreparedBatch, PreparedComment, StoreStats, clean_text,
                   parse_db_time)

__all__ = ["BatchWriter", "LAST_EVENT_KEY"]

LAST_EVENT_KEY = "stream.last_event_at"
_CACHE_MAX = 200_000
_COMMENT_COLUMNS = ("comment_key", "message_id", "patch_set_id", "ci_system_id", "project",
                    "posted_at", "pipeline", "overall", "votes", "raw_text", "parsed")
#: the order of PreparedComment.jobs after the comment's own columns, then attempt
_JOB_COLUMNS = ("comment_id", "ci_system_id", "patch_set_id", "pipeline", "posted_at",
                "position", "job", "result", "url", "duration", "voting", "detail", "attempt")
_SYSTEM_SQL = "SELECT id, username, first_seen, last_seen FROM ci_systems"
_posted_at = attrgetter("posted_at")


def _split_cached(cache: Mapping, keys) -> tuple[dict, list]:
    """The ids ``cache`` knows for ``keys``, and the keys it does not."""
    ids, missing = {}, []
    for key in keys:
        cached = cache.get(key)
        if cached is None:
            missing.append(key)
        else:
            ids[key] = cached
    return ids, missing


class _Lru(OrderedDict):
    """A dict that forgets its oldest entries beyond ``limit``."""

    def __init__(self, limit: int = _CACHE_MAX):
        super().__init__()
        self.limit = limit

    def put(self, key, value) -> None:
        self[key] = value
        if len(self) > self.limit:
            self.popitem(last=False)


class BatchWriter:
    """Writes prepared batches; one per GerritStore (it owns the id caches)."""

    def __init__(self, config: CiConfig):
        self.config = config
        self.reset_caches()

    def reset_caches(self) -> None:
        self._change_ids: _Lru = _Lru()
        self._ps_ids: _Lru = _Lru()
        self._attempts: _Lru = _Lru(50_000)  # patch_set_id -> {(sys, pipeline, job): (n, last)}
        self._systems: dict[str, list] | None = None  # username -> [id, first, last]
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

    # -- changes and patch sets ------------------------------------------------------

    def _ensure_changes(self, conn: Connection, batch: PreparedBatch) -> dict[int, int]:
        ids, missing = _split_cached(self._change_ids, batch.changes)
        if missing:
            rows = [(number, *batch.changes[number]) for number in missing]
            bulk.insert_ignore_rows(conn, changes, ("number", "project", "branch", "change_key",
                                                    "subject", "status"), ("number",), rows)
            for row_id, number in bulk.fetch_in(conn, "SELECT id, number FROM changes",
                                           "number", missing):
                ids[number] = row_id
                self._change_ids.put(number, row_id)
        return ids

    def _ensure_patch_sets(self, conn: Connection, batch: PreparedBatch,
                           change_ids: dict[int, int], stats: StoreStats
                           ) -> tuple[dict[tuple[int, int], int], set[int]]:
        ids, missing = _split_cached(self._ps_ids, batch.patch_sets)
        new: set[int] = set()
        if not missing:
            return ids, new
        by_change = {change_ids[c]: c for c, _ in missing}
        sql = "SELECT id, change_id, number FROM patch_sets"

        def lookup() -> None:
            for row_id, change_id, number in bulk.fetch_in(conn, sql, "change_id", list(by_change)):
                key = (by_change[change_id], number)
                if key in batch.patch_sets and key not in ids:
                    ids[key] = row_id
                    self._ps_ids.put(key, row_id)
        lookup()
        to_insert = [key for key in missing if key not in ids]
        if to_insert:
            rows = []
            for key in to_insert:
                project, branch = batch.changes[key[0]][:2]
                rows.append((change_ids[key[0]], key[1], project, branch, *batch.patch_sets[key]))
            bulk.insert_ignore_rows(conn, patch_sets, (
                "change_id", "number", "project", "branch", "revision", "created_on",
                "uploader", "kind"), ("change_id", "number"), rows)
            lookup()
            new = {ids[key] for key in to_insert if key in ids}
            stats.patch_sets += len(new)
        return ids, new

    # -- CI systems ------------------------------------------------------------------

    def _load_systems(self, conn: Connection) -> dict[str, list]:
        if self._systems is None:
            self._systems = {username: [row_id, parse_db_time(first), parse_db_time(last)]
                             for row_id, username, first, last
                             in conn.exec_driver_sql(_SYSTEM_SQL)}
            self._ensure_declared(conn)
        return self._systems

    def _ensure_declared(self, conn: Connection) -> None:
        declared = self.config.declared
        if not declared:
            return
        rows = [(name, cfg.account_id, clean_text(cfg.display_name), True)
                for name, cfg in declared.items()]
        bulk.insert_ignore_rows(conn, ci_systems, ("username", "account_id", "display_name",
                                                   "declared"), ("username",), rows)
        conn.execute(update(ci_systems).where(ci_systems.c.username == bindparam("u")).values(
            declared=True, display_name=bindparam("d")),
            [{"u": name, "d": clean_text(cfg.display_name)} for name, cfg in declared.items()])
        with_ids = [{"u": name, "a": cfg.account_id} for name, cfg in declared.items()
                    if cfg.account_id is not None]
        if with_ids:
            conn.execute(update(ci_systems).where(and_(
                ci_systems.c.username == bindparam("u"), ci_systems.c.account_id.is_(None))).values(
                account_id=bindparam("a")), with_ids)
        for row_id, username, first, last in bulk.fetch_in(conn, _SYSTEM_SQL, "username",
                                                       list(declared)):
            self._systems[username] = [row_id, parse_db_time(first), parse_db_time(last)]

    def _ensure_systems(self, conn: Connection, fresh: list[PreparedComment]) -> None:
        """Add the new CI systems of ``fresh`` (in event order: a new system
        takes its display name from its first comment, as it would if the
        events came one by one) and widen first_seen/last_seen."""
        systems = self._systems
        seen: dict[str, list] = {}  # username -> [first, last, first comment]
        for comment in fresh:
            span = seen.get(comment.username)
            if span is None:
                seen[comment.username] = [comment.posted_at, comment.posted_at, comment]
            else:
                span[0] = min(span[0], comment.posted_at)
                span[1] = max(span[1], comment.posted_at)
        new = [name for name in seen if name not in systems]
        if new:
            rows = []
            for name in new:
                first, last, comment = seen[name]
                rows.append((name, comment.account_id, clean_text(comment.name) or name, first,
                             last, False))
            bulk.insert_ignore_rows(conn, ci_systems, (
                "username", "account_id", "display_name", "first_seen", "last_seen", "declared"),
                ("username",), rows)
            for row_id, username, first, last in bulk.fetch_in(conn, _SYSTEM_SQL, "username", new):
                systems[username] = [row_id, parse_db_time(first), parse_db_time(last)]
        updates = []
        for name, (first, last, _comment) in seen.items():
            entry = systems[name]
            if entry[1] is None or first < entry[1] or entry[2] is None or last > entry[2]:
                entry[1] = first if entry[1] is None else min(entry[1], first)
                entry[2] = last if entry[2] is None else max(entry[2], last)
                updates.append({"i": entry[0], "f": entry[1], "l": entry[2]})
        if updates:
            c = ci_systems.c
            conn.execute(update(ci_systems).where(c.id == bindparam("i")).values(
                first_seen=bindparam("f"), last_seen=bindparam("l")), updates)

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
        systems = self._load_systems(conn)
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
        self._ensure_systems(conn, fresh)  # in event order, as one by one would
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
        stats.comments += len(rows)
        stats.unparsed_comments += sum(1 for comment in fresh if not comment.parsed)
        self._write_jobs(conn, fresh, rows, comment_ids, reserved, new_ps, stats)

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

    def _load_attempts(self, conn: Connection, fresh: list[PreparedComment], rows,
                       new_ps: set[int]) -> None:
        attempts = self._attempts
        for ps_id in new_ps:
            if ps_id not in attempts:
                attempts.put(ps_id, {})
        to_load = {row[2] for row, comment in zip(rows, fresh)
                   if comment.jobs and row[2] not in attempts}
        if not to_load:
            return
        loaded: dict[int, dict] = {ps_id: {} for ps_id in to_load}
        for ps_id, sys_id, pipeline, job, count, last in bulk.fetch_in(
                conn, "SELECT patch_set_id, ci_system_id, pipeline, job, COUNT(*), "
                      "MAX(posted_at) FROM ci_job_results", "patch_set_id", list(to_load),
                " GROUP BY patch_set_id, ci_system_id, pipeline, job"):
            loaded[ps_id][(sys_id, pipeline, job)] = (count, parse_db_time(last))
        for ps_id, groups in loaded.items():
            attempts.put(ps_id, groups)

    def _write_jobs(self, conn: Connection, fresh: list[PreparedComment], rows,
                    comment_ids: list[int | None], reserved: bool, new_ps: set[int],
                    stats: StoreStats) -> None:
        self._load_attempts(conn, fresh, rows, new_ps)
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
                groups = {}
                attempts.put(ps_id, groups)
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
            self._renumber(conn, *group)

    def _renumber(self, conn: Connection, ps_id: int, sys_id: int, pipeline: str | None,
                  job: str) -> None:
        c = ci_job_results.c
        where = [c.patch_set_id == ps_id, c.ci_system_id == sys_id, c.job == job,
                 c.pipeline.is_(None) if pipeline is None else c.pipeline == pipeline]
        rows = conn.execute(select(c.id, c.attempt, c.posted_at).where(*where)
                            .order_by(c.posted_at, c.comment_id, c.position)).all()
        changes_ = [{"i": row.id, "a": n} for n, row in enumerate(rows, 1) if row.attempt != n]
        if changes_:
            conn.execute(update(ci_job_results).where(c.id == bindparam("i"))
                         .values(attempt=bindparam("a")), changes_)
        groups = self._attempts.get(ps_id)
        if groups is not None and rows:
            groups[(sys_id, pipeline, job)] = (len(rows), max(parse_db_time(r.posted_at)
                                                              for r in rows))

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
