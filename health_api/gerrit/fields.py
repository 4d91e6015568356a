"""Lenient coercion of the fields of Gerrit's JSON (stream events, journal lines).

Gerrit documents that *any* field may be missing, and older servers send
numbers as strings (``"number": "12345"``, ``"value": "-1"``,
``"createdOn": "1600000000"``) where newer ones send ints. Every coercion
here is therefore lenient: a field that is absent or of the wrong shape
becomes None rather than an error. The collection of decoded events
(``collect.py``) reads every field it stores through these functions.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

__all__ = ["approval_fields", "approval_votes", "lenient_int", "naive_utc_time", "text_or_none",
           "utc_time"]

_INT_TEXT = re.compile(r"[+-]?\d{1,18}")
#: ``fromtimestamp`` accepts nothing past year 9999; earlier than 1970 is junk
_MAX_EPOCH_SECONDS = 253402300799
_EPOCH = dt.datetime(1970, 1, 1)
#: Gerrit 2.5 and older sent category ids as ``type`` and the label as ``description``
_LEGACY_APPROVAL_TYPES = frozenset({"VRIF", "CRVW", "SUBM", "APRV", "IFYI"})


def text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def lenient_int(value: Any) -> int | None:
    """An int from an int, an integral float or a decimal string; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        if value.isascii() and value.isdigit() and len(value) <= 18:
            return int(value)  # the common case, without a regex
        text = value.strip()
        if _INT_TEXT.fullmatch(text):
            return int(text)
    return None


def _epoch_seconds(value: Any) -> int | None:
    seconds = lenient_int(value)
    if seconds is None and isinstance(value, (float, str)):
        try:  # fractional seconds ("1600000000.5"): keep the whole second
            number = float(value)
        except ValueError:
            return None
        if math.isfinite(number):
            seconds = int(number)
    if seconds is None or not 0 <= seconds <= _MAX_EPOCH_SECONDS:
        return None
    return seconds


def utc_time(value: Any) -> dt.datetime | None:
    """Gerrit's epoch seconds as an aware UTC datetime."""
    seconds = _epoch_seconds(value)
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)


def naive_utc_time(value: Any) -> dt.datetime | None:
    """``utc_time`` without its time zone (what the database stores)."""
    if type(value) is int and 0 <= value <= _MAX_EPOCH_SECONDS:
        return _EPOCH + dt.timedelta(seconds=value)  # the common case, directly
    seconds = _epoch_seconds(value)
    return None if seconds is None else _EPOCH + dt.timedelta(seconds=seconds)


def approval_fields(value: Any) -> tuple[str, int, int | None] | None:
    """(label, value, old value) of one approval, or None when it has no
    label or no integer value."""
    if not isinstance(value, dict):
        return None
    label = text_or_none(value.get("type"))
    description = text_or_none(value.get("description"))
    if label is None or (label in _LEGACY_APPROVAL_TYPES and description):
        label = description
    vote = lenient_int(value.get("value"))
    if not label or vote is None:
        return None
    return label, vote, lenient_int(value.get("oldValue"))


def approval_votes(value: Any) -> dict[str, int] | None:
    """The votes an event's ``approvals`` list casts (label -> value); None
    when it holds no usable approval."""
    if not isinstance(value, list):
        return None
    votes = None
    for item in value:
        fields = approval_fields(item)
        if fields is not None:
            label, vote, old_value = fields
            if votes is None:
                votes = {}
            # Gerrit >= 2.13 lists every label on every comment; a 0 that did
            # not change (no oldValue) is "never voted", not a vote.
            if vote != 0 or old_value is not None:
                votes[label] = vote
    return votes
