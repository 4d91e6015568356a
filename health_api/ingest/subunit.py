"""subunit v2 streams -> TestResult records.

python-subunit decodes the packets; this module only assembles the status
events of each test into one record and turns parser complaints into one-line
errors that name the byte offset of the bad packet.
"""
from __future__ import annotations

import datetime as dt
from typing import BinaryIO

import subunit

from .. import rules
from .records import IngestError, Sink, TestResult

#: pseudo-tests that are not tests (subunit2sql skips them too)
_IGNORED_TEST_IDS = frozenset({"process-returncode"})
_PARSER_TEST_ID = "subunit.parser"
#: cap per attachment: a runaway log must not exhaust memory or a LONGBLOB
MAX_ATTACHMENT_BYTES = 16 * 1024 * 1024


class _CountingReader:
    """Buffers the source in 64 KiB blocks and counts bytes consumed.

    python-subunit reads a few bytes at a time. On a file object each read is
    an I/O call that lets go of the GIL, and with the writer thread busy each
    such call then waits for the GIL: reading blocks here makes that rare.
    It also remembers where the packet being parsed started: python-subunit
    reads a packet's signature byte with read(1) and the rest with larger reads.
    """

    BLOCK = 65536

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self._read_block = getattr(raw, "read1", raw.read)
        self.buf = b""
        self.pos = 0
        self.offset = 0
        self.packet_start = 0

    def read(self, size: int = -1) -> bytes:
        if size == 1:
            self.packet_start = self.offset
        buf, pos = self.buf, self.pos
        end = pos + size
        if 0 <= size and end <= len(buf):
            self.pos = end
            data = buf[pos:end]
        else:
            data = self._refill(size)
        self.offset += len(data)
        return data

    def _refill(self, size: int) -> bytes:
        chunks = [self.buf[self.pos:]]
        have = len(chunks[0])
        self.buf, self.pos = b"", 0
        while size < 0 or have < size:
            block = self.raw.read() if size < 0 else self._read_block(max(size - have,
                                                                          self.BLOCK))
            if not block:
                break
            if size >= 0 and have + len(block) > size:
                cut = size - have
                chunks.append(block[:cut])
                self.buf, self.pos = block, cut
                have = size
                break
            chunks.append(block)
            have += len(block)
        return b"".join(chunks)

    def fileno(self) -> int:
        return self.raw.fileno()


class _Pending:
    """What is known of a test that has started; files only with --store-attachments."""

    __slots__ = ("start", "last", "tags", "files")

    def __init__(self, timestamp: dt.datetime | None):
        self.start = self.last = timestamp
        self.tags: frozenset[str] = frozenset()
        self.files: dict[str, list] | None = None  # name -> [size, chunks...]


class _Assembler:
    """A minimal StreamResult: collects events per test, emits finished tests."""

    def __init__(self, sink: Sink, source_name: str, reader: _CountingReader,
                 keep_files: bool):
        self.sink = sink
        self.source_name = source_name
        self.reader = reader
        self.keep_files = keep_files
        self.pending: dict[tuple[str, str | None], _Pending] = {}
        self.count = 0

    def status(self, test_id=None, test_status=None, test_tags=None, runnable=True,
               file_name=None, file_bytes=None, eof=False, mime_type=None,
               route_code=None, timestamp=None) -> None:
        if test_id is None:
            return  # run-level output (stray bytes with --non-subunit-name): not a test
        if test_id == _PARSER_TEST_ID:
            if file_name == "Parser Error":
                reason = file_bytes.decode("utf-8", "replace") if file_bytes else "parse error"
                raise IngestError(f"{self.source_name}: corrupt subunit stream at byte "
                                  f"{self.reader.packet_start}: {reason}")
            return
        key = (test_id, route_code)
        if timestamp is not None:
            # python-subunit's timestamps are UTC; stored naive, as subunit2sql does
            timestamp = timestamp.replace(tzinfo=None)
        pending = self.pending.get(key)
        if pending is None:
            pending = self.pending[key] = _Pending(timestamp)
        elif timestamp is not None:
            if pending.start is None:
                pending.start = timestamp
            pending.last = timestamp
        if test_tags is not None:
            pending.tags = frozenset(test_tags)
        if file_bytes and file_name is not None and self.keep_files:
            self._keep_file(pending, file_name, file_bytes)
        if test_status in rules.FINAL_STATUSES:
            del self.pending[key]
            self._emit(test_id, test_status, pending, pending.last, {})
        elif test_status == "exists":
            del self.pending[key]  # an enumeration entry, not a result

    @staticmethod
    def _keep_file(pending: _Pending, name: str, data: bytes) -> None:
        if pending.files is None:
            pending.files = {}
        entry = pending.files.setdefault(name, [0])
        if entry[0] < MAX_ATTACHMENT_BYTES:
            entry.append(data[:MAX_ATTACHMENT_BYTES - entry[0]])
            entry[0] += len(data)

    def _emit(self, test_id: str, test_status: str, pending: _Pending,
              stop_time: dt.datetime | None, metadata: dict[str, str]) -> None:
        if test_id in _IGNORED_TEST_IDS:
            return
        attachments = [(name.split(":")[0], b"".join(entry[1:]))
                       for name, entry in pending.files.items()] if pending.files else []
        self.count += 1
        self.sink(TestResult(test_id=test_id, status=test_status, start_time=pending.start,
                             stop_time=stop_time,
                             tags=pending.tags, metadata=metadata, attachments=attachments))

    def finish(self) -> None:
        """Tests that started but never ended (a timed-out job) count as failed."""
        for (test_id, _route), pending in sorted(self.pending.items(),
                                                 key=lambda kv: kv[0][0]):
            # No end time: the test never ended, so it has no duration either.
            self._emit(test_id, "fail", pending, None, {"incomplete": "true"})
        self.pending.clear()


def parse_subunit(source: BinaryIO, sink: Sink, *, source_name: str,
                  non_subunit_name: str | None = None,
                  store_attachments: bool = False) -> int:
    """Parse one subunit v2 stream, calling ``sink`` for each finished test.

    Returns the number of tests emitted. Raises IngestError (one line, with
    the byte offset) for anything that is not a well-formed stream; with
    ``non_subunit_name`` stray non-subunit bytes are tolerated instead, as
    subunit2sql does.
    """
    reader = _CountingReader(source)
    assembler = _Assembler(sink, source_name, reader, keep_files=store_attachments)
    parser = subunit.ByteStreamToStreamResult(reader, non_subunit_name=non_subunit_name)
    try:
        parser.run(assembler)
    except Exception as exc:  # python-subunit signals stray bytes with a bare Exception
        if exc.args and exc.args[0] == "Non subunit content":
            bad = exc.args[1][:1] if len(exc.args) > 1 and exc.args[1] else b""
            raise IngestError(
                f"{source_name}: not a subunit v2 stream: unexpected byte "
                f"0x{bad.hex() or '??'} at byte {reader.offset - 1} "
                f"(use --non-subunit-name NAME to accept mixed streams)") from None
        raise
    assembler.finish()
    return assembler.count
