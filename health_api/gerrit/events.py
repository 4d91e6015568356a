"""Typed parsing of ``gerrit stream-events`` JSON lines.

Gerrit documents that *any* field may be missing, and older servers send
numbers as strings (``"number": "12345"``, ``"value": "-1"``,
``"createdOn": "1600000000"``) where newer ones send ints. Every coercion
(``fields.py``) is therefore lenient: a field that is absent or of the wrong
shape becomes None rather than an error. Only a line that is not a JSON object
with a string ``type`` raises EventParseError, so the listener can count
and skip it with a one-line log message.

Timestamps are timezone-aware UTC datetimes. Every event keeps the decoded
dict as ``raw`` so nothing Gerrit sent is lost, and ``event_key`` hashes it
into a stable idempotency key.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping, Union

from .fields import approval_fields as _approval_fields
from .fields import lenient_int as _int
from .fields import text_or_none as _text
from .fields import utc_time as _timestamp

__all__ = [
    "Account",
    "Approval",
    "Change",
    "ChangeAbandoned",
    "ChangeMerged",
    "ChangeRestored",
    "CommentAdded",
    "DroppedOutput",
    "Event",
    "EventParseError",
    "OtherEvent",
    "PatchSet",
    "PatchsetCreated",
    "decode_event_line",
    "event_from_dict",
    "event_key",
    "parse_event",
]


class EventParseError(ValueError):
    """A stream line that is not a usable event; the message is one line."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# -- shared sub-records ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Account:
    account_id: int | None = None
    username: str | None = None
    name: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Change:
    project: str | None = None
    branch: str | None = None
    number: int | None = None
    change_id: str | None = None  # the ``I...`` Change-Id (Gerrit's ``id``)
    subject: str | None = None
    status: str | None = None
    url: str | None = None
    owner: Account | None = None


@dataclass(frozen=True, slots=True)
class PatchSet:
    number: int | None = None
    revision: str | None = None
    created_on: dt.datetime | None = None
    uploader: Account | None = None
    kind: str | None = None  # REWORK, TRIVIAL_REBASE, NO_CODE_CHANGE, ...


@dataclass(frozen=True, slots=True)
class Approval:
    label: str  # Gerrit's ``type`` (the label name)
    value: int
    old_value: int | None = None  # only sent when the vote changed


# -- events ------------------------------------------------------------------
# ``raw`` is compared but not hashed (a dict is unhashable) and not shown in
# repr (it repeats everything above it).


@dataclass(frozen=True, slots=True)
class PatchsetCreated:
    type: ClassVar[str] = "patchset-created"
    change: Change | None
    patch_set: PatchSet | None
    uploader: Account | None
    event_created_on: dt.datetime | None
    raw: dict[str, Any] = field(hash=False, repr=False)


@dataclass(frozen=True, slots=True)
class CommentAdded:
    type: ClassVar[str] = "comment-added"
    change: Change | None
    patch_set: PatchSet | None
    author: Account | None
    comment: str | None
    approvals: tuple[Approval, ...]
    event_created_on: dt.datetime | None
    raw: dict[str, Any] = field(hash=False, repr=False)


@dataclass(frozen=True, slots=True)
class ChangeAbandoned:
    type: ClassVar[str] = "change-abandoned"
    change: Change | None
    patch_set: PatchSet | None
    abandoner: Account | None
    reason: str | None
    event_created_on: dt.datetime | None
    raw: dict[str, Any] = field(hash=False, repr=False)


@dataclass(frozen=True, slots=True)
class ChangeMerged:
    type: ClassVar[str] = "change-merged"
    change: Change | None
    patch_set: PatchSet | None
    submitter: Account | None
    new_rev: str | None
    event_created_on: dt.datetime | None
    raw: dict[str, Any] = field(hash=False, repr=False)


@dataclass(frozen=True, slots=True)
class ChangeRestored:
    type: ClassVar[str] = "change-restored"
    change: Change | None
    patch_set: PatchSet | None
    restorer: Account | None
    reason: str | None
    event_created_on: dt.datetime | None
    raw: dict[str, Any] = field(hash=False, repr=False)


@dataclass(frozen=True, slots=True)
class DroppedOutput:
    """Gerrit dropped events because this client read too slowly."""

    type: ClassVar[str] = "dropped-output"
    event_created_on: dt.datetime | None
    raw: dict[str, Any] = field(hash=False, repr=False)


@dataclass(frozen=True, slots=True)
class OtherEvent:
    """Any other event type (ref-updated, reviewer-added, ...), kept raw."""

    type: str
    event_created_on: dt.datetime | None
    raw: dict[str, Any] = field(hash=False, repr=False)


Event = Union[
    PatchsetCreated, CommentAdded, ChangeAbandoned, ChangeMerged,
    ChangeRestored, DroppedOutput, OtherEvent,
]


# -- typed sub-records ------------------------------------------------------


def _account(value: Any) -> Account | None:
    if not isinstance(value, dict):
        return None
    account_id = value.get("accountId")
    if account_id is None:
        account_id = value.get("_account_id")  # REST shape, for shared callers
    return Account(
        account_id=_int(account_id),
        username=_text(value.get("username")),
        name=_text(value.get("name")),
        email=_text(value.get("email")),
    )


def _change(value: Any) -> Change | None:
    if not isinstance(value, dict):
        return None
    return Change(
        project=_text(value.get("project")),
        branch=_text(value.get("branch")),
        number=_int(value.get("number")),
        change_id=_text(value.get("id")),
        subject=_text(value.get("subject")),
        status=_text(value.get("status")),
        url=_text(value.get("url")),
        owner=_account(value.get("owner")),
    )


def _patch_set(value: Any) -> PatchSet | None:
    if not isinstance(value, dict):
        return None
    return PatchSet(
        number=_int(value.get("number")),
        revision=_text(value.get("revision")),
        created_on=_timestamp(value.get("createdOn")),
        uploader=_account(value.get("uploader")),
        kind=_text(value.get("kind")),
    )


def _approval(value: Any) -> Approval | None:
    """One approval, or None when it has no label or no integer value."""
    fields = _approval_fields(value)
    return None if fields is None else Approval(*fields)


def _approvals(value: Any) -> tuple[Approval, ...]:
    if not isinstance(value, list):
        return ()
    parsed = (_approval(item) for item in value)
    return tuple(a for a in parsed if a is not None)


# -- public entry points -----------------------------------------------------


def event_from_dict(raw: dict[str, Any]) -> Event:
    """Type an already decoded event object (see ``parse_event``)."""
    _check_event_object(raw)
    kind = raw["type"]
    created = _timestamp(raw.get("eventCreatedOn"))
    if kind == "comment-added":
        return CommentAdded(
            change=_change(raw.get("change")),
            patch_set=_patch_set(raw.get("patchSet")),
            author=_account(raw.get("author")),
            comment=_text(raw.get("comment")),
            approvals=_approvals(raw.get("approvals")),
            event_created_on=created,
            raw=raw,
        )
    if kind == "patchset-created":
        return PatchsetCreated(
            change=_change(raw.get("change")),
            patch_set=_patch_set(raw.get("patchSet")),
            uploader=_account(raw.get("uploader")),
            event_created_on=created,
            raw=raw,
        )
    if kind == "change-abandoned":
        return ChangeAbandoned(
            change=_change(raw.get("change")),
            patch_set=_patch_set(raw.get("patchSet")),
            abandoner=_account(raw.get("abandoner")),
            reason=_text(raw.get("reason")),
            event_created_on=created,
            raw=raw,
        )
    if kind == "change-merged":
        return ChangeMerged(
            change=_change(raw.get("change")),
            patch_set=_patch_set(raw.get("patchSet")),
            submitter=_account(raw.get("submitter")),
            new_rev=_text(raw.get("newRev")),
            event_created_on=created,
            raw=raw,
        )
    if kind == "change-restored":
        return ChangeRestored(
            change=_change(raw.get("change")),
            patch_set=_patch_set(raw.get("patchSet")),
            restorer=_account(raw.get("restorer")),
            reason=_text(raw.get("reason")),
            event_created_on=created,
            raw=raw,
        )
    if kind == "dropped-output":
        return DroppedOutput(event_created_on=created, raw=raw)
    return OtherEvent(type=kind, event_created_on=created, raw=raw)


def decode_event_line(line: str | bytes) -> dict[str, Any]:
    """The JSON object of one stream-events line, with a string ``type``.

    Raises EventParseError exactly as ``parse_event`` does; the journal
    replay uses it to read events without typing them.
    """
    if isinstance(line, (bytes, bytearray)):
        try:
            line = bytes(line).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EventParseError(f"line is not UTF-8 (byte {exc.start})") from None
    if not isinstance(line, str):
        raise EventParseError(f"expected str or bytes, got {type(line).__name__}")
    try:
        # json skips the whitespace around a value itself: no stripped copy of
        # every line. A failure is redone on the stripped text for the message.
        raw = json.loads(line)
    except (ValueError, RecursionError):
        raw = _decode_stripped(line)
    if type(raw) is not dict or type(raw.get("type")) is not str:
        _check_event_object(raw)
    return raw


def _decode_stripped(line: str) -> Any:
    text = line.strip()
    if not text:
        raise EventParseError("empty line")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventParseError(
            f"malformed JSON at column {exc.colno}: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:  # e.g. absurdly long or deep input
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise EventParseError(f"malformed JSON: {detail}") from None


def _check_event_object(raw: Any) -> None:
    """Raise the EventParseError for a value that is not an event object."""
    if not isinstance(raw, dict):
        raise EventParseError(f"expected a JSON object, got {type(raw).__name__}")
    kind = raw.get("type")
    if kind is None:
        raise EventParseError('event has no "type"')
    if not isinstance(kind, str):
        raise EventParseError(f'event "type" is {type(kind).__name__}, not a string')


def parse_event(line: str | bytes) -> Event:
    """Parse one stream-events line into a typed event.

    Raises EventParseError for undecodable bytes, malformed JSON, a value
    that is not an object, or a missing/non-string ``type``. Known event
    types with a missing ``change`` or ``patchSet`` still parse (those
    fields are None) so the caller decides whether to skip and count them.
    """
    return event_from_dict(decode_event_line(line))


def event_key(event: Event | Mapping[str, Any]) -> str:
    """Stable idempotency key: sha256 hex of the canonical JSON of the raw event.

    Key order and whitespace of the original line do not matter, so the same
    event received twice (reconnect replay, two listeners) maps to one row.
    """
    raw = event if isinstance(event, Mapping) else event.raw
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()
