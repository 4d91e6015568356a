"""A subunit v2 packet decoder, for the ingest path.

The format is small: each packet is a signature byte 0xb3, 16 bits of
flags, a varint total length, the optional fields the flags announce and a
CRC32. python-subunit decodes it a few bytes per read() through
testtools' StreamResult machinery; together they cost a one-stream ingest
more time to import than to decode, and capped large streams at a fraction
of what the writer stores. This module decodes what python-subunit's
``ByteStreamToStreamResult`` decodes, with the same error messages
(tests/ingest/test_subunit_decoder.py compares the two on generated and
corrupted streams), into the same ``status(...)`` calls. Two differences:
stray non-subunit bytes (with ``non_subunit_name``) are skipped rather than
reported as run-level file events, which the ingest ignored anyway; and a
packet whose checksum is right but whose fields run past its end is a
ParseError, where python-subunit failed with a bare ``struct.error``.
"""
from __future__ import annotations

import codecs
import datetime as dt
import zlib
from typing import BinaryIO, Callable

SIGNATURE = 0xB3
FLAG_TEST_ID = 0x0800
FLAG_ROUTE_CODE = 0x0400
FLAG_TIMESTAMP = 0x0200
FLAG_RUNNABLE = 0x0100
FLAG_TAGS = 0x0080
FLAG_FILE_CONTENT = 0x0040
FLAG_MIME_TYPE = 0x0020
FLAG_EOF = 0x0010
STATUSES = (None, "exists", "inprogress", "success", "uxsuccess", "skip", "fail", "xfail")
#: naive UTC: python-subunit's timestamps are UTC, and ingest stores them naive
EPOCH = dt.datetime(1970, 1, 1)
#: bytes read from the source at a time
BLOCK = 1024 * 1024

_utf_8_decode = codecs.utf_8_decode
_crc32 = zlib.crc32
_timedelta = dt.timedelta

#: status(test_id, test_status, test_tags, runnable, file_name, file_bytes,
#:        eof, mime_type, route_code, timestamp)
StatusFn = Callable[..., None]


class ParseError(Exception):
    """A corrupt packet; ``args[0]`` is python-subunit's message for it."""


class NonSubunitContent(Exception):
    """A byte that starts no packet, where no non-subunit content is allowed."""


# The fields of one packet are read from ``buf[pos:end]`` (the packet without
# its CRC); offsets in messages are python-subunit's, counted from ``base``.

def _truncated(pos: int, base: int) -> ParseError:
    return ParseError("Field at offset %d extends past end of packet" % (pos - base))


def _varint(buf: bytes, pos: int, end: int, base: int) -> tuple[int, int]:
    if pos >= end:
        raise _truncated(pos, base)
    b0 = buf[pos]
    if b0 < 0x40:
        return b0, pos + 1
    size = (b0 >> 6) + 1
    if pos + size > end:
        raise _truncated(pos, base)
    value = b0 & 0x3F
    for i in range(pos + 1, pos + size):
        value = (value << 8) | buf[i]
    return value, pos + size


def _utf8(buf: bytes, pos: int, end: int, base: int) -> tuple[str, int]:
    if pos < end and buf[pos] < 0x40:  # the usual short string: inline varint
        length = buf[pos]
        pos += 1
    else:
        length, pos = _varint(buf, pos, end, base)
    stop = pos + length
    data = buf[pos:stop if stop <= end else end]
    if len(data) != length or b"\0" in data:
        offset = pos - base - 2
        if len(data) != length:
            raise ParseError("UTF8 string at offset %d extends past end of packet: "
                             "claimed %d bytes, %d available" % (offset, length, len(data)))
        raise ParseError("UTF8 string at offset %d contains NUL byte" % (offset,))
    try:
        text, decoded = _utf_8_decode(data)
    except UnicodeDecodeError:
        raise ParseError("UTF8 string at offset %d is not UTF8" % (pos - base - 2,)) from None
    if decoded != length:
        raise ParseError("Invalid (partially decodable) string at offset %d, "
                         "%d undecoded bytes" % (pos - base - 2, length - decoded))
    return text, stop


class Decoder:
    """Decode a subunit v2 byte stream into ``status`` calls (see StatusFn).

    ``packet_start`` is the stream offset of the packet being decoded, for
    error messages; ``offset`` that of the next byte to read."""

    def __init__(self, source: BinaryIO, non_subunit_name: str | None = None):
        self.source = source
        self._read = getattr(source, "read1", source.read)
        self.non_subunit_name = non_subunit_name
        self.buf = b""
        self.pos = 0
        self.base = 0  # stream offset of buf[0]
        self.packet_start = 0
        self.eof = False

    @property
    def offset(self) -> int:
        return self.base + self.pos

    def _fill(self, need: int) -> bool:
        """Make ``need`` bytes available from pos on; False at the end of the
        stream before that."""
        buf, pos = self.buf, self.pos
        if len(buf) - pos >= need:
            return True
        chunks = [buf[pos:]]
        have = len(chunks[0])
        while have < need and not self.eof:
            block = self._read(max(BLOCK, need - have))
            if not block:
                self.eof = True
                break
            chunks.append(block)
            have += len(block)
        self.base += pos
        self.buf, self.pos = b"".join(chunks), 0
        return have >= need

    def run(self, status: StatusFn) -> None:
        codec = None  # the UTF-8 state of stray bytes, as python-subunit keeps it
        mid_character = False
        last_stamp = (-1, -1, None)
        fill = self._fill
        while True:
            if self.pos >= len(self.buf) and not fill(1):
                return
            buf, pos = self.buf, self.pos
            if buf[pos] != SIGNATURE or mid_character:
                if self.non_subunit_name is None:
                    raise NonSubunitContent(buf[pos:pos + 1], self.base + pos)
                if codec is None:
                    codec = codecs.getincrementaldecoder("utf8")()
                try:
                    mid_character = not codec.decode(buf[pos:pos + 1])
                except UnicodeDecodeError:
                    mid_character = False
                self.pos = pos + 1
                continue
            self.packet_start = self.base + pos
            last_stamp = self._packet(status, last_stamp)

    def _packet(self, status: StatusFn, last_stamp: tuple) -> tuple:
        """Decode the packet at pos; returns the timestamp cache, (seconds,
        nanoseconds, datetime) of the last timestamp decoded."""
        if not self._fill(6):
            raise ParseError("Short read - got %d bytes, wanted 5 bytes"
                             % (len(self.buf) - self.pos - 1))
        buf, start = self.buf, self.pos
        flags = (buf[start + 1] << 8) | buf[start + 2]
        b0 = buf[start + 3]
        kind = b0 & 0xC0
        if kind == 0xC0:
            self.pos = start + 6
            raise ParseError("3 byte maximum given but 4 byte value found.")
        consumed = (kind >> 6) + 1
        length = b0 & 0x3F
        for i in range(start + 4, start + 3 + consumed):
            length = (length << 8) | buf[i]
        if length < 6:  # python-subunit then reads to the end of the stream
            self.pos = start + 6
            while self._fill(len(self.buf) - self.pos + 1):
                pass
            rest = len(self.buf) - self.pos
            self.pos = len(self.buf)
            raise ParseError("Short read - got %d bytes, wanted %d bytes" % (rest, length - 6))
        if not self._fill(length):
            self.pos += 6
            raise ParseError("Short read - got %d bytes, wanted %d bytes"
                             % (len(self.buf) - self.pos, length - 6))
        buf, start = self.buf, self.pos
        end = start + length - 4
        self.pos = start + length
        stored = int.from_bytes(buf[end:end + 4], "big")
        crc = _crc32(buf[start:end]) & 0xFFFFFFFF
        if crc != stored:
            raise ParseError("Bad checksum - calculated (0x%x), stored (0x%x)" % (crc, stored))
        pos = start + 3 + consumed
        # python-subunit's field offsets count from the flags, or from after
        # the header when the length took 3 bytes
        base = start + 1 if consumed != 3 else start + 6
        timestamp = test_id = test_tags = mime_type = file_name = file_bytes = None
        route_code = None
        if flags & FLAG_TIMESTAMP:
            if pos + 4 > end:
                raise _truncated(pos, base)
            seconds = int.from_bytes(buf[pos:pos + 4], "big")
            nanoseconds, pos = _varint(buf, pos + 4, end, base)
            if last_stamp[0] == seconds and last_stamp[1] == nanoseconds:
                timestamp = last_stamp[2]
            else:
                timestamp = EPOCH + _timedelta(seconds=seconds,
                                               microseconds=nanoseconds / 1000)
                last_stamp = (seconds, nanoseconds, timestamp)
        if flags & FLAG_TEST_ID:
            test_id, pos = _utf8(buf, pos, end, base)
        if flags & FLAG_TAGS:
            count, pos = _varint(buf, pos, end, base)
            test_tags = set()
            for _ in range(count):
                tag, pos = _utf8(buf, pos, end, base)
                test_tags.add(tag)
        if flags & FLAG_MIME_TYPE:
            mime_type, pos = _utf8(buf, pos, end, base)
        if flags & FLAG_FILE_CONTENT:
            file_name, pos = _utf8(buf, pos, end, base)
            size, pos = _varint(buf, pos, end, base)
            file_bytes = buf[pos:min(pos + size, end)]
            if len(file_bytes) != size:
                raise ParseError("File content extends past end of packet: claimed %d bytes, "
                                 "%d available" % (size, len(file_bytes)))
            pos += size
        if flags & FLAG_ROUTE_CODE:
            route_code, pos = _utf8(buf, pos, end, base)
        status(test_id, STATUSES[flags & 0x7], test_tags, bool(flags & FLAG_RUNNABLE),
               file_name, file_bytes, bool(flags & FLAG_EOF), mime_type, route_code, timestamp)
        return last_stamp
