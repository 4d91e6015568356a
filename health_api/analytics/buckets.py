"""The one time-bucketing function set (docs/design.md, "Rules").

Resolutions (``sec | min | hour | day``) and their window limits live in
``health_api.rules``; bucket keys are ISO 8601 UTC
strings (``2026-10-01T00:00:00Z``); every bucket of a window is present,
empty ones with zero counts. Naive datetimes are UTC throughout.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from ..rules import MAX_WINDOW, RESOLUTIONS, STEP  # noqa: F401  (re-exported)

_PANDAS_FREQ = {"sec": "s", "min": "min", "hour": "h", "day": "D"}
KEY_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def floor(ts: dt.datetime, resolution: str) -> dt.datetime:
    """The start of the bucket holding ``ts`` (naive UTC)."""
    ts = ts.replace(microsecond=0)
    if resolution == "sec":
        return ts
    if resolution == "min":
        return ts.replace(second=0)
    if resolution == "hour":
        return ts.replace(second=0, minute=0)
    return ts.replace(second=0, minute=0, hour=0)


def ceil(ts: dt.datetime, resolution: str) -> dt.datetime:
    start = floor(ts, resolution)
    return start if start == ts else start + STEP[resolution]


def snap(start: dt.datetime, stop: dt.datetime, resolution: str) -> tuple[dt.datetime, dt.datetime]:
    """The window [start, stop) widened to whole buckets."""
    return floor(start, resolution), ceil(stop, resolution)


def lead_start(start: dt.datetime, resolution: str, window: int) -> dt.datetime:
    """Where the data behind a trailing window of ``window`` buckets must start for
    the first bucket of [start, ...) to have a full window."""
    return floor(start, resolution) - (window - 1) * STEP[resolution]


def key(ts: dt.datetime) -> str:
    # isoformat is C without the locale machinery: half strftime's cost, and GET
    # /runs/<id> writes 3,000 keys. The same text for naive times of the years
    # 1000-9999; strftime writes years below 1000 unpadded, so they keep it
    if ts.tzinfo is None and ts.year >= 1000:
        return ts.isoformat(timespec="seconds") + "Z"
    return ts.strftime(KEY_FORMAT)


def grid(start: dt.datetime, stop: dt.datetime, resolution: str) -> pd.DatetimeIndex:
    """Every bucket start of the snapped window [start, stop)."""
    first, end = snap(start, stop, resolution)
    index = pd.date_range(first, end, freq=_PANDAS_FREQ[resolution], inclusive="left")
    return index


def bucket_series(values: pd.Series, resolution: str) -> pd.Series:
    """Floor a series of timestamps (or 'YYYY-mm-dd HH:MM:SS' strings) to buckets."""
    stamps = pd.to_datetime(values, utc=False, format="mixed")
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return stamps.dt.floor(_PANDAS_FREQ[resolution])


def keys(index) -> list[str]:
    return [key(ts.to_pydatetime()) for ts in index]


def reindex(frame: pd.DataFrame, start: dt.datetime, stop: dt.datetime, resolution: str,
            fill: dict | None = None) -> pd.DataFrame:
    """Frame indexed by bucket start -> one row per bucket of the window."""
    full = grid(start, stop, resolution)
    out = frame.reindex(full)
    if fill:
        for column, value in fill.items():
            if column in out:
                out[column] = out[column].fillna(value)
    return out
