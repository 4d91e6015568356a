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


#: Run and test times are kept from the epoch to a day ahead on every engine:
#: a run dated year 9999 would be the newest run forever, and MySQL's DATETIME
#: starts at year 1000.
TIME_MIN = dt.datetime(1970, 1, 1)
TIME_AHEAD = dt.timedelta(days=1)


def time_in_range(value: dt.datetime) -> bool:
    """``value`` (naive UTC) lies between TIME_MIN and a day from now."""
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    return TIME_MIN <= value <= now + TIME_AHEAD


def check_times(batch: list[TestResult], first: dt.datetime | None,
                last: dt.datetime | None) -> None:
    """Refuse (exit 2) a test that stops before it starts (stored, it would make
    the run's time negative) and times outside ``time_in_range``; ``first`` and
    ``last`` are the batch's earliest start and latest stop."""
    for value in (first, last):
        if value is not None and not time_in_range(value):
            raise IngestError(f"test time {value:%Y-%m-%dT%H:%M:%S}Z out of range (from "
                              f"{TIME_MIN:%Y-%m-%d} to a day from now)")
    for result in batch:
        if (result.start_time is not None and result.stop_time is not None
                and result.stop_time < result.start_time):
            raise IngestError(f"test {result.test_id[:200]!r} stops before it starts "
                              f"({result.start_time.isoformat()} > "
                              f"{result.stop_time.isoformat()})")
