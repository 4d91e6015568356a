"""Normalised error signatures of tracebacks: the key failures are clustered by.

The signature is the traceback's last exception line with everything that
varies between two failures of one cause masked: quoted values, UUIDs,
memory addresses, hex strings, IP addresses, paths and numbers. One broken
mirror that fails forty tests then shows as one signature.
"""
from __future__ import annotations

import hashlib
import re

MAX_SIGNATURE = 300

# The order matters: a quoted path or UUID is masked whole as a quoted value,
# an address before the hex rule, hex before numbers.
_MASKS = (
    (re.compile(r"'[^'\n]*'|\"[^\"\n]*\""), "<Q>"),
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                r"[0-9a-fA-F]{12}\b"), "<UUID>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<ADDR>"),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b"), "<IP>"),
    (re.compile(r"\b[0-9a-fA-F]*\d[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\b|"
                r"\b[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\d[0-9a-fA-F]*\b"), "<HEX>"),
    (re.compile(r"(?:[A-Za-z]:)?(?:/[\w.@+-]+){2,}/?"), "<PATH>"),
    (re.compile(r"\b\d+(?:\.\d+)?\b"), "<N>"),
)
# A line that names an exception: "package.module.ErrorName: message", or the
# bare class name of an exception raised without a message.
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Timeout|Failure|Fault|"
                             r"Interrupt|Warning|NotFound|Conflict|BadRequest|Forbidden|"
                             r"Unauthorized|MismatchError)\b.*$|^[A-Za-z_][\w.]*: .+$")
_HEX_MIN = 8  # shorter runs of hex letters and digits are words ("cafe", "a1")


def exception_line(traceback: str) -> str:
    """The last line of ``traceback`` that names an exception, else its last
    non-empty line ("" for an empty text)."""
    lines = [line.strip() for line in traceback.splitlines() if line.strip()]
    for line in reversed(lines):
        if not line.startswith(("File ", "Traceback ")) and _EXCEPTION_LINE.match(line):
            return line
    return lines[-1] if lines else ""


def _mask_hex(match: re.Match) -> str:
    return "<HEX>" if len(match.group(0)) >= _HEX_MIN else match.group(0)


def normalise(line: str) -> str:
    """Mask the variable parts of an exception line; whitespace collapsed."""
    out = line
    for pattern, token in _MASKS:
        out = pattern.sub(_mask_hex if token == "<HEX>" else token, out)
    return " ".join(out.split())[:MAX_SIGNATURE]


def signature(traceback: str | bytes | None) -> str:
    """The normalised signature of a traceback attachment ("" when none)."""
    if traceback is None:
        return ""
    if isinstance(traceback, (bytes, bytearray, memoryview)):
        traceback = bytes(traceback).decode("utf-8", "replace")
    return normalise(exception_line(traceback))


def cluster_id(sig: str) -> str:
    """A stable id for a signature: the same on every engine and every analysis."""
    return hashlib.sha256(sig.encode("utf-8")).hexdigest()[:16]
