"""Events into a ``Batch`` (docs/design.md section 2):

* ``patchset-created`` -> a change and a patch set;
* ``comment-added`` -> a change, a patch set and a ``CommentRow`` (whether
  its author is a CI is decided when writing: it depends on what is stored);
* ``change-abandoned`` / ``change-merged`` / ``change-restored`` -> a status;
* events without a change number (or, for patch set and comment events, a
  patch set number or an author) are counted as ``skipped_missing``.

Three sources give the same batch for the same event: typed events
(``collect_events``, the listener API), raw decoded journal objects
(``collect_raw_events``: the replay fast path, which reads only the fields
stored and builds no typed event) and REST ``ChangeInfo`` objects
(``collect_rest_changes``). A property test holds the first two equal.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping, Sequence

from .comments import approval_votes
from .events import (Account, Change, ChangeAbandoned, ChangeMerged, ChangeRestored,
                     CommentAdded, DroppedOutput, Event, PatchSet, PatchsetCreated)
from .fields import approval_votes as raw_approval_votes
from .fields import lenient_int, naive_utc_time, text_or_none
from .rows import (UTC, Batch, CiConfig, CommentRow, StoreStats, clean_text, naive_utc,
                   parse_rest_time)

__all__ = ["collect_events", "collect_raw_events", "collect_rest_changes"]

_STATUS_BY_EVENT = {ChangeAbandoned: "ABANDONED", ChangeMerged: "MERGED",
                    ChangeRestored: "NEW"}
_STATUS_BY_TYPE = {"change-abandoned": "ABANDONED", "change-merged": "MERGED",
                   "change-restored": "NEW"}


# -- typed events ------------------------------------------------------------------


def collect_events(events: Iterable[Event], batch: Batch, stats: StoreStats,
                   config: CiConfig) -> None:
    for event in events:
        stats.events += 1
        created = naive_utc(event.event_created_on)
        if isinstance(event, CommentAdded):
            author = event.author
            username = (config.username(author.account_id, author.username)
                        if author is not None else None)
            ps = event.patch_set
            posted = created or (naive_utc(ps.created_on) if ps is not None else None)
            if (username is None or posted is None
                    or not _collect_change(batch, event.change, ps)):
                stats.skipped_missing += 1
                continue
            batch.comments.append(CommentRow(
                event.change.number, ps.number, username, author.account_id,
                author.name, posted, event.comment or "", approval_votes(event.approvals), None))
        elif isinstance(event, PatchsetCreated):
            if not _collect_change(batch, event.change, event.patch_set):
                stats.skipped_missing += 1
                continue
        elif type(event) in _STATUS_BY_EVENT:
            change = event.change
            if change is None or change.number is None:
                stats.skipped_missing += 1
                continue
            ps = event.patch_set
            _collect_change(batch, change, ps if ps and ps.number is not None else None,
                            need_patch_set=False)
            batch.statuses.append((change.number, _STATUS_BY_EVENT[type(event)], created))
        elif isinstance(event, DroppedOutput):
            stats.dropped_output += 1
            continue
        else:
            stats.other_events += 1
            continue
        batch.saw_event_at(created)


def _collect_change(batch: Batch, change: Change | None, ps: PatchSet | None,
                    need_patch_set: bool = True) -> bool:
    if change is None or change.number is None:
        return False
    if need_patch_set and (ps is None or ps.number is None):
        return False
    if change.number not in batch.changes:
        batch.changes[change.number] = (
            clean_text(change.project), clean_text(change.branch),
            clean_text(change.change_id, 64), clean_text(change.subject, 512),
            clean_text(change.status, 32))
    if ps is not None and ps.number is not None:
        key = (change.number, ps.number)
        if key not in batch.patch_sets:
            uploader = ps.uploader.username or ps.uploader.name if ps.uploader else None
            batch.patch_sets[key] = (clean_text(ps.revision, 64), naive_utc(ps.created_on),
                                     clean_text(uploader), clean_text(ps.kind, 32))
    return True


# -- raw journal objects -----------------------------------------------------------
# The same decisions as above, read straight from the decoded JSON with the
# lenient coercions of events.py: ``_int`` for numbers, str-or-None for text.


def collect_raw_events(raws: Iterable[dict[str, Any]], batch: Batch, stats: StoreStats,
                       config: CiConfig) -> None:
    """Collect decoded journal objects (each a dict with a string ``type``,
    as ``events.decode_event_line`` returns them)."""
    for raw in raws:
        stats.events += 1
        kind = raw["type"]
        if kind == "comment-added":
            created = naive_utc_time(raw.get("eventCreatedOn"))
            if not _collect_raw_comment(raw, created, batch, config):
                stats.skipped_missing += 1
                continue
        elif kind == "patchset-created":
            created = naive_utc_time(raw.get("eventCreatedOn"))
            number, ps_number = _collect_raw_change(batch, raw.get("change"),
                                                    raw.get("patchSet"))
            if number is None or ps_number is None:
                stats.skipped_missing += 1
                continue
        elif kind in _STATUS_BY_TYPE:
            created = naive_utc_time(raw.get("eventCreatedOn"))
            number, _ = _collect_raw_change(batch, raw.get("change"), raw.get("patchSet"),
                                            need_patch_set=False)
            if number is None:
                stats.skipped_missing += 1
                continue
            batch.statuses.append((number, _STATUS_BY_TYPE[kind], created))
        elif kind == "dropped-output":
            stats.dropped_output += 1
            continue
        else:
            stats.other_events += 1
            continue
        batch.saw_event_at(created)


def _collect_raw_comment(raw: dict[str, Any], created: dt.datetime | None, batch: Batch,
                         config: CiConfig) -> bool:
    author = raw.get("author")
    if not isinstance(author, dict):
        return False
    account_id = author.get("accountId")
    if account_id is None:
        account_id = author.get("_account_id")
    account_id = lenient_int(account_id)
    username = config.username(account_id, text_or_none(author.get("username")))
    ps = raw.get("patchSet")
    posted = created
    if posted is None and isinstance(ps, dict):
        posted = naive_utc_time(ps.get("createdOn"))
    if username is None or posted is None:
        return False
    number, ps_number = _collect_raw_change(batch, raw.get("change"), ps)
    if number is None or ps_number is None:
        return False
    comment = raw.get("comment")
    batch.comments.append(CommentRow(
        number, ps_number, username, account_id, text_or_none(author.get("name")), posted,
        comment if isinstance(comment, str) and comment else "",
        raw_approval_votes(raw.get("approvals")), None))
    return True


def _collect_raw_change(batch: Batch, change: Any, ps: Any, need_patch_set: bool = True
                        ) -> tuple[int | None, int | None]:
    """Add the change and patch set of an event; their numbers (None if
    missing: then nothing is added, unless the patch set is not needed)."""
    if not isinstance(change, dict):
        return None, None
    number = lenient_int(change.get("number"))
    if number is None:
        return None, None
    ps_number = lenient_int(ps.get("number")) if isinstance(ps, dict) else None
    if ps_number is None and need_patch_set:
        return number, None
    if number not in batch.changes:
        batch.changes[number] = (
            clean_text(change.get("project")), clean_text(change.get("branch")),
            clean_text(change.get("id"), 64), clean_text(change.get("subject"), 512),
            clean_text(change.get("status"), 32))
    if ps_number is not None and (number, ps_number) not in batch.patch_sets:
        uploader = ps.get("uploader")
        if isinstance(uploader, dict):
            uploader = text_or_none(uploader.get("username")) or text_or_none(uploader.get("name"))
        else:
            uploader = None
        batch.patch_sets[(number, ps_number)] = (
            clean_text(ps.get("revision"), 64), naive_utc_time(ps.get("createdOn")),
            clean_text(uploader), clean_text(ps.get("kind"), 32))
    return number, ps_number


# -- REST ChangeInfo ---------------------------------------------------------------


def collect_rest_changes(rest_changes: Sequence[Any], batch: Batch, stats: StoreStats,
                         config: CiConfig, since: dt.datetime | None) -> None:
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
        _collect_change(batch, change, None, need_patch_set=False)
        stats.events += _collect_rest_revisions(info.get("revisions"), change, batch)
        status = info.get("status")
        if status in ("NEW", "MERGED", "ABANDONED"):
            batch.statuses.append((number, status, parse_rest_time(info.get("updated"))))
        for message in info.get("messages") or ():
            if isinstance(message, Mapping):
                stats.events += 1
                if not _collect_rest_message(message, change, batch, config, since):
                    stats.skipped_missing += 1


def _collect_rest_revisions(revisions: Any, change: Change, batch: Batch) -> int:
    count = 0
    for revision, rev in (revisions.items() if isinstance(revisions, Mapping) else ()):
        if not isinstance(rev, Mapping) or not isinstance(rev.get("_number"), int):
            continue
        uploader = rev.get("uploader") if isinstance(rev.get("uploader"), Mapping) else {}
        created = parse_rest_time(rev.get("created"))
        _collect_change(batch, change, PatchSet(
            number=rev["_number"], revision=revision,
            created_on=created.replace(tzinfo=UTC) if created else None,
            uploader=Account(username=uploader.get("username"), name=uploader.get("name")),
            kind=rev.get("kind")))
        count += 1
    return count


def _collect_rest_message(message: Mapping[str, Any], change: Change, batch: Batch,
                          config: CiConfig, since: dt.datetime | None) -> bool:
    """Add one change message; False when it lacks what a comment needs."""
    posted = parse_rest_time(message.get("date"))
    ps_number = message.get("_revision_number")
    author = message.get("author")
    if posted is None or not isinstance(ps_number, int) or not isinstance(author, Mapping):
        return False  # e.g. Gerrit's own "Uploaded patch set 2."
    if since is not None and posted < since:
        return True
    account_id = author.get("_account_id")
    account_id = account_id if isinstance(account_id, int) else None
    username = config.username(account_id, author.get("username") or None)
    if username is None:
        return False
    _collect_change(batch, change, PatchSet(number=ps_number))
    text = message.get("message") if isinstance(message.get("message"), str) else ""
    batch.comments.append(CommentRow(change.number, ps_number, username, account_id,
                                     author.get("name"), posted, text, None,
                                     clean_text(str(message.get("id") or ""), 255) or None))
    batch.saw_event_at(posted)
    return True
