"""subunit v2 streams -> TestResult records.

subunit_v2 decodes the packets (as python-subunit does, without its import
and per-byte reads); this module assembles the status events of each test
into one record and turns parser complaints into one-line errors that name
the byte offset of the bad packet.
"""
from __future__ import annotations

import datetime as dt
from typing import BinaryIO

from .. import rules
from .records import IngestError, Sink, TestResult
from .subunit_v2 import Decoder, NonSubunitContent, ParseError

#: pseudo-tests that are not tests (subunit2sql skips them too)
_IGNORED_TEST_IDS = frozenset({"process-returncode"})
_PARSER_TEST_ID = "subunit.parser"
#: cap per attachment: a runaway log must not exhaust memory or a LONGBLOB
MAX_ATTACHMENT_BYTES = 16 * 1024 * 1024


class _Pending:
    """What is known of a test that has started; files only with --store-attachments."""

    __slots__ = ("start", "last", "tags", "files")

    def __init__(self, timestamp: dt.datetime | None):
        self.start = self.last = timestamp
        self.tags: frozenset[str] = frozenset()
        self.files: dict[str, list] | None = None  # name -> [size, chunks...]


class _Assembler:
    """A minimal StreamResult: collects events per test, emits finished tests."""

    def __init__(self, sink: Sink, source_name: str, reader, keep_files: bool):
        """``reader.packet_start``: the offset of the packet being decoded."""
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
        if timestamp is not None and timestamp.tzinfo is not None:
            # subunit timestamps are UTC; stored naive, as subunit2sql does
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
    decoder = Decoder(source, non_subunit_name)
    assembler = _Assembler(sink, source_name, decoder, keep_files=store_attachments)
    try:
        decoder.run(assembler.status)
    except ParseError as exc:
        raise IngestError(f"{source_name}: corrupt subunit stream at byte "
                          f"{decoder.packet_start}: {exc.args[0]}") from None
    except NonSubunitContent as exc:
        bad, offset = exc.args
        raise IngestError(
            f"{source_name}: not a subunit v2 stream: unexpected byte "
            f"0x{bad.hex()} at byte {offset} "
            f"(use --non-subunit-name NAME to accept mixed streams)") from None
    assembler.finish()
    return assembler.count
