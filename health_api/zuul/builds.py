"""Zuul web ``builds`` entries as verdicts (pure).

Two shapes are read. Up to Zuul 9 a build carries its change flat
(``project``, ``branch``, ``change``, ``patchset``, ``ref`` ...) beside
``buildset: {uuid}``; from Zuul 10 it is nested under ``ref`` (an object:
``project``, ``branch``, ``change``, ``patchset``, ``ref``, ``oldrev``,
``newrev``, ``ref_url``) and the buildset lists its ``refs``. In both,
``uuid``, ``job_name``, ``result``, ``start_time``/``end_time``
(``YYYY-mm-ddTHH:MM:SS``, UTC), ``duration`` (seconds, a float),
``voting``, ``log_url``, ``pipeline``, ``error_detail`` and, since Zuul
3.x, ``final`` (false for a build that was retried: not a verdict).
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from ..verdicts import Verdict

__all__ = ["NotZuul", "build_time", "build_verdict", "entry_time", "is_build",
           "positive_int", "text_field"]

#: why a build is not stored; keys of ImportStats.skipped
NOT_FINAL, RUNNING, NO_CHANGE = "not_final", "running", "no_change"


class NotZuul(ValueError):
    """An answer that is not a list of Zuul builds."""


def is_build(entry: Any) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("uuid"), str) \
        and isinstance(entry.get("job_name"), str)


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return parsed


def entry_time(entry: Mapping[str, Any], *keys: str) -> dt.datetime | None:
    """The first of ``keys`` that holds a Zuul time."""
    for key in keys:
        value = _time(entry.get(key))
        if value is not None:
            return value
    return None


def build_time(entry: Mapping[str, Any]) -> dt.datetime | None:
    """When the build ended (else started): its place in time."""
    return entry_time(entry, "end_time", "start_time")


def text_field(entry: Mapping[str, Any], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) else None


def _ref(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = entry.get("ref")
    return ref if isinstance(ref, dict) else entry  # Zuul 10 nests it; before, flat


def positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9:
        return int(value) or None
    return None


def build_verdict(entry: Mapping[str, Any], ci_system: str) -> Verdict | str:
    """The verdict of one build, or why it has none (NOT_FINAL, RUNNING, NO_CHANGE)."""
    if entry.get("final") is False:
        return NOT_FINAL  # retried: the final build is the verdict
    result = entry.get("result")
    posted = build_time(entry)
    if not isinstance(result, str) or not result or posted is None:
        return RUNNING
    ref = _ref(entry)
    change, patch_set = positive_int(ref.get("change")), positive_int(ref.get("patchset"))
    if change is None or patch_set is None:
        return NO_CHANGE  # a periodic, post or tag build: not about a patch set
    duration = entry.get("duration")
    seconds = round(duration) if isinstance(duration, (int, float)) and not isinstance(
        duration, bool) and 0 <= duration < 2**31 else None
    return Verdict(
        ci_system=ci_system, change=change, patch_set=patch_set, job=entry["job_name"],
        result=result, posted_at=posted, source="zuul", result_key="zuul:" + entry["uuid"],
        pipeline=text_field(entry, "pipeline"), url=text_field(entry, "log_url"),
        duration=seconds, voting=entry.get("voting") is not False,
        detail=text_field(entry, "error_detail"), project=text_field(ref, "project"),
        branch=text_field(ref, "branch"), revision=text_field(ref, "newrev"))
