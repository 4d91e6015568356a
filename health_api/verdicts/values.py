"""Column values every driver accepts, shared by every verdict source."""
from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = ["UTC", "clean_text", "naive_utc", "parse_db_time"]

UTC = dt.timezone.utc


def naive_utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def clean_text(value: Any, limit: int | None = 255) -> str | None:
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


def parse_db_time(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))
