"""The POST body of the verify-status plugin, checked field by field (pure).

``{"verifications": {"<job>": {"value": -1|0|1, "url", "reporter",
"comment", "category", "duration", "abstain", "rerun"}}}``: ``value`` is
required, as the plugin requires it; the text fields are optional strings,
``abstain`` and ``rerun`` optional booleans. Fields the plugin does not know
are ignored, as Gerrit's JSON reader ignores them. A malformed body raises
``BodyError`` naming the field (``verifications.<job>.value``), before
anything is stored.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

__all__ = ["BodyError", "VerificationInput", "parse_body", "duration_seconds",
           "RESULT_BY_VALUE"]

#: the plugin's vote -> the verdict's result; 0 is a report without a verdict
RESULT_BY_VALUE = {1: "SUCCESS", -1: "FAILURE", 0: "NEUTRAL"}
MAX_JOBS = 500
_TEXT_LIMITS = {"url": 8192, "reporter": 255, "comment": 65535, "category": 255, "duration": 64}
_DURATION = re.compile(r"^\s*(?:(\d{1,6})h)?\s*(?:(\d{1,6})m(?:in)?)?\s*(?:(\d{1,9})s)?\s*$")


class BodyError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


@dataclass(frozen=True)
class VerificationInput:
    name: str
    value: int
    abstain: bool = False
    rerun: bool = False
    url: str | None = None
    reporter: str | None = None
    comment: str | None = None
    category: str | None = None
    duration: str | None = None


def duration_seconds(text: str | None) -> int | None:
    """"3m 10s", "1h 2m", "45s" or a bare number of seconds -> seconds; None
    for anything else (the text is kept as reported either way)."""
    if not text:
        return None
    if text.strip().isascii() and text.strip().isdigit():
        return int(text.strip()) if len(text.strip()) <= 9 else None
    match = _DURATION.match(text)
    if match is None or not any(match.groups()):
        return None
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def _printable_name(name: str) -> bool:
    return 0 < len(name) <= 255 and name.isprintable() and name.strip() == name


def parse_body(raw: bytes) -> list[VerificationInput]:
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise BodyError("body", "the body is not JSON") from None
    if not isinstance(body, dict):
        raise BodyError("body", "the body must be a JSON object")
    verifications = body.get("verifications")
    if not isinstance(verifications, dict):
        raise BodyError("verifications", "verifications must be an object of job name -> "
                                         "verification")
    if not verifications:
        raise BodyError("verifications", "verifications is empty")
    if len(verifications) > MAX_JOBS:
        raise BodyError("verifications", f"at most {MAX_JOBS} verifications per request")
    out = []
    for name, item in verifications.items():
        where = f"verifications.{name[:100]}"
        if not _printable_name(name):
            raise BodyError(where, "a job name must be 1 to 255 printable characters without "
                                   "surrounding spaces")
        if not isinstance(item, dict):
            raise BodyError(where, f"{where} must be an object")
        value = item.get("value")
        if isinstance(value, bool) or not isinstance(value, int) or value not in RESULT_BY_VALUE:
            raise BodyError(f"{where}.value", f"{where}.value is required and must be -1, 0 or 1")
        fields = {}
        for key, limit in _TEXT_LIMITS.items():
            text = item.get(key)
            if text is None:
                continue
            if not isinstance(text, str):
                raise BodyError(f"{where}.{key}", f"{where}.{key} must be a string")
            if len(text) > limit:
                raise BodyError(f"{where}.{key}", f"{where}.{key} is longer than {limit} "
                                                  "characters")
            if "\x00" in text:
                raise BodyError(f"{where}.{key}", f"{where}.{key} contains a NUL character")
            fields[key] = text
        if "url" in fields and not fields["url"].startswith(("http://", "https://")):
            raise BodyError(f"{where}.url", f"{where}.url must be an http(s) URL")
        for key in ("abstain", "rerun"):
            flag = item.get(key)
            if flag is not None and not isinstance(flag, bool):
                raise BodyError(f"{where}.{key}", f"{where}.{key} must be true or false")
            fields[key] = bool(flag)
        out.append(VerificationInput(name=name, value=value, **fields))
    return out
