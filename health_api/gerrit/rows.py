"""What the store writes, before it touches a database: pure and picklable.

Events (stream, REST or journal lines) are first collected into a
``Batch`` (see ``collect.py``); ``prepare_batch`` then parses every comment
and computes its idempotency key and column values, giving a
``PreparedBatch`` that ``writer.py`` turns into rows. Everything here
depends only on the events and the declared CI systems, never on what is
stored, so a journal replay can run it in worker processes.

**The comment key.** A comment reaches us twice when the stream and a REST
backfill overlap: as a stream ``comment-added`` (author username,
``eventCreatedOn``, ``comment``) and as a REST change message (Gerrit
message id, author, ``date``, ``message``). The two share no id, so the key
is what they do share: ``sha256(change number, patch set number, author
username, posted time truncated to the second, the text with CRLF turned
into LF and trailing whitespace removed)``. Gerrit writes the message and
the event in the same request, so both carry the same second. The key is
that second (``YYYYMMDDhhmmss``) followed by the first 50 hex digits of the
digest: comments arrive roughly in time order, so their keys go to the end
of the unique index instead of to a random page of it (a random 64-digit
key rewrote most of that index's pages on every transaction of a large
replay; migration 0004 converted keys stored before). A REST
message whose author has no username (DETAILED_ACCOUNTS missing) is keyed
by the username that ``ci-systems.yaml`` or ``ci_systems`` gives its
account id, else ``account-<id>``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, NamedTuple

from ..verdicts.values import UTC, clean_text, naive_utc, parse_db_time
from .comments import JobResult, parse_comment
from .systems import CiSystemConfig

__all__ = ["Batch", "CiConfig", "CommentRow", "PreparedBatch", "PreparedComment",
           "StoreStats", "clean_text", "comment_key", "naive_utc", "parse_db_time",
           "parse_rest_time", "prepare_batch"]

_INT_MAX = 2**31 - 1
#: MEDIUMTEXT holds 16 MiB; 4 bytes per character at worst
RAW_TEXT_MAX = 4_000_000
#: hex digits of the comment digest kept after the 14-digit time prefix (64 in all)
KEY_DIGEST_CHARS = 50
_URL_MAX = 8192
_VOTES_JSON = json.JSONEncoder(sort_keys=True)  # what json.dumps(sort_keys=True) uses
_votes_json_cache: dict[tuple, str] = {}


@dataclass
class StoreStats:
    events: int = 0
    patch_sets: int = 0          # new patch set rows
    comments: int = 0            # new CI comment rows
    job_results: int = 0         # new job result rows
    unparsed_comments: int = 0   # new CI comments stored with parsed = false
    duplicate_comments: int = 0  # CI comments already stored
    non_ci_comments: int = 0     # comments by accounts that are not CIs
    recheck_requests: int = 0    # new recheck requests (ci_recheck_requests rows)
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


# -- values every driver accepts: health_api.verdicts.values (re-exported) ----------


def parse_rest_time(value: Any) -> dt.datetime | None:
    """Gerrit REST timestamps: ``2026-10-01 12:00:00.000000000`` (UTC), naive UTC."""
    if not isinstance(value, str) or len(value) < 19:
        return None
    try:
        return dt.datetime.strptime(value[:19], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def _normalise_text(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.rstrip()


def comment_key(change_number: int, patch_set_number: int, username: str,
                posted_at: dt.datetime, text: str | None) -> str:
    """The idempotency key of one comment (see the module docstring)."""
    posted = naive_utc(posted_at).replace(microsecond=0).isoformat()
    body = _normalise_text(text or "")
    digest = hashlib.sha256()
    digest.update(f"{change_number}\x00{patch_set_number}\x00{username}\x00{posted}\x00"
                  .encode("utf-8", "surrogatepass"))
    digest.update(body.encode("utf-8", "surrogatepass"))
    # "2026-10-01T12:00:00" -> "20261001120000"
    prefix = posted[0:4] + posted[5:7] + posted[8:10] + posted[11:13] + posted[14:16] \
        + posted[17:19]
    return prefix + digest.hexdigest()[:KEY_DIGEST_CHARS]


# -- collected events ----------------------------------------------------------------


@dataclass(slots=True)
class CommentRow:
    """A comment as collected from an event, before parsing."""

    change: int
    patch_set: int
    username: str
    account_id: int | None
    name: str | None
    posted_at: dt.datetime  # naive UTC
    text: str
    #: the votes of the event's approvals; None: it had none (the text's
    #: "Patch Set 1: Verified+1" header gives them)
    votes: dict[str, int] | None
    message_id: str | None


#: changes row values: (project, branch, change_key, subject, status)
ChangeValues = tuple
#: patch_sets row values: (revision, created_on, uploader, kind)
PatchSetValues = tuple


@dataclass
class Batch:
    """One transaction's worth of collected events, in event order."""

    changes: dict[int, ChangeValues] = field(default_factory=dict)
    patch_sets: dict[tuple[int, int], PatchSetValues] = field(default_factory=dict)
    comments: list[CommentRow] = field(default_factory=list)
    statuses: list[tuple[int, str, dt.datetime | None]] = field(default_factory=list)
    last_event_at: dt.datetime | None = None

    def saw_event_at(self, created: dt.datetime | None) -> None:
        if created is not None and (self.last_event_at is None or created > self.last_event_at):
            self.last_event_at = created


class CiConfig:
    """The declared CI systems, as collecting and preparing need them."""

    def __init__(self, declared: Mapping[str, CiSystemConfig] | None = None):
        self.declared: dict[str, CiSystemConfig] = dict(declared or {})
        self.username_by_account = {cfg.account_id: name for name, cfg in self.declared.items()
                                    if cfg.account_id is not None}

    def username(self, account_id: int | None, username: str | None) -> str | None:
        """The name an author is stored under: the username, else what the
        declared systems give its account id, else ``account-<id>``."""
        if username:
            return username
        if account_id is not None:
            return self.username_by_account.get(account_id, f"account-{account_id}")
        return None


# -- prepared for writing ------------------------------------------------------------------


class PreparedComment(NamedTuple):
    """A parsed comment with its key and cleaned column values."""

    key: str
    change: int
    patch_set: int
    username: str
    account_id: int | None
    name: str | None
    posted_at: dt.datetime
    message_id: str | None
    #: a recognised report or a Verified vote: what makes an unknown account a CI
    ci_evidence: bool
    pipeline: str | None
    overall: str | None
    votes: str | None  # JSON
    raw_text: str | None
    parsed: bool
    #: (position, job, result, url, duration, voting, detail) per job line
    jobs: tuple[tuple, ...]
    #: a recheck request: the CI it names, "" for every CI; None: not one
    recheck: str | None = None

    def __reduce__(self):
        # pickled (to and from replay workers) as a plain tuple and rebuilt
        # without the generated __new__: a third cheaper to load
        return tuple.__new__, (PreparedComment, tuple(self))


@dataclass
class PreparedBatch:
    """A ``Batch`` with its comments parsed: all the writer needs."""

    changes: dict[int, ChangeValues]
    patch_sets: dict[tuple[int, int], PatchSetValues]
    comments: list[PreparedComment]
    statuses: list[tuple[int, str, dt.datetime | None]]
    last_event_at: dt.datetime | None

    def empty(self) -> bool:
        return not (self.changes or self.patch_sets or self.comments or self.statuses)

    def extend(self, later: "PreparedBatch") -> None:
        """Append the batch of the events that follow: the same as having
        collected all of them into one batch (the first values of a change
        or patch set win, as when collecting)."""
        for number, values in later.changes.items():
            self.changes.setdefault(number, values)
        for key, values in later.patch_sets.items():
            self.patch_sets.setdefault(key, values)
        self.comments.extend(later.comments)
        self.statuses.extend(later.statuses)
        if later.last_event_at is not None and (
                self.last_event_at is None or later.last_event_at > self.last_event_at):
            self.last_event_at = later.last_event_at


def _votes_json(votes: dict[str, int]) -> str:
    # nearly every CI comment carries the same one or two votes
    signature = tuple(votes.items())
    text = _votes_json_cache.get(signature)
    if text is None:
        text = _VOTES_JSON.encode(votes)
        if len(_votes_json_cache) >= 4096:
            _votes_json_cache.clear()
        _votes_json_cache[signature] = text
    return text


def _job_values(text: str, jobs: list[JobResult]) -> tuple[tuple, ...]:
    # job fields are slices of the comment text: clean them one by one only
    # when the text needs it (non-ASCII or NUL), else just bound their lengths
    values = []
    plain = text.isascii() and "\x00" not in text
    for position, (name, url, result, duration, voting, detail) in enumerate(jobs):
        if plain:
            name, result = name[:255], result[:32]
            if url is not None and len(url) > _URL_MAX:
                url = url[:_URL_MAX]
            if detail is not None and len(detail) > 255:
                detail = detail[:255]
        else:
            name, result = clean_text(name), clean_text(result, 32)
            url, detail = clean_text(url, _URL_MAX), clean_text(detail)
        if duration is not None and not 0 <= duration <= _INT_MAX:
            duration = None
        values.append((position, name, result, url, duration, bool(voting), detail))
    return tuple(values)


_RECHECK_LINE = re.compile(r"^[ \t]*(?:recheck|reverify)(?![A-Za-z0-9_])[ \t:-]*([^\n]*)",
                           re.MULTILINE | re.IGNORECASE)


def recheck_target(text: str, config: CiConfig) -> str:
    """Which CI a recheck comment asks for: the name after "recheck" when it
    is a declared CI's, a declared CI whose own recheck pattern matches, else
    "" (every CI)."""
    match = _RECHECK_LINE.search(text)
    if match is not None:
        words = match.group(1).split()
        if words and words[0] in config.declared:
            return words[0]
    for name, cfg in config.declared.items():
        pattern = cfg.overrides.recheck_pattern if cfg.overrides is not None else None
        if pattern is not None and pattern.search(text):
            return name
    if match is not None and match.group(1).split():
        return clean_text(match.group(1).split()[0]) or ""
    return ""


def _any_recheck_pattern(text: str, config: CiConfig) -> bool:
    return any(cfg.overrides is not None and cfg.overrides.recheck_pattern is not None
               and cfg.overrides.recheck_pattern.search(text)
               for cfg in config.declared.values())


def prepare_comment(comment: CommentRow, config: CiConfig) -> PreparedComment:
    """Parse a comment (with its CI's formats, if declared) and key it."""
    cfg = config.declared.get(comment.username)
    parsed = parse_comment(comment.text, None, cfg.overrides if cfg is not None else None,
                           votes=comment.votes)
    votes = parsed.votes
    return PreparedComment(
        comment_key(comment.change, comment.patch_set, comment.username, comment.posted_at,
                    comment.text),
        comment.change, comment.patch_set, comment.username, comment.account_id,
        comment.name, comment.posted_at, comment.message_id,
        bool(parsed.parsed or votes.get("Verified")),
        clean_text(parsed.pipeline), clean_text(parsed.overall, 32),
        _votes_json(votes) if votes else None,
        clean_text(comment.text, RAW_TEXT_MAX), bool(parsed.parsed),
        _job_values(comment.text, parsed.jobs),
        recheck_target(comment.text, config)
        if parsed.recheck or (not parsed.parsed and _any_recheck_pattern(comment.text, config))
        else None)


def prepare_batch(batch: Batch, config: CiConfig) -> PreparedBatch:
    """Parse every comment of ``batch``; the rest is carried over as is."""
    return PreparedBatch(batch.changes, batch.patch_sets,
                         [prepare_comment(c, config) for c in batch.comments],
                         batch.statuses, batch.last_event_at)
