"""The last result of each test of the run being written, compactly.

A run keeps, for every test it stored, that result's status and duration
until its end (retries, counters, rollups). As a dict of tuples that cost
about 150 bytes a test: a JUnit report of a million testcases peaked at
671 MB. Packed into one int per test it is about 100 (issue 16, defect 8).
"""
from __future__ import annotations

from typing import Iterator

_STATUS_BITS = 16
_HAS_DURATION = 1 << _STATUS_BITS
_DURATION_SHIFT = _STATUS_BITS + 1


class RunResults:
    """tests.id -> (raw status, duration in seconds or None), as a mapping.

    Durations come from datetime differences, whole microseconds: they are
    kept as such, so what comes back equals what went in."""

    __slots__ = ("_packed", "_statuses", "_codes")

    def __init__(self) -> None:
        self._packed: dict[int, int] = {}
        self._statuses: list[str] = []  # code -> raw status
        self._codes: dict[str, int] = {}

    def _code(self, status: str) -> int:
        code = self._codes.get(status)
        if code is None:
            code = len(self._statuses)
            if code >= _HAS_DURATION:
                raise ValueError(f"more than {code} distinct statuses in one run")
            self._codes[status] = code
            self._statuses.append(status)
        return code

    def __setitem__(self, test_db_id: int, result: tuple[str, float | None]) -> None:
        status, duration = result
        code = self._codes.get(status)
        if code is None:
            code = self._code(status)
        if duration is not None:
            code |= _HAS_DURATION | (round(duration * 1_000_000) << _DURATION_SHIFT)
        self._packed[test_db_id] = code

    def _unpack(self, packed: int) -> tuple[str, float | None]:
        status = self._statuses[packed & (_HAS_DURATION - 1)]
        if packed & _HAS_DURATION:
            return status, (packed >> _DURATION_SHIFT) / 1_000_000
        return status, None

    def __getitem__(self, test_db_id: int) -> tuple[str, float | None]:
        return self._unpack(self._packed[test_db_id])

    def __contains__(self, test_db_id: object) -> bool:
        return test_db_id in self._packed

    def __len__(self) -> int:
        return len(self._packed)

    def __iter__(self) -> Iterator[int]:
        return iter(self._packed)

    def values(self) -> Iterator[tuple[str, float | None]]:
        unpack = self._unpack
        return (unpack(packed) for packed in self._packed.values())
