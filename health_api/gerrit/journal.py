"""A listener journal read for a replay: whole lines, in chunks, prepared
here or in worker processes, handed out in journal order.

The journal is cut into byte ranges of whole lines (only the bytes around
each boundary are read here); each range is read, decoded and prepared
(``collect.collect_raw_events`` then ``rows.prepare_batch``) in chunks of at most ``chunk_lines`` lines, by a worker process
or in this one. Consecutive chunks are then joined into transactions of at
most ``chunk_lines`` lines, since ranges end where bytes, not lines, say.
"""
from __future__ import annotations

import gc
import math
import multiprocessing
import pickle
from collections import deque
from contextlib import contextmanager
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator

from .collect import collect_raw_events
from .events import EventParseError, decode_event_line
from .rows import Batch, CiConfig, PreparedBatch, StoreStats, prepare_batch

__all__ = ["PreparedChunk", "decode_lines", "gc_paused", "prepared_transactions", "read_lines"]

#: the journal goes to the workers in ranges of about this many bytes
_RANGE_BYTES = 8 << 20
_MAX_RANGES_AHEAD = 32


# -- public ------------------------------------------------------------------------


@dataclass
class PreparedChunk:
    """Lines ``start``..``end`` of the journal, prepared for one transaction."""

    start: int
    end: int
    lines: int
    skipped: int
    events: int
    collected: StoreStats
    batch: PreparedBatch | None
    error: Exception | None = None  # preparing failed: store the events one by one
    warnings: list[str] = field(default_factory=list)

    def can_take(self, later: "PreparedChunk", chunk_lines: int) -> bool:
        return (self.error is None and later.error is None and later.start == self.end
                and self.lines + later.lines <= chunk_lines)

    def extend(self, later: "PreparedChunk") -> None:
        """Take in the chunk that follows (one transaction for both)."""
        self.batch.extend(later.batch)
        self.collected.add(later.collected)
        self.end = later.end
        self.lines += later.lines
        self.skipped += later.skipped
        self.events += later.events
        self.warnings.extend(later.warnings)


def prepared_transactions(journal: Path, start: int, size: int, config: CiConfig,
                          chunk_lines: int, workers: int) -> Iterator[PreparedChunk]:
    """The journal's lines between ``start`` and the last newline before
    ``size``, prepared, in transactions of at most ``chunk_lines`` lines."""
    with open(journal, "rb") as probe, open(journal, "rb") as reader:
        ranges = _line_ranges(probe, start, size, _RANGE_BYTES)
        chunks = _prepared_chunks(journal, reader, ranges, config, chunk_lines, workers)
        yield from _joined(chunks, chunk_lines)


def read_lines(journal: Path, start: int, end: int) -> list[bytes]:
    """The whole lines between two offsets, without their newlines."""
    with open(journal, "rb") as handle:
        return _read_range(handle, start, end).split(b"\n")[:-1]


def decode_lines(lines: list[bytes], start: int, journal: str, warnings: list[str] | None
                 ) -> tuple[list[dict], int]:
    """The events of whole lines (without their newlines) starting at byte
    ``start``, and the number of malformed lines."""
    raws = []
    skipped = 0
    offset = start
    for line in lines:
        line_start = offset
        offset += len(line) + 1
        if not line.strip():
            continue
        try:
            raws.append(decode_event_line(line))
        except EventParseError as exc:
            skipped += 1
            if warnings is not None:
                warnings.append(f"journal {journal} byte {line_start}: {exc.message}")
    return raws, skipped


@contextmanager
def gc_paused() -> Iterator[None]:
    """A replay allocates millions of short-lived containers (decoded events,
    prepared rows) that reference counting frees on its own; the cyclic
    collector's passes over them cost up to a third of the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# -- cutting and preparing ----------------------------------------------------------


def _line_ranges(handle: BinaryIO, start: int, size: int, target: int
                 ) -> Iterator[tuple[int, int]]:
    """Consecutive byte ranges of whole lines from ``start``, each about
    ``target`` bytes, up to the last newline before ``size``. Only the bytes
    around each boundary are read."""
    position = start
    while position < size:
        probe = position + target
        if probe < size:
            handle.seek(probe - 1)
            rest = handle.readline()  # up to the first newline at or after probe - 1
            end = probe - 1 + len(rest)
            if rest.endswith(b"\n") and end <= size:
                yield position, end
                position = end
                continue
        handle.seek(position)  # the last range: up to the last newline
        end = position + handle.read(size - position).rfind(b"\n") + 1
        if end > position:
            yield position, end
        return


def _read_range(handle: BinaryIO, start: int, end: int) -> bytes:
    handle.seek(start)
    return handle.read(end - start)


def _prepare_chunk(lines: list[bytes], start: int, end: int, journal: str,
                   config: CiConfig) -> PreparedChunk:
    warnings: list[str] = []
    raws, skipped = decode_lines(lines, start, journal, warnings)
    collected = StoreStats()
    try:
        batch = Batch()
        collect_raw_events(raws, batch, collected, config)
        prepared, error = prepare_batch(batch, config), None
    except (ValueError, TypeError, OverflowError, KeyError) as exc:  # as GerritStore does
        collected, prepared, error = StoreStats(), None, exc
    return PreparedChunk(start, end, len(lines), skipped, len(raws), collected, prepared,
                         error, warnings)


def _prepare_range(data: bytes, start: int, journal: str, config: CiConfig,
                   chunk_lines: int) -> list[PreparedChunk]:
    """A range of whole lines, prepared in chunks of at most ``chunk_lines`` lines."""
    lines = data.split(b"\n")[:-1]
    chunks = []
    offset = start
    for first in range(0, len(lines), chunk_lines):
        part = lines[first:first + chunk_lines]
        end = offset + sum(map(len, part)) + len(part)
        chunks.append(_prepare_chunk(part, offset, end, journal, config))
        offset = end
    return chunks


def _joined(chunks: Iterator[tuple[PreparedChunk, bool]], chunk_lines: int
            ) -> Iterator[PreparedChunk]:
    """Consecutive chunks joined while they fit in ``chunk_lines`` lines: the
    workers' chunks end with their ranges, transactions need not. A chunk
    whose successor is not prepared yet (``chunks`` says so) goes out as it
    is, so the writer never waits with work in hand: the first transaction
    starts after one range instead of ``chunk_lines`` lines, and later ones
    are full whenever the workers keep ahead of the writer."""
    pending: PreparedChunk | None = None
    for chunk, next_ready in chunks:
        if pending is not None and pending.can_take(chunk, chunk_lines):
            pending.extend(chunk)
        else:
            if pending is not None:
                yield pending
            pending = chunk
        if not next_ready:
            yield pending
            pending = None
    if pending is not None:
        yield pending


# -- worker processes -------------------------------------------------------------


@dataclass
class _WorkerState:
    journal: BinaryIO
    name: str
    config: CiConfig
    chunk_lines: int


_worker: _WorkerState | None = None


def _start_worker(journal: str, config: CiConfig, chunk_lines: int) -> None:
    global _worker
    gc.disable()  # see gc_paused; this process only prepares chunks
    _worker = _WorkerState(open(journal, "rb"), journal, config, chunk_lines)


def _prepare_in_worker(start: int, end: int) -> bytes:
    data = _read_range(_worker.journal, start, end)
    chunks = _prepare_range(data, start, _worker.name, _worker.config, _worker.chunk_lines)
    # Pickled here, unpickled by the writer between transactions: left to the
    # executor, its thread would unpickle while SQLite runs, and the two would
    # hand the GIL back and forth for every row written.
    return pickle.dumps(chunks, pickle.HIGHEST_PROTOCOL)


class _ReadAhead:
    """How many ranges may be out with the workers: enough to fill the next
    transaction while this one is written, so neither side waits for long,
    and no more, so memory stays bounded."""

    def __init__(self, workers: int, chunk_lines: int):
        self.workers = workers
        self.chunk_lines = chunk_lines
        self.bytes = 0
        self.lines = 0

    def saw(self, chunks: list[PreparedChunk]) -> None:
        for chunk in chunks:
            self.bytes += chunk.end - chunk.start
            self.lines += chunk.lines

    def ranges(self) -> int:
        line_bytes = self.bytes / self.lines if self.lines else 1024
        per_transaction = math.ceil(self.chunk_lines * line_bytes / _RANGE_BYTES)
        return self.workers + min(per_transaction, _MAX_RANGES_AHEAD)


def _prepared_chunks(journal: Path, handle: BinaryIO, ranges: Iterator[tuple[int, int]],
                     config: CiConfig, chunk_lines: int, workers: int
                     ) -> Iterator[tuple[PreparedChunk, bool]]:
    """Prepared chunks in journal order, prepared here or by ``workers``
    processes, each with whether the next one is ready without waiting (when
    this process prepares them, waiting for one is no different from
    preparing it, so they count as ready)."""
    if workers <= 0:
        for start, end in ranges:
            for chunk in _prepare_range(_read_range(handle, start, end), start,
                                        str(journal), config, chunk_lines):
                yield chunk, True
        return
    methods = multiprocessing.get_all_start_methods()
    # fork: the workers start at once and inherit the configuration
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                               initargs=(str(journal), config, chunk_lines))
    pending: deque[Future] = deque()
    ahead = _ReadAhead(workers, chunk_lines)

    def next_chunks() -> Iterator[tuple[PreparedChunk, bool]]:
        chunks = pickle.loads(pending.popleft().result())
        ahead.saw(chunks)
        for chunk in chunks[:-1]:
            yield chunk, True
        if chunks:
            # the range that follows: submitted (or about to be) and done?
            yield chunks[-1], bool(pending) and pending[0].done()

    try:
        for start, end in ranges:
            pending.append(pool.submit(_prepare_in_worker, start, end))
            while len(pending) > ahead.ranges():
                yield from next_chunks()
        while pending:
            yield from next_chunks()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
