"""Decoding ``gerrit stream-events`` JSON lines, and their idempotency key.

Every source of events (the SSH listener, the journal replay, the demo)
hands the store decoded event dicts: there is no typed event. Gerrit
documents that *any* field may be missing, and older servers send numbers
as strings; the collection reads each field it stores through the lenient
coercions of ``fields.py``. Only a line that is not a JSON object with a
string ``type`` raises EventParseError, so the listener can count and skip
it with a one-line log message.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping

__all__ = ["EventParseError", "decode_event_line", "event_key"]


class EventParseError(ValueError):
    """A stream line that is not a usable event; the message is one line."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def decode_event_line(line: str | bytes) -> dict[str, Any]:
    """The JSON object of one stream-events line, with a string ``type``.

    Raises EventParseError for undecodable bytes, malformed JSON, a value
    that is not an object, or a missing/non-string ``type``. Known event
    types with a missing ``change`` or ``patchSet`` still decode, so the
    collection decides to skip and count them.
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


def event_key(raw: Mapping[str, Any]) -> str:
    """Stable idempotency key: sha256 hex of the canonical JSON of the raw event.

    Key order and whitespace of the original line do not matter, so the same
    event received twice (reconnect replay, two listeners) maps to one row.
    """
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()
