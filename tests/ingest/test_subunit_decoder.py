"""The ingest's own subunit v2 decoder (health_api.ingest.subunit_v2) yields
what python-subunit's ByteStreamToStreamResult yields through the same
assembler: the same test results, or the same one-line error, on streams
written by python-subunit's encoder, then corrupted, truncated or mixed with
stray bytes. A bad packet is named by its start (the old reader named the
last byte python-subunit read with read(1), sometimes inside the packet). Where python-subunit fails with a bare struct.error (a packet
whose checksum is right but whose fields run past its end) ours is a
one-line IngestError instead."""
from __future__ import annotations

import datetime as dt
import io
import tempfile

import pytest
import subunit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from health_api.ingest import subunit as ours
from health_api.ingest.records import IngestError

_UTC = dt.timezone.utc
_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
                min_size=1, max_size=30)
_status = st.sampled_from([None, "exists", "inprogress", "success", "uxsuccess", "skip",
                           "fail", "xfail"])
_event = st.fixed_dictionaries(
    {"test_id": st.one_of(st.none(), st.sampled_from(["t.a", "t.b[x,y]", "t.c"]), _text),
     "test_status": _status},
    optional={
        "timestamp": st.datetimes(min_value=dt.datetime(1970, 1, 1),
                                  max_value=dt.datetime(2100, 1, 1),
                                  timezones=st.just(_UTC)),
        "test_tags": st.sets(_text, max_size=3),
        "route_code": st.sampled_from(["0", "1", "w/0"]),
        "file": st.tuples(_text, st.binary(max_size=200), st.booleans()),
        "mime_type": st.just("text/plain;charset=utf8"),
        "runnable": st.booleans(),
    })


def _encode(events: list[dict], big_file: bool = False) -> bytes:
    out = io.BytesIO()
    writer = subunit.StreamResultToBytes(out)
    for event in events:
        event = dict(event)
        if "file" in event:
            name, data, eof = event.pop("file")
            event.update(file_name=name, file_bytes=data, eof=eof)
        writer.status(**event)
    if big_file:  # a packet whose length takes 3 bytes (offsets count differently)
        writer.status(test_id="t.big", file_name="log", file_bytes=b"x" * 20_000, eof=True)
        writer.status(test_id="t.big", test_status="success")
    return out.getvalue()


class _Tracking:
    """python-subunit's reads of a file, remembering where the last packet
    started. A real file, as the CLI reads: python-subunit gathers stray
    bytes with select() where the source has a file descriptor, and one byte
    at a time otherwise, which treats a 0xb3 that ends a UTF-8 character as
    the start of a packet."""

    packet_start = 0

    def __init__(self, data: bytes):
        self.file = tempfile.TemporaryFile()
        self.file.write(data)
        self.file.seek(0)

    def read(self, size=-1):
        if size == 1:
            self.packet_start = self.file.tell()
        # a length under 6 has python-subunit ask for a negative size: the
        # old reader read to the end then, as files refuse sizes under -1
        return self.file.read(max(size, -1))

    def tell(self) -> int:
        return self.file.tell()

    def fileno(self) -> int:
        return self.file.fileno()


def _reference(data: bytes, non_subunit_name=None, keep_files=True):
    """What ingest yielded with python-subunit decoding: (results, error)."""
    results = []
    source = _Tracking(data)
    assembler = ours._Assembler(results.append, "s", source, keep_files)
    try:
        subunit.ByteStreamToStreamResult(source, non_subunit_name=non_subunit_name).run(
            assembler)
    except IngestError as exc:
        return results, exc.message
    except Exception as exc:  # noqa: BLE001 - python-subunit's bare errors
        if exc.args and exc.args[0] == "Non subunit content":
            return results, ("s: not a subunit v2 stream: unexpected byte "
                             f"0x{exc.args[1].hex()} at byte {source.tell() - 1} "
                             "(use --non-subunit-name NAME to accept mixed streams)")
        return results, f"crashed: {type(exc).__name__}"
    finally:
        source.file.close()
    assembler.finish()
    return results, None


def _ours(data: bytes, non_subunit_name=None, keep_files=True):
    results = []
    try:
        ours.parse_subunit(io.BytesIO(data), results.append, source_name="s",
                           non_subunit_name=non_subunit_name, store_attachments=keep_files)
    except IngestError as exc:
        return results, exc.message
    return results, None


def _same(data: bytes, non_subunit_name=None) -> None:
    expected, expected_error = _reference(data, non_subunit_name)
    got, error = _ours(data, non_subunit_name)
    if expected_error is None:
        assert error is None
        assert [_key(r) for r in got] == [_key(r) for r in expected]
        return
    assert error is not None
    if expected_error.startswith("crashed"):
        assert "corrupt subunit stream at byte" in error and "extends past end" in error
    elif "corrupt subunit stream" in expected_error:
        # python-subunit reading a packet's last byte with read(1) (a short
        # packet, a 7-byte one) looked like a new packet to the old reader,
        # which then named that byte; ours names the start of the bad packet
        at, message = _offset_and_message(error)
        expected_at, expected_message = _offset_and_message(expected_error)
        assert message == expected_message and at <= expected_at, (error, expected_error)
    else:
        assert error == expected_error
    # tests finished before the bad packet went to the sink in the same order
    assert [_key(r) for r in got] == [_key(r) for r in expected]


def _offset_and_message(error: str) -> tuple[int, str]:
    head, _, message = error.partition(": corrupt subunit stream at byte ")
    at, _, message = message.partition(": ")
    return int(at), message


def _key(result):
    return (result.test_id, result.status, result.start_time, result.stop_time,
            sorted(result.tags), sorted(result.metadata.items()),
            [(name, bytes(data)) for name, data in result.attachments])


_settings = settings(max_examples=150, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])


@_settings
@given(st.lists(_event, max_size=12), st.booleans())
def test_well_formed_streams_decode_alike(events, big_file):
    _same(_encode(events, big_file))


@_settings
@given(st.lists(_event, min_size=1, max_size=6), st.data())
def test_corrupted_streams_fail_alike(events, data):
    stream = bytearray(_encode(events, big_file=data.draw(st.booleans())))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(stream) - 1))
        stream[at] = data.draw(st.integers(0, 255))
    _same(bytes(stream))


@_settings
@given(st.lists(_event, min_size=1, max_size=6), st.data())
def test_truncated_streams_fail_alike(events, data):
    stream = _encode(events)
    _same(stream[:data.draw(st.integers(0, len(stream) - 1))])


@_settings
@given(st.lists(_event, max_size=6), st.binary(min_size=1, max_size=8), st.data(),
       st.sampled_from([None, "stdout"]))
def test_stray_bytes_alike(events, junk, data, non_subunit_name):
    stream = _encode(events)
    at = data.draw(st.integers(0, len(stream)))
    _same(stream[:at] + junk + stream[at:], non_subunit_name)


@pytest.mark.parametrize("packet, message", [
    (b"\xb3\x0b\x00", "Short read - got 2 bytes, wanted 5 bytes"),
    (b"\xb3\x0b\x00\xc0\x00\x00\x00", "3 byte maximum given but 4 byte value found."),
    (b"\xb3\x0b\x00\x03\x00\x00ab", "Short read - got 2 bytes, wanted -3 bytes"),
    (b"\xb3\x0b\x00\x20\x00\x00", "Short read - got 0 bytes, wanted 26 bytes"),
])
def test_header_errors_name_python_subunits_messages(packet, message):
    assert _reference(packet)[1].endswith(message)
    assert _ours(packet)[1] == f"s: corrupt subunit stream at byte 0: {message}"


def test_fields_past_the_packet_end_are_an_ingest_error_not_a_crash():
    import zlib
    head = b"\xb3\x28\x00\x08"  # test id flag, length 8: no room for the id
    packet = head + zlib.crc32(head).to_bytes(4, "big")
    assert _reference(packet)[1] == "crashed: error"  # struct.error
    assert _ours(packet)[1] == ("s: corrupt subunit stream at byte 0: Field at offset 3 "
                                "extends past end of packet")
