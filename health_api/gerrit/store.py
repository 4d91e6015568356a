"""Store Gerrit events (stream or REST) as CI verdict rows, idempotently.

Mapping (DESIGN.md section 3):

* ``patchset-created`` -> ``changes`` and ``patch_sets``;
* ``comment-added`` by a CI account -> ``ci_systems``, ``ci_comments`` and
  ``ci_job_results`` through ``parse_comment``. An account is a CI when it
  is declared in ``etc/ci-systems.yaml``, is already in ``ci_systems``, or
  the comment parses as a CI report or carries a non-zero ``Verified`` vote.
  A CI comment no format recognises is stored with ``parsed = false``.
  Other accounts' comments are counted (``non_ci_comments``) and not stored;
* ``change-abandoned`` / ``change-merged`` / ``change-restored`` -> the
  change's status (a later status never loses to an earlier one);
* events without a change number (or, for patch set and comment events, a
  patch set number or an author) are counted as ``skipped_missing``.

Idempotency comes from unique keys and insert-ignore: ``changes.number``,
``patch_sets(change_id, number)``, ``ci_systems.username``,
``ci_comments.comment_key`` and ``ci_job_results(comment_id, position)``.

**The comment key.** A comment reaches us twice when the stream and a REST
backfill overlap: as a stream ``comment-added`` (author username,
``eventCreatedOn``, ``comment``) and as a REST change message (Gerrit
message id, author, ``date``, ``message``). The two share no id, so the key
is what they do share: ``sha256(change number, patch set number, author
username, posted time truncated to the second, the text with CRLF turned
into LF and trailing whitespace removed)``. Gerrit writes the message and
the event in the same request, so both carry the same second. A REST
message whose author has no username (DETAILED_ACCOUNTS missing) is keyed
by the username that ``ci-systems.yaml`` or ``ci_systems`` gives its
account id, else ``account-<id>``. The REST message id is kept in
``message_id`` when the REST copy is seen.

**Attempts.** Every job result is kept. ``attempt`` numbers the results of
one (CI system, pipeline, patch set, job) by posting time from 1; the
highest is current. New results normally arrive in time order and take the
next number from a per-patch-set cache; one that arrives earlier than a
stored one (a backfill filling a gap) renumbers its group.

Writes go in chunks, one transaction each, with the driver-speed helpers of
``health_api.db.bulk``. If a chunk fails on bad data, its events are
retried one by one and only the failing ones are counted (``failed``) and
logged; a database that is unreachable raises.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import Connection, Engine, and_, bindparam, func, or_, select, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from ..db import bulk
from ..db.models import (ci_comments, ci_job_results, ci_systems, changes,
                         collector_state, patch_sets)
from .comments import parse_comment
from .events import (Account, Approval, Change, ChangeAbandoned, ChangeMerged,
                     ChangeRestored, CommentAdded, DroppedOutput, Event,
                     EventParseError, PatchSet, PatchsetCreated, parse_event)
from .systems import CiSystemConfig

__all__ = ["GerritStore", "StoreStats", "comment_key", "LAST_EVENT_KEY"]

log = logging.getLogger(__name__)

UTC = dt.timezone.utc
LAST_EVENT_KEY = "stream.last_event_at"
DEFAULT_CHUNK = 2000
_IN_BATCH = 900
_INT_MAX = 2**31 - 1
#: MEDIUMTEXT holds 16 MiB; 4 bytes per character at worst
_RAW_TEXT_MAX = 4_000_000
_CACHE_MAX = 200_000
_STATUS_BY_EVENT = {ChangeAbandoned: "ABANDONED", ChangeMerged: "MERGED",
                    ChangeRestored: "NEW"}


@dataclass
class StoreStats:
    events: int = 0
    patch_sets: int = 0          # new patch set rows
    comments: int = 0            # new CI comment rows
    job_results: int = 0         # new job result rows
    unparsed_comments: int = 0   # new CI comments stored with parsed = false
    duplicate_comments: int = 0  # CI comments already stored
    non_ci_comments: int = 0     # comments by accounts that are not CIs
    status_changes: int = 0
    skipped_missing: int = 0     # no change / patch set / author
    other_events: int = 0
    dropped_output: int = 0
    malformed: int = 0           # lines that are not events
    failed: int = 0              # events that could not be stored (logged)

    def add(self, other: "StoreStats") -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _naive(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _clean(value: Any, limit: int | None = 255) -> str | None:
    """Text every driver accepts: no NUL (PostgreSQL), no lone surrogates, bounded."""
    if not isinstance(value, str):
        return None
    if limit is not None and len(value) > limit:
        value = value[:limit]
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _normalise_text(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.rstrip()


def comment_key(change_number: int, patch_set_number: int, username: str,
                posted_at: dt.datetime, text: str | None) -> str:
    """The idempotency key of one comment (see the module docstring)."""
    posted = _naive(posted_at).replace(microsecond=0).isoformat()
    body = _normalise_text(text or "")
    digest = hashlib.sha256()
    digest.update(f"{change_number}\x00{patch_set_number}\x00{username}\x00{posted}\x00"
                  .encode("utf-8", "surrogatepass"))
    digest.update(body.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _parse_db_time(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def parse_rest_time(value: Any) -> dt.datetime | None:
    """Gerrit REST timestamps: ``2026-10-01 12:00:00.000000000`` (UTC), naive UTC."""
    if not isinstance(value, str) or len(value) < 19:
        return None
    try:
        return dt.datetime.strptime(value[:19], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


# -- one chunk's worth of rows -------------------------------------------------


@dataclass(slots=True)
class _Comment:
    change: int
    patch_set: int
    username: str
    account_id: int | None
    name: str | None
    posted_at: dt.datetime
    text: str
    approvals: tuple[Approval, ...]
    message_id: str | None


@dataclass
class _Batch:
    changes: dict[int, tuple] = field(default_factory=dict)
    patch_sets: dict[tuple[int, int], tuple] = field(default_factory=dict)
    comments: list[_Comment] = field(default_factory=list)
    statuses: list[tuple[int, str, dt.datetime | None]] = field(default_factory=list)
    last_event_at: dt.datetime | None = None

    def empty(self) -> bool:
        return not (self.changes or self.patch_sets or self.comments or self.statuses)


class _Lru(OrderedDict):
    def __init__(self, limit: int = _CACHE_MAX):
        super().__init__()
        self.limit = limit

    def put(self, key, value) -> None:
        self[key] = value
        if len(self) > self.limit:
            self.popitem(last=False)


# -- the store -----------------------------------------------------------------


class GerritStore:
    """Writes events into the CI tables of ``engine``.

    One instance per process part (listener, replay, backfill); it caches
    row ids, which stay valid because rows are never deleted underneath it
    (``replay --reset`` makes a new store).
    """

    def __init__(self, engine: Engine, ci_systems: Mapping[str, CiSystemConfig] | None = None,
                 *, chunk_size: int = DEFAULT_CHUNK):
        self.engine = engine
        self.declared: dict[str, CiSystemConfig] = dict(ci_systems or {})
        self.username_by_account = {cfg.account_id: name for name, cfg in self.declared.items()
                                    if cfg.account_id is not None}
        self.chunk_size = chunk_size
        self._reset_caches()

    def _reset_caches(self) -> None:
        self._change_ids: _Lru = _Lru()
        self._ps_ids: _Lru = _Lru()
        self._attempts: _Lru = _Lru(50_000)  # patch_set_id -> {(sys, pipeline, job): (n, last)}
        self._systems: dict[str, list] | None = None  # username -> [id, first, last]
        self._last_event_at: dt.datetime | None = None
        self._last_event_loaded = False

    # -- public API ------------------------------------------------------------

    def ingest_lines(self, lines: Iterable[str | bytes]) -> StoreStats:
        """Parse and store stream-events lines; malformed ones are counted and logged."""
        stats = StoreStats()
        events: list[Event] = []
        for line in lines:
            try:
                events.append(parse_event(line))
            except EventParseError as exc:
                stats.malformed += 1
                log.warning("skipping a stream line that is not an event: %s", exc.message)
            if len(events) >= self.chunk_size:
                stats.add(self.store_batch(events))
                events = []
        if events:
            stats.add(self.store_batch(events))
        return stats

    def store_events(self, events: Iterable[Event]) -> StoreStats:
        """Store typed events in chunks of ``chunk_size``, one transaction per chunk."""
        stats = StoreStats()
        chunk: list[Event] = []
        for event in events:
            chunk.append(event)
            if len(chunk) >= self.chunk_size:
                stats.add(self.store_batch(chunk))
                chunk = []
        if chunk:
            stats.add(self.store_batch(chunk))
        return stats

    def store_batch(self, events: Sequence[Event],
                    state: Mapping[str, str] | None = None) -> StoreStats:
        """Store events in one transaction (with ``state`` key/values, e.g. a
        journal checkpoint). Bad data isolates to the failing events."""
        return self._store_safely(lambda batch, stats: self._collect_events(events, batch, stats),
                                  len(events), state,
                                  lambda: [self.store_batch([e]) for e in events])

    def store_rest_changes(self, rest_changes: Sequence[Mapping[str, Any]],
                           since: dt.datetime | None = None) -> StoreStats:
        """Store REST ``ChangeInfo`` objects (with MESSAGES, DETAILED_ACCOUNTS and
        ALL_REVISIONS): their patch sets, status, and the messages posted at
        or after ``since``, as the same rows the stream events give."""
        return self._store_safely(
            lambda batch, stats: self._collect_rest(rest_changes, batch, stats, _naive(since)),
            len(rest_changes), None,
            lambda: [self.store_rest_changes([c], since) for c in rest_changes])

    def last_event_time(self) -> dt.datetime | None:
        """The newest stored event time (naive UTC): the REST backfill window start."""
        with self.engine.connect() as conn:
            value = conn.execute(select(collector_state.c.value).where(
                collector_state.c.key == LAST_EVENT_KEY)).scalar()
            if value:
                return dt.datetime.fromisoformat(value)
            candidates = [conn.execute(select(func.max(ci_comments.c.posted_at))).scalar(),
                          conn.execute(select(func.max(patch_sets.c.created_on))).scalar()]
        candidates = [_parse_db_time(c) for c in candidates if c is not None]
        return max(candidates) if candidates else None

    def get_state(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(collector_state.c.value).where(
                collector_state.c.key == key)).scalar()

    # -- transaction handling ------------------------------------------------------

    def _store_safely(self, collect, size: int, state, one_by_one) -> StoreStats:
        stats = StoreStats()
        try:
            with self.engine.begin() as conn:
                batch = _Batch()
                collect(batch, stats)
                self._write(conn, batch, stats)
                self._write_state(conn, batch, state)
            return stats
        except (OperationalError, InterfaceError):
            self._reset_caches()
            raise  # the database itself is the problem: let the caller retry
        except (DBAPIError, ValueError, TypeError, OverflowError, KeyError) as exc:
            self._reset_caches()
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if size <= 1:
                log.error("could not store an event: %s", reason[:300])
                return StoreStats(events=1, failed=1)
            log.warning("a chunk failed (%s); storing its items one by one", reason[:300])
            total = StoreStats()
            parts = one_by_one()
            for part in parts:
                total.add(part)
            if state:  # the checkpoint goes with the last item
                with self.engine.begin() as conn:
                    self._write_state(conn, _Batch(), state)
            return total

    # -- collecting rows from events ---------------------------------------------------

    def _collect_events(self, events: Sequence[Event], batch: _Batch, stats: StoreStats) -> None:
        for event in events:
            stats.events += 1
            created = _naive(event.event_created_on)
            if isinstance(event, CommentAdded):
                author = event.author
                username = self._username(author)
                ps = event.patch_set
                posted = created or (_naive(ps.created_on) if ps is not None else None)
                if (username is None or posted is None
                        or not self._collect_change(batch, event.change, ps)):
                    stats.skipped_missing += 1
                    continue
                batch.comments.append(_Comment(
                    event.change.number, event.patch_set.number, username, author.account_id,
                    author.name, posted, event.comment or "", event.approvals, None))
            elif isinstance(event, PatchsetCreated):
                if not self._collect_change(batch, event.change, event.patch_set):
                    stats.skipped_missing += 1
                    continue
            elif type(event) in _STATUS_BY_EVENT:
                change = event.change
                if change is None or change.number is None:
                    stats.skipped_missing += 1
                    continue
                ps = event.patch_set
                self._collect_change(batch, change, ps if ps and ps.number is not None else None,
                                     need_patch_set=False)
                batch.statuses.append((change.number, _STATUS_BY_EVENT[type(event)], created))
            elif isinstance(event, DroppedOutput):
                stats.dropped_output += 1
                continue
            else:
                stats.other_events += 1
                continue
            if created is not None and (batch.last_event_at is None or created > batch.last_event_at):
                batch.last_event_at = created

    @staticmethod
    def _collect_change(batch: _Batch, change: Change | None, ps: PatchSet | None,
                        need_patch_set: bool = True) -> bool:
        if change is None or change.number is None:
            return False
        if need_patch_set and (ps is None or ps.number is None):
            return False
        if change.number not in batch.changes:
            batch.changes[change.number] = (
                _clean(change.project), _clean(change.branch), _clean(change.change_id, 64),
                _clean(change.subject, 512), _clean(change.status, 32))
        if ps is not None and ps.number is not None:
            key = (change.number, ps.number)
            if key not in batch.patch_sets:
                uploader = ps.uploader.username or ps.uploader.name if ps.uploader else None
                batch.patch_sets[key] = (_clean(ps.revision, 64), _naive(ps.created_on),
                                         _clean(uploader), _clean(ps.kind, 32))
        return True

    def _username(self, author: Account | None) -> str | None:
        if author is None:
            return None
        if author.username:
            return author.username
        if author.account_id is not None:
            return self.username_by_account.get(author.account_id, f"account-{author.account_id}")
        return None

    def _collect_rest(self, rest_changes, batch: _Batch, stats: StoreStats,
                      since: dt.datetime | None) -> None:
        for info in rest_changes:
            if not isinstance(info, Mapping):
                stats.skipped_missing += 1
                continue
            number = info.get("_number")
            if not isinstance(number, int):
                stats.skipped_missing += 1
                continue
            change = Change(project=info.get("project"), branch=info.get("branch"),
                            number=number, change_id=info.get("change_id"),
                            subject=info.get("subject"), status=info.get("status"))
            self._collect_change(batch, change, None, need_patch_set=False)
            revisions = info.get("revisions")
            for revision, rev in (revisions.items() if isinstance(revisions, Mapping) else ()):
                if not isinstance(rev, Mapping) or not isinstance(rev.get("_number"), int):
                    continue
                uploader = rev.get("uploader") if isinstance(rev.get("uploader"), Mapping) else {}
                created = parse_rest_time(rev.get("created"))
                self._collect_change(batch, change, PatchSet(
                    number=rev["_number"], revision=revision,
                    created_on=created.replace(tzinfo=UTC) if created else None,
                    uploader=Account(username=uploader.get("username"), name=uploader.get("name")),
                    kind=rev.get("kind")))
                stats.events += 1
            status = info.get("status")
            if status in ("NEW", "MERGED", "ABANDONED"):
                batch.statuses.append((number, status, parse_rest_time(info.get("updated"))))
            for message in info.get("messages") or ():
                if not isinstance(message, Mapping):
                    continue
                stats.events += 1
                posted = parse_rest_time(message.get("date"))
                ps_number = message.get("_revision_number")
                author = message.get("author")
                if posted is None or not isinstance(ps_number, int) or not isinstance(author, Mapping):
                    stats.skipped_missing += 1  # e.g. Gerrit's own "Uploaded patch set 2."
                    continue
                if since is not None and posted < since:
                    continue
                account_id = author.get("_account_id")
                account = Account(account_id=account_id if isinstance(account_id, int) else None,
                                  username=author.get("username") or None,
                                  name=author.get("name"))
                username = self._username(account)
                if username is None:
                    stats.skipped_missing += 1
                    continue
                self._collect_change(batch, change, PatchSet(number=ps_number))
                text = message.get("message") if isinstance(message.get("message"), str) else ""
                batch.comments.append(_Comment(number, ps_number, username, account.account_id,
                                               account.name, posted, text, (),
                                               _clean(str(message.get("id") or ""), 255) or None))
                if batch.last_event_at is None or posted > batch.last_event_at:
                    batch.last_event_at = posted

    # -- writing -----------------------------------------------------------------------

    def _write(self, conn: Connection, batch: _Batch, stats: StoreStats) -> None:
        if batch.empty():
            return
        change_ids = self._ensure_changes(conn, batch)
        ps_ids, new_ps = self._ensure_patch_sets(conn, batch, change_ids, stats)
        if batch.comments:
            self._write_comments(conn, batch, ps_ids, new_ps, stats)
        if batch.statuses:
            self._write_statuses(conn, batch, stats)

    def _fetch_in(self, conn: Connection, sql: str, column: str, values: list,
                  suffix: str = "") -> list[tuple]:
        """``sql WHERE column IN values suffix`` at driver speed (values: ints or strings)."""
        if not values:
            return []
        name = conn.dialect.name
        if name == "postgresql":
            return conn.exec_driver_sql(f"{sql} WHERE {column} = ANY(%s){suffix}",
                                        (values,)).fetchall()
        mark = "?" if name == "sqlite" else "%s"
        rows: list[tuple] = []
        for start in range(0, len(values), _IN_BATCH):
            part = values[start:start + _IN_BATCH]
            rows.extend(conn.exec_driver_sql(
                f"{sql} WHERE {column} IN ({', '.join([mark] * len(part))}){suffix}",
                tuple(part)).fetchall())
        return rows

    def _ensure_changes(self, conn: Connection, batch: _Batch) -> dict[int, int]:
        ids = {}
        missing = []
        for number in batch.changes:
            cached = self._change_ids.get(number)
            if cached is None:
                missing.append(number)
            else:
                ids[number] = cached
        if missing:
            rows = [(number, *batch.changes[number]) for number in missing]
            bulk.insert_ignore_rows(conn, changes, ("number", "project", "branch", "change_key",
                                                    "subject", "status"), ("number",), rows)
            for row_id, number in self._fetch_in(conn, "SELECT id, number FROM changes",
                                                 "number", missing):
                ids[number] = row_id
                self._change_ids.put(number, row_id)
        return ids

    def _ensure_patch_sets(self, conn: Connection, batch: _Batch, change_ids: dict[int, int],
                           stats: StoreStats) -> tuple[dict[tuple[int, int], int], set[int]]:
        ids: dict[tuple[int, int], int] = {}
        missing = []
        for key in batch.patch_sets:
            cached = self._ps_ids.get(key)
            if cached is None:
                missing.append(key)
            else:
                ids[key] = cached
        new: set[int] = set()
        if not missing:
            return ids, new
        by_change = {change_ids[c]: c for c, _ in missing}
        sql = "SELECT id, change_id, number FROM patch_sets"

        def lookup() -> None:
            for row_id, change_id, number in self._fetch_in(conn, sql, "change_id", list(by_change)):
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

    def _load_systems(self, conn: Connection) -> dict[str, list]:
        if self._systems is None:
            systems = {}
            for row_id, username, first, last in conn.exec_driver_sql(
                    "SELECT id, username, first_seen, last_seen FROM ci_systems"):
                systems[username] = [row_id, _parse_db_time(first), _parse_db_time(last)]
            self._systems = systems
            self._ensure_declared(conn)
        return self._systems

    def _ensure_declared(self, conn: Connection) -> None:
        if not self.declared:
            return
        rows = [(name, cfg.account_id, _clean(cfg.display_name), True)
                for name, cfg in self.declared.items()]
        bulk.insert_ignore_rows(conn, ci_systems, ("username", "account_id", "display_name",
                                                   "declared"), ("username",), rows)
        conn.execute(update(ci_systems).where(ci_systems.c.username == bindparam("u")).values(
            declared=True, display_name=bindparam("d")),
            [{"u": name, "d": _clean(cfg.display_name)} for name, cfg in self.declared.items()])
        with_ids = [{"u": name, "a": cfg.account_id} for name, cfg in self.declared.items()
                    if cfg.account_id is not None]
        if with_ids:
            conn.execute(update(ci_systems).where(and_(
                ci_systems.c.username == bindparam("u"), ci_systems.c.account_id.is_(None))).values(
                account_id=bindparam("a")), with_ids)
        for row_id, username, first, last in self._fetch_in(
                conn, "SELECT id, username, first_seen, last_seen FROM ci_systems", "username",
                list(self.declared)):
            self._systems[username] = [row_id, _parse_db_time(first), _parse_db_time(last)]

    def _write_comments(self, conn: Connection, batch: _Batch, ps_ids, new_ps: set[int],
                        stats: StoreStats) -> None:
        systems = self._load_systems(conn)
        declared = self.declared
        keyed: dict[str, tuple] = {}
        discovered: set[str] = set()
        for comment in batch.comments:
            cfg = declared.get(comment.username)
            parsed = parse_comment(comment.text, comment.approvals,
                                   cfg.overrides if cfg is not None else None)
            if cfg is None and comment.username not in systems and comment.username not in discovered:
                if not parsed.parsed and not parsed.votes.get("Verified"):
                    stats.non_ci_comments += 1
                    continue
                discovered.add(comment.username)
            key = comment_key(comment.change, comment.patch_set, comment.username,
                              comment.posted_at, comment.text)
            if key in keyed:
                stats.duplicate_comments += 1
                continue
            keyed[key] = (comment, parsed)
        if not keyed:
            return
        existing = {k for (k,) in self._fetch_in(
            conn, "SELECT comment_key FROM ci_comments", "comment_key", list(keyed))}
        if existing:
            stats.duplicate_comments += len(existing)
            updates = [{"k": k, "m": keyed[k][0].message_id} for k in existing
                       if keyed[k][0].message_id]
            if updates:
                conn.execute(update(ci_comments).where(and_(
                    ci_comments.c.comment_key == bindparam("k"),
                    ci_comments.c.message_id.is_(None))).values(message_id=bindparam("m")),
                    updates)
        fresh = [(k, v[0], v[1]) for k, v in keyed.items() if k not in existing]
        if not fresh:
            return
        fresh.sort(key=lambda item: item[1].posted_at)
        self._ensure_systems(conn, fresh)

        rows = []
        for key, comment, parsed in fresh:
            system_id = systems[comment.username][0]
            rows.append((key, comment.message_id, ps_ids[(comment.change, comment.patch_set)],
                         system_id, batch.changes[comment.change][0], comment.posted_at,
                         _clean(parsed.pipeline), _clean(parsed.overall, 32),
                         json.dumps(parsed.votes, sort_keys=True) if parsed.votes else None,
                         _clean(comment.text, _RAW_TEXT_MAX), bool(parsed.parsed)))
        bulk.insert_ignore_rows(conn, ci_comments, (
            "comment_key", "message_id", "patch_set_id", "ci_system_id", "project", "posted_at",
            "pipeline", "overall", "votes", "raw_text", "parsed"), ("comment_key",), rows)
        comment_ids = dict((k, i) for i, k in self._fetch_in(
            conn, "SELECT id, comment_key FROM ci_comments", "comment_key", [r[0] for r in rows]))
        stats.comments += len(rows)
        stats.unparsed_comments += sum(1 for r in rows if not r[-1])
        self._write_jobs(conn, fresh, rows, comment_ids, new_ps, stats)

    def _ensure_systems(self, conn: Connection, fresh: list) -> None:
        systems = self._systems
        seen: dict[str, list] = {}
        for _key, comment, _parsed in fresh:
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
                rows.append((name, comment.account_id, _clean(comment.name) or name, first, last,
                             False))
            bulk.insert_ignore_rows(conn, ci_systems, (
                "username", "account_id", "display_name", "first_seen", "last_seen", "declared"),
                ("username",), rows)
            for row_id, username, first, last in self._fetch_in(
                    conn, "SELECT id, username, first_seen, last_seen FROM ci_systems",
                    "username", new):
                systems[username] = [row_id, _parse_db_time(first), _parse_db_time(last)]
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

    def _write_jobs(self, conn: Connection, fresh, rows, comment_ids, new_ps: set[int],
                    stats: StoreStats) -> None:
        attempts = self._attempts
        to_load = {row[2] for row, (_, _, parsed) in zip(rows, fresh)
                   if parsed.jobs and row[2] not in attempts and row[2] not in new_ps}
        for ps_id in new_ps:
            if ps_id not in attempts:
                attempts.put(ps_id, {})
        if to_load:
            loaded: dict[int, dict] = {ps_id: {} for ps_id in to_load}
            for ps_id, sys_id, pipeline, job, count, last in self._fetch_in(
                    conn, "SELECT patch_set_id, ci_system_id, pipeline, job, COUNT(*), "
                          "MAX(posted_at) FROM ci_job_results", "patch_set_id", list(to_load),
                    " GROUP BY patch_set_id, ci_system_id, pipeline, job"):
                loaded[ps_id][(sys_id, pipeline, job)] = (count, _parse_db_time(last))
            for ps_id, groups in loaded.items():
                attempts.put(ps_id, groups)
        job_rows = []
        renumber: set[tuple] = set()
        for (key, comment, parsed), row in zip(fresh, rows):
            if not parsed.jobs:
                continue
            comment_id = comment_ids.get(key)
            if comment_id is None:
                continue
            ps_id, sys_id, pipeline, posted = row[2], row[3], row[6], row[5]
            groups = attempts.get(ps_id)
            if groups is None:
                groups = {}
                attempts.put(ps_id, groups)
            # job fields are slices of the comment text: clean them one by one only
            # when the text needs it (non-ASCII or NUL), else just bound their lengths
            plain = comment.text.isascii() and "\x00" not in comment.text
            for position, job in enumerate(parsed.jobs):
                if plain:
                    name, result, url, detail = job.name[:255], job.result[:32], job.url, job.detail
                    if url is not None and len(url) > 8192:
                        url = url[:8192]
                    if detail is not None and len(detail) > 255:
                        detail = detail[:255]
                else:
                    name, result = _clean(job.name), _clean(job.result, 32)
                    url, detail = _clean(job.url, 8192), _clean(job.detail)
                group = (sys_id, pipeline, name)
                count, last = groups.get(group, (0, None))
                if last is not None and posted < last:
                    renumber.add((ps_id, sys_id, pipeline, name))
                groups[group] = (count + 1, posted if last is None or posted > last else last)
                duration = job.duration_seconds
                if duration is not None and not 0 <= duration <= _INT_MAX:
                    duration = None
                job_rows.append((comment_id, position, sys_id, ps_id, pipeline, posted, name,
                                 result, url, duration, bool(job.voting), count + 1, detail))
        bulk.insert_ignore_rows(conn, ci_job_results, (
            "comment_id", "position", "ci_system_id", "patch_set_id", "pipeline", "posted_at",
            "job", "result", "url", "duration", "voting", "attempt", "detail"),
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
            groups[(sys_id, pipeline, job)] = (len(rows), max(_parse_db_time(r.posted_at)
                                                              for r in rows))

    def _write_statuses(self, conn: Connection, batch: _Batch, stats: StoreStats) -> None:
        c = changes.c
        params = [{"n": number, "s": status, "t": at} for number, status, at in batch.statuses]
        conn.execute(update(changes).where(and_(
            c.number == bindparam("n"),
            or_(c.status_changed_at.is_(None), bindparam("t").is_(None),
                c.status_changed_at <= bindparam("t")))).values(
            status=bindparam("s"), status_changed_at=func.coalesce(
                bindparam("t"), c.status_changed_at)), params)
        stats.status_changes += len(params)  # applied unless a later status is stored

    def _write_state(self, conn: Connection, batch: _Batch, state: Mapping[str, str] | None) -> None:
        values = dict(state or {})
        if batch.last_event_at is not None:
            if not self._last_event_loaded:
                stored = conn.execute(select(collector_state.c.value).where(
                    collector_state.c.key == LAST_EVENT_KEY)).scalar()
                self._last_event_at = dt.datetime.fromisoformat(stored) if stored else None
                self._last_event_loaded = True
            if self._last_event_at is None or batch.last_event_at > self._last_event_at:
                self._last_event_at = batch.last_event_at
                values[LAST_EVENT_KEY] = batch.last_event_at.isoformat()
        if not values:
            return
        now = dt.datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        conn.execute(collector_state.delete().where(collector_state.c.key.in_(list(values))))
        conn.execute(collector_state.insert(), [
            {"key": k, "value": v, "updated_at": now} for k, v in values.items()])

