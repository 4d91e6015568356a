"""Records that every parser (subunit, JUnit, demo data) hands to the writer.

Parsers are push-based: they call ``sink(result)`` once per finished test, so
a stream of any length is written in bounded memory.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from typing import Callable

#: tests.test_id is VARCHAR(256): the same limit on every engine (SQLite would
#: store a longer id that PostgreSQL and MariaDB refuse with a driver error)
TEST_ID_MAX = 256

#: subunit2sql's default: the first ``[...]`` group of a test id holds its attrs
DEFAULT_ATTR_REGEX = r"\[(.*)\]"


class IngestError(Exception):
    """A stream or file that cannot be ingested; the CLI prints it as one line.

    ``exit_code`` follows the CLI contract: 2 bad input, 3 duplicate run,
    4 database not ready, 5 rolled back by the server to break a deadlock.
    """

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class DuplicateRunError(IngestError):
    exit_code = 3


class DeadlockError(IngestError):
    """Concurrent ingests deadlocked and this run could not be retried (or
    kept deadlocking); nothing of it is stored, so running it again is safe."""

    exit_code = 5


@dataclass(slots=True)
class TestResult:
    """One finished test as it will be stored in ``test_runs``.

    ``test_id`` is the raw id from the stream; the writer strips attrs.
    Times are naive UTC datetimes (or None when the stream had none).
    """

    __test__ = False  # not a pytest test class

    test_id: str
    status: str
    start_time: dt.datetime | None = None
    stop_time: dt.datetime | None = None
    tags: frozenset[str] = frozenset()
    metadata: dict[str, str] = field(default_factory=dict)
    attachments: list[tuple[str, bytes]] = field(default_factory=list)

    def __reduce__(self):
        # Plain argument tuples pickle several times faster than slot state,
        # and results cross a pipe when a child process parses (parallel.py).
        return (TestResult, (self.test_id, self.status, self.start_time, self.stop_time,
                             self.tags, self.metadata, self.attachments))

    @property
    def duration(self) -> float | None:
        if self.start_time is None or self.stop_time is None:
            return None
        return (self.stop_time - self.start_time).total_seconds()


Sink = Callable[[TestResult], None]


class TestIdNormalizer:
    """Strips the attrs group from test ids, as subunit2sql does:
    ``split(raw)`` returns ``(test_id, attrs or None)``.

    The same ids come back in every run of a job, so answers are remembered
    (up to ``memo_limit`` ids; ``memo`` may be read directly, as a fast path).
    """

    __test__ = False

    def __init__(self, attr_regex: str | None = None, memo_limit: int = 50_000):
        self.search = re.compile(attr_regex or DEFAULT_ATTR_REGEX).search
        self.memo: dict[str, tuple[str, str | None]] = {}
        self.memo_limit = memo_limit

    def split(self, raw: str) -> tuple[str, str | None]:
        hit = self.memo.get(raw)
        if hit is not None:
            return hit
        match = self.search(raw)
        if match is None:
            parts = (raw, None)
        else:
            attrs = match.group(1) if match.re.groups else match.group(0)
            start, end = match.span()
            parts = (raw[:start] + raw[end:], attrs) if start > 0 and end > start \
                else (raw, attrs)
        if len(self.memo) < self.memo_limit:
            self.memo[raw] = parts
        return parts


@functools.lru_cache(maxsize=8)
def normalizer_for(attr_regex: str | None) -> TestIdNormalizer:
    """One normalizer per regex and process, so its memo outlives a run."""
    return TestIdNormalizer(attr_regex)


def to_naive_utc(value: dt.datetime | None) -> dt.datetime | None:
    """Naive UTC, the storage convention of subunit2sql's DATETIME columns."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
