"""Events into a ``Batch`` (docs/design.md section 2):

* ``patchset-created`` -> a change and a patch set;
* ``comment-added`` -> a change, a patch set and a ``CommentRow`` (whether
  its author is a CI is decided when writing: it depends on what is stored);
* ``change-abandoned`` / ``change-merged`` / ``change-restored`` -> a status;
* events without a change number (or, for patch set and comment events, a
  patch set number or an author) are counted as ``skipped_missing``.

Two sources, one set of rows: decoded stream events (``collect_raw_events``:
the listener, the journal replay and the demo all hand over the dicts
Gerrit sent, read here with the lenient coercions of ``fields.py``; no typed
event is built) and REST ``ChangeInfo`` objects (``collect_rest_changes``).
Both add their changes and patch sets through ``_add_change`` and
``_add_patch_set``, so the same change gives the same row values.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping, Sequence

from .fields import approval_votes, lenient_int, naive_utc_time, text_or_none
from .rows import Batch, CiConfig, CommentRow, StoreStats, clean_text, parse_rest_time

__all__ = ["collect_raw_events", "collect_rest_changes"]

_STATUS_BY_TYPE = {"change-abandoned": "ABANDONED", "change-merged": "MERGED",
                   "change-restored": "NEW"}


# -- row values shared by both sources ----------------------------------------------


def _add_change(batch: Batch, number: int, project: Any, branch: Any, change_key: Any,
                subject: Any, status: Any) -> None:
    """The change's row values, from the first event that names it."""
    if number not in batch.changes:
        # clean_text gives None for anything but text
        batch.changes[number] = (clean_text(project), clean_text(branch),
                                 clean_text(change_key, 64), clean_text(subject, 512),
                                 clean_text(status, 32))


def _add_patch_set(batch: Batch, number: int, ps_number: int, revision: Any,
                   created_on: dt.datetime | None, uploader: Any, kind: Any) -> None:
    """The patch set's row values (``uploader``: an account object, whose
    username or else name is stored), from the first event that names it."""
    if (number, ps_number) not in batch.patch_sets:
        if isinstance(uploader, Mapping):
            uploader = (text_or_none(uploader.get("username"))
                        or text_or_none(uploader.get("name")))
        else:
            uploader = None
        batch.patch_sets[(number, ps_number)] = (
            clean_text(revision, 64), created_on, clean_text(uploader), clean_text(kind, 32))


# -- decoded stream events ------------------------------------------------------------


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
        approval_votes(raw.get("approvals")), None))
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
    _add_change(batch, number, change.get("project"), change.get("branch"), change.get("id"),
                change.get("subject"), change.get("status"))
    if ps_number is not None:
        _add_patch_set(batch, number, ps_number, ps.get("revision"),
                       naive_utc_time(ps.get("createdOn")), ps.get("uploader"), ps.get("kind"))
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
        _add_change(batch, number, info.get("project"), info.get("branch"),
                    info.get("change_id"), info.get("subject"), info.get("status"))
        stats.events += _collect_rest_revisions(info.get("revisions"), number, batch)
        status = info.get("status")
        if status in ("NEW", "MERGED", "ABANDONED"):
            batch.statuses.append((number, status, parse_rest_time(info.get("updated"))))
        for message in info.get("messages") or ():
            if isinstance(message, Mapping):
                stats.events += 1
                if not _collect_rest_message(message, number, batch, config, since):
                    stats.skipped_missing += 1


def _collect_rest_revisions(revisions: Any, number: int, batch: Batch) -> int:
    count = 0
    for revision, rev in (revisions.items() if isinstance(revisions, Mapping) else ()):
        if not isinstance(rev, Mapping) or not isinstance(rev.get("_number"), int):
            continue
        _add_patch_set(batch, number, rev["_number"], revision,
                       parse_rest_time(rev.get("created")), rev.get("uploader"), rev.get("kind"))
        count += 1
    return count


def _collect_rest_message(message: Mapping[str, Any], number: int, batch: Batch,
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
    _add_patch_set(batch, number, ps_number, None, None, None, None)
    text = message.get("message") if isinstance(message.get("message"), str) else ""
    batch.comments.append(CommentRow(number, ps_number, username, account_id,
                                     author.get("name"), posted, text, None,
                                     clean_text(str(message.get("id") or ""), 255) or None))
    batch.saw_event_at(posted)
    return True
