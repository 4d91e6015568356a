"""The parents every verdict needs, and its attempt number, inside the
caller's transaction: changes, patch sets, CI systems (insert-ignore on
their unique keys, ids cached) and the attempt counters of
(patch set, CI system, pipeline, job).

Shared by every verdict source (``health_api.verdicts.writer`` for Zuul
builds and verify-status reports, ``health_api.gerrit.writer`` for CI
comments), so a job's attempts count every result it had, whatever
reported it.

**Attempts.** ``attempt`` numbers the results of one (CI system, pipeline,
patch set, job) by posting time from 1; the highest is current. New
results normally arrive in time order and take the next number from a
per-patch-set cache; one that arrives earlier than a stored one (a backfill
filling a gap) renumbers its group.

**Rollups.** Each writer records the (CI system, day) of what it stored
(``touch``) and, last in its transaction, has health_api.verdicts.rollup
recompute those days of the daily CI rollups (``roll_up``): the one hook
every source feeds.

Row ids are cached; they stay valid because rows are never deleted
underneath a writer (``replay --reset`` makes a new writer).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterable, Mapping

from sqlalchemy import Connection, and_, bindparam, select, update

from ..db import bulk
from ..db.models import ci_job_results, ci_systems, changes, patch_sets
from . import rollup
from .values import clean_text, parse_db_time

__all__ = ["VerdictRows", "Lru", "split_cached"]

_CACHE_MAX = 200_000
_SYSTEM_SQL = "SELECT id, username, first_seen, last_seen FROM ci_systems"
#: changes row values: (project, branch, change_key, subject, status)
CHANGE_COLUMNS = ("project", "branch", "change_key", "subject", "status")
#: patch_sets row values: (revision, created_on, uploader, kind)
PATCH_SET_COLUMNS = ("revision", "created_on", "uploader", "kind")


def split_cached(cache: Mapping, keys) -> tuple[dict, list]:
    """The ids ``cache`` knows for ``keys``, and the keys it does not."""
    ids, missing = {}, []
    for key in keys:
        cached = cache.get(key)
        if cached is None:
            missing.append(key)
        else:
            ids[key] = cached
    return ids, missing


class Lru(OrderedDict):
    """A dict that forgets its oldest entries beyond ``limit``."""

    def __init__(self, limit: int = _CACHE_MAX):
        super().__init__()
        self.limit = limit

    def put(self, key, value) -> None:
        self[key] = value
        if len(self) > self.limit:
            self.popitem(last=False)


class VerdictRows:
    """Parent rows and attempt numbers, with their id caches.

    ``declared``: CI system name -> its settings (``account_id``,
    ``display_name``), as ``etc/ci-systems.yaml`` declares them."""

    def __init__(self, declared: Mapping[str, Any] | None = None):
        self.declared = dict(declared or {})
        self.reset_caches()

    def reset_caches(self) -> None:
        self._change_ids: Lru = Lru()
        self._ps_ids: Lru = Lru()
        self._attempts: Lru = Lru(50_000)  # patch_set_id -> {(sys, pipeline, job): (n, last)}
        self._systems: dict[str, list] | None = None  # username -> [id, first, last]
        self._touched: set[tuple[int, object]] = set()  # (CI system id, day) to roll up

    # -- daily rollups ---------------------------------------------------------------

    def touch(self, system_id: int, posted_at) -> None:
        """A verdict or report of CI system ``system_id`` was stored for ``posted_at``."""
        self._touched.add((system_id, parse_db_time(posted_at).date()))

    def roll_up(self, conn: Connection) -> int:
        """Recompute the rollup days touched in this transaction (call it last)."""
        touched, self._touched = self._touched, set()
        return rollup.refresh(conn, touched)

    # -- changes and patch sets ------------------------------------------------------

    def ensure_changes(self, conn: Connection, wanted: Mapping[int, tuple]) -> dict[int, int]:
        """change number -> changes.id for every number of ``wanted`` (number ->
        CHANGE_COLUMNS values, used when the change is new)."""
        ids, missing = split_cached(self._change_ids, wanted)
        if missing:
            rows = [(number, *wanted[number]) for number in missing]
            bulk.insert_ignore_rows(conn, changes, ("number",) + CHANGE_COLUMNS, ("number",),
                                    rows)
            for row_id, number in bulk.fetch_in(conn, "SELECT id, number FROM changes",
                                                "number", missing):
                ids[number] = row_id
                self._change_ids.put(number, row_id)
        return ids

    def ensure_patch_sets(self, conn: Connection, wanted: Mapping[tuple[int, int], tuple],
                          change_values: Mapping[int, tuple], change_ids: Mapping[int, int]
                          ) -> tuple[dict[tuple[int, int], int], set[int]]:
        """(change number, patch set number) -> patch_sets.id for every key of
        ``wanted`` (-> PATCH_SET_COLUMNS values), and the ids inserted now."""
        ids, missing = split_cached(self._ps_ids, wanted)
        new: set[int] = set()
        if not missing:
            return ids, new
        by_change = {change_ids[c]: c for c, _ in missing}
        sql = "SELECT id, change_id, number FROM patch_sets"

        def lookup() -> None:
            for row_id, change_id, number in bulk.fetch_in(conn, sql, "change_id",
                                                           list(by_change)):
                key = (by_change[change_id], number)
                if key in wanted and key not in ids:
                    ids[key] = row_id
                    self._ps_ids.put(key, row_id)
        lookup()
        to_insert = [key for key in missing if key not in ids]
        if to_insert:
            rows = []
            for key in to_insert:
                project, branch = change_values[key[0]][:2]
                rows.append((change_ids[key[0]], key[1], project, branch, *wanted[key]))
            bulk.insert_ignore_rows(conn, patch_sets, ("change_id", "number", "project",
                                                       "branch") + PATCH_SET_COLUMNS,
                                    ("change_id", "number"), rows)
            lookup()
            new = {ids[key] for key in to_insert if key in ids}
        return ids, new

    # -- CI systems ------------------------------------------------------------------

    def load_systems(self, conn: Connection) -> dict[str, list]:
        """CI system name -> [id, first_seen, last_seen] (declared ones stored first)."""
        if self._systems is None:
            self._systems = {username: [row_id, parse_db_time(first), parse_db_time(last)]
                             for row_id, username, first, last
                             in conn.exec_driver_sql(_SYSTEM_SQL)}
            self._ensure_declared(conn)
        return self._systems

    def _ensure_declared(self, conn: Connection) -> None:
        declared = self.declared
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

    def ensure_systems(self, conn: Connection, reports: Iterable[tuple]) -> None:
        """Add the new CI systems of ``reports`` ((name, posted_at, account_id,
        display name), in report order: a new system takes its display name
        from its first report) and widen first_seen/last_seen."""
        systems = self.load_systems(conn)
        seen: dict[str, list] = {}  # username -> [first, last, account id, display name]
        for username, posted_at, account_id, display in reports:
            span = seen.get(username)
            if span is None:
                seen[username] = [posted_at, posted_at, account_id, display]
            else:
                if posted_at < span[0]:
                    span[0] = posted_at
                if posted_at > span[1]:
                    span[1] = posted_at
        new = [name for name in seen if name not in systems]
        if new:
            rows = []
            for name in new:
                first, last, account_id, display = seen[name]
                rows.append((name, account_id, clean_text(display) or name, first, last, False))
            bulk.insert_ignore_rows(conn, ci_systems, (
                "username", "account_id", "display_name", "first_seen", "last_seen", "declared"),
                ("username",), rows)
            for row_id, username, first, last in bulk.fetch_in(conn, _SYSTEM_SQL, "username",
                                                                new):
                systems[username] = [row_id, parse_db_time(first), parse_db_time(last)]
        updates = []
        for name, (first, last, _account, _display) in seen.items():
            entry = systems[name]
            if entry[1] is None or first < entry[1] or entry[2] is None or last > entry[2]:
                entry[1] = first if entry[1] is None else min(entry[1], first)
                entry[2] = last if entry[2] is None else max(entry[2], last)
                updates.append({"i": entry[0], "f": entry[1], "l": entry[2]})
        if updates:
            c = ci_systems.c
            conn.execute(update(ci_systems).where(c.id == bindparam("i")).values(
                first_seen=bindparam("f"), last_seen=bindparam("l")), updates)

    # -- attempts --------------------------------------------------------------------

    def load_attempts(self, conn: Connection, ps_ids: Iterable[int], new_ps: set[int]) -> None:
        """Have the attempt counters of patch sets ``ps_ids`` in the cache
        (``new_ps``: inserted in this transaction, so without results)."""
        attempts = self._attempts
        for ps_id in new_ps:
            if ps_id not in attempts:
                attempts.put(ps_id, {})
        to_load = {ps_id for ps_id in ps_ids if ps_id not in attempts}
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

    def attempt_groups(self, ps_id: int) -> dict:
        """The counters of one patch set: (sys, pipeline, job) -> (results, latest)."""
        groups = self._attempts.get(ps_id)
        if groups is None:
            groups = {}
            self._attempts.put(ps_id, groups)
        return groups

    def renumber(self, conn: Connection, ps_id: int, sys_id: int, pipeline: str | None,
                 job: str) -> None:
        """Number one group's results again by posting time (one arrived late)."""
        c = ci_job_results.c
        where = [c.patch_set_id == ps_id, c.ci_system_id == sys_id, c.job == job,
                 c.pipeline.is_(None) if pipeline is None else c.pipeline == pipeline]
        rows = conn.execute(select(c.id, c.attempt, c.posted_at).where(*where)
                            .order_by(c.posted_at, c.comment_id, c.position, c.id)).all()
        changed = [{"i": row.id, "a": n} for n, row in enumerate(rows, 1) if row.attempt != n]
        for row in rows:  # flips and comment-less reports follow the attempts
            self.touch(sys_id, row.posted_at)
        if changed:
            conn.execute(update(ci_job_results).where(c.id == bindparam("i"))
                         .values(attempt=bindparam("a")), changed)
        groups = self._attempts.get(ps_id)
        if groups is not None and rows:
            groups[(sys_id, pipeline, job)] = (len(rows), max(parse_db_time(r.posted_at)
                                                              for r in rows))
