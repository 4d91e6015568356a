"""Tests for the streaming JUnit XML parser."""
from __future__ import annotations

import datetime as dt
import io
import time
import tracemalloc
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from health_api.ingest.junit import JUnitSummary, parse_junit
from health_api.ingest.records import IngestError
from health_api.ingest.records import TestResult as Result  # not named Test* so pytest won't collect it

DATA = Path(__file__).resolve().parent.parent / "data" / "junit"
RUN_START = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.timezone.utc)


def parse(data: bytes, **kwargs) -> tuple[list[Result], JUnitSummary]:
    results: list[Result] = []
    kwargs.setdefault("source_name", "report.xml")
    summary = parse_junit(io.BytesIO(data), results.append, **kwargs)
    return results, summary


def parse_file(name: str, **kwargs) -> tuple[list[Result], JUnitSummary]:
    return parse((DATA / name).read_bytes(), source_name=name, **kwargs)


def one(data: str | bytes, **kwargs) -> Result:
    if isinstance(data, str):
        data = data.encode("utf-8")
    results, _ = parse(data, **kwargs)
    assert len(results) == 1
    return results[0]


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args)


def error_of(data: bytes, source_name: str = "report.xml") -> str:
    with pytest.raises(IngestError) as info:
        parse(data, source_name=source_name)
    message = info.value.message
    assert "\n" not in message
    assert info.value.exit_code == 2
    return message


# --- sample files --------------------------------------------------------------


def test_pytest_report():
    results, summary = parse_file("pytest.xml")
    assert summary == JUnitSummary(tests=4, failures=1, errors=1, skipped=1)
    assert results == [
        Result(
            test_id="tests.test_math.test_add",
            status="success",
            start_time=at(2024, 5, 1, 8, 0, 0, 250000),
            stop_time=at(2024, 5, 1, 8, 0, 0, 750000),
        ),
        Result(
            test_id="tests.test_math.test_div",
            status="fail",
            start_time=at(2024, 5, 1, 8, 0, 0, 750000),
            stop_time=at(2024, 5, 1, 8, 0, 2),
            attachments=[
                (
                    "traceback",
                    b"ZeroDivisionError: division by zero\n"
                    b"def test_div():\n"
                    b">       assert 1 / 0\n"
                    b"E       ZeroDivisionError: division by zero\n"
                    b"\n"
                    b"tests/test_math.py:7: ZeroDivisionError",
                ),
                ("stdout", b"--- Captured stdout call ---\ndividing\n"),
                ("stderr", b"--- Captured stderr call ---\nwarning: zero\n"),
            ],
        ),
        Result(
            test_id="tests.test_math.test_skip",
            status="skip",
            start_time=at(2024, 5, 1, 8, 0, 2),
            stop_time=at(2024, 5, 1, 8, 0, 2),
            metadata={"skip_reason": "needs GPU"},
        ),
        Result(
            test_id="tests.test_io.test_fixture[param-1]",
            status="fail",
            start_time=at(2024, 5, 1, 8, 0, 2),
            stop_time=at(2024, 5, 1, 8, 0, 3, 500000),
            attachments=[
                (
                    "traceback",
                    b'failed on setup with "OSError: disk full"\n'
                    b"@pytest.fixture\n"
                    b"def tmp():\n"
                    b'>       raise OSError("disk full")\n'
                    b"E       OSError: disk full",
                )
            ],
        ),
    ]


def test_surefire_report_without_timestamp_uses_run_start():
    results, summary = parse_file("surefire.xml", run_start=RUN_START)
    assert summary == JUnitSummary(tests=5, failures=1, errors=1, skipped=1)
    after_slow = at(2024, 3, 1, 12, 20, 34, 512000)
    assert results == [
        Result(
            test_id="com.example.CalculatorTest.testAdd",
            status="success",
            start_time=at(2024, 3, 1, 12, 0, 0),
            stop_time=at(2024, 3, 1, 12, 0, 0, 12000),
        ),
        Result(
            test_id="com.example.CalculatorTest.testSlow",
            status="success",
            start_time=at(2024, 3, 1, 12, 0, 0, 12000),
            stop_time=after_slow,  # "1,234.5" seconds
        ),
        Result(
            test_id="com.example.CalculatorTest.testDivide",
            status="fail",
            start_time=after_slow,
            stop_time=at(2024, 3, 1, 12, 20, 34, 515000),
            attachments=[
                (
                    "traceback",
                    b"expected: <2> but was: <3>\n"
                    b"org.opentest4j.AssertionFailedError: expected: <2> but was: <3>\n"
                    b"\tat com.example.CalculatorTest.testDivide(CalculatorTest.java:25)\n",
                ),
                ("stdout", b"computing 6/3\n"),
            ],
        ),
        Result(
            test_id="com.example.CalculatorTest.testNetwork",
            status="fail",
            start_time=at(2024, 3, 1, 12, 20, 34, 515000),
            stop_time=at(2024, 3, 1, 12, 20, 34, 515000),  # empty time: zero length
            attachments=[
                ("traceback", b"Connection refused\njava.net.ConnectException: Connection refused")
            ],
        ),
        Result(
            test_id="com.example.CalculatorTest.testIgnored",
            status="skip",
            start_time=at(2024, 3, 1, 12, 20, 34, 515000),
            stop_time=at(2024, 3, 1, 12, 20, 34, 515000),
        ),
    ]


def test_nested_suites():
    results, summary = parse_file("nested.xml", run_start=RUN_START)
    assert summary == JUnitSummary(tests=5)
    assert [(r.test_id, r.start_time, r.stop_time, r.metadata) for r in results] == [
        ("api.test_users.test_list", at(2024, 2, 3, 4, 5, 6), at(2024, 2, 3, 4, 5, 8), {"suite": "api"}),
        # a nested suite without a timestamp starts at its parent's timestamp
        ("api.test_slow.test_bulk", at(2024, 2, 3, 4, 5, 6), at(2024, 2, 3, 4, 5, 16), {"suite": "api.slow"}),
        (
            "api.test_slow.test_bulk_again",
            at(2024, 2, 3, 4, 5, 16),
            at(2024, 2, 3, 4, 5, 21),
            {"suite": "api.slow"},
        ),
        # the parent's own tests carry on after its previous test
        ("api.test_users.test_get", at(2024, 2, 3, 4, 5, 8), at(2024, 2, 3, 4, 5, 9), {"suite": "api"}),
        ("test_click", at(2024, 2, 3, 6, 5, 6), at(2024, 2, 3, 6, 5, 6, 250000), {"suite": "ui"}),
    ]
    assert all(r.status == "success" and r.attachments == [] for r in results)


def test_unicode_names_and_escapes():
    results, summary = parse_file("unicode.xml")
    assert summary == JUnitSummary(tests=2, failures=1)
    assert results == [
        Result(
            test_id='tests.тест.test_名前[α<β & "γ"]',
            status="fail",
            start_time=at(2024, 6, 1, 12, 0),
            stop_time=at(2024, 6, 1, 12, 0, 0, 500000),
            attachments=[("traceback", "Ünïcode ✓ <fail>\nTraceback: 💥 & done".encode())],
        ),
        Result(
            test_id="naïve 'quoted' name",
            status="success",
            start_time=at(2024, 6, 1, 12, 0, 0, 500000),
            stop_time=at(2024, 6, 1, 12, 0, 1),
        ),
    ]


def test_declared_latin1_encoding():
    doc = '<?xml version="1.0" encoding="ISO-8859-1"?><testsuite><testcase name="café"/></testsuite>'
    assert one(doc.encode("latin-1")).test_id == "café"


def test_utf16_document():
    doc = '<?xml version="1.0" encoding="UTF-16"?><testsuite><testcase name="ħ"/></testsuite>'
    assert one(doc.encode("utf-16")).test_id == "ħ"


# --- test ids --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ('classname="pkg.Mod" name="test_x"', "pkg.Mod.test_x"),
        ('name="test_x"', "test_x"),
        ('classname="" name="test_x"', "test_x"),
        ('classname="pkg.Mod.test_x" name="test_x"', "pkg.Mod.test_x"),
        ('classname="test_x" name="test_x"', "test_x"),
        # only a whole dotted component counts as "already ends with the name"
        ('classname="pkg.my_test" name="test"', "pkg.my_test.test"),
        ('classname="pkg.Mod" name="test_x[a.b]"', "pkg.Mod.test_x[a.b]"),
    ],
)
def test_test_id(attributes, expected):
    assert one(f"<testsuite><testcase {attributes}/></testsuite>").test_id == expected


# --- status ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("children", "status", "summary"),
    [
        ("", "success", JUnitSummary(tests=1)),
        ("<failure/>", "fail", JUnitSummary(tests=1, failures=1)),
        ("<error/>", "fail", JUnitSummary(tests=1, errors=1)),
        ("<skipped/>", "skip", JUnitSummary(tests=1, skipped=1)),
        ("<skipped/><failure/>", "fail", JUnitSummary(tests=1, failures=1, skipped=1)),
        ("<failure/><error/>", "fail", JUnitSummary(tests=1, failures=1, errors=1)),
        # surefire reruns that eventually passed are not failures
        ("<flakyFailure message='x'/><rerunFailure/>", "success", JUnitSummary(tests=1)),
        ("<properties><property name='a' value='b'/></properties>", "success", JUnitSummary(tests=1)),
    ],
)
def test_status(children, status, summary):
    results, seen = parse(f"<testsuite><testcase name='t'>{children}</testcase></testsuite>".encode())
    assert [r.status for r in results] == [status]
    assert seen == summary


def test_failure_and_error_texts_are_joined_into_one_traceback():
    result = one(
        "<testsuite><testcase name='t'>"
        "<failure message='first'>trace 1</failure>"
        "<error message='teardown'><![CDATA[trace <2>]]></error>"
        "</testcase></testsuite>"
    )
    assert result.attachments == [("traceback", b"first\ntrace 1\nteardown\ntrace <2>")]


@pytest.mark.parametrize(
    ("child", "traceback"),
    [
        ("<failure message='only message'/>", b"only message"),
        ("<failure>only text</failure>", b"only text"),
        ("<failure message=''>  \n </failure>", None),
        ("<failure message='m'>text with <b>markup</b> inside</failure>", b"m\ntext with markup inside"),
    ],
)
def test_traceback_parts(child, traceback):
    result = one(f"<testsuite><testcase name='t'>{child}</testcase></testsuite>")
    assert result.status == "fail"
    expected = [] if traceback is None else [("traceback", traceback)]
    assert result.attachments == expected


def test_stdout_stderr_attachments_order_and_blank_output():
    result = one(
        "<testsuite><testcase name='t'>"
        "<system-err>err ✓</system-err><system-out>out</system-out><system-out>  </system-out>"
        "<failure message='m'/></testcase>"
        "<system-out>suite output</system-out><system-err>suite err</system-err></testsuite>"
    )
    assert result.attachments == [("traceback", b"m"), ("stdout", b"out  "), ("stderr", "err ✓".encode())]


@pytest.mark.parametrize(
    ("child", "metadata"),
    [
        ("<skipped message='reason'>file.py:3: reason</skipped>", {"skip_reason": "reason"}),
        ("<skipped>only text</skipped>", {"skip_reason": "only text"}),
        ("<skipped message=''/>", {}),
        ("<skipped/>", {}),
    ],
)
def test_skip_reason(child, metadata):
    result = one(f"<testsuite><testcase name='t'>{child}</testcase></testsuite>")
    assert (result.status, result.metadata, result.attachments) == ("skip", metadata, [])


# --- suite metadata ----------------------------------------------------------------


def test_single_suite_under_testsuites_has_no_suite_metadata():
    doc = "<testsuites><testsuite name='only'><testcase name='t'/></testsuite></testsuites>"
    assert one(doc).metadata == {}


def test_suite_metadata_when_several_suites():
    results, _ = parse(
        b"<testsuites>"
        b"<testsuite name='one'><testcase name='a'/></testsuite>"
        b"<testsuite><testcase name='b'/></testsuite>"
        b"<testsuite name='three'><testcase name='c'/></testsuite>"
        b"</testsuites>"
    )
    assert [r.metadata for r in results] == [{"suite": "one"}, {}, {"suite": "three"}]


def test_testcase_directly_under_testsuites():
    result = one("<testsuites><testcase classname='c' name='t' time='1'/></testsuites>", run_start=RUN_START)
    assert (result.test_id, result.start_time, result.stop_time) == (
        "c.t",
        at(2024, 3, 1, 12),
        at(2024, 3, 1, 12, 0, 1),
    )


# --- durations and timestamps ---------------------------------------------------


@pytest.mark.parametrize(
    ("time_attribute", "seconds"),
    [
        ('time="1.5"', 1.5),
        ('time="1,234.5"', 1234.5),
        ('time=" 2 "', 2.0),
        ('time="0"', 0.0),
        ('time=""', 0.0),
        ("", 0.0),
        ('time="n/a"', 0.0),
        ('time="-3"', 0.0),
        ('time="nan"', 0.0),
        ('time="inf"', 0.0),
    ],
)
def test_duration(time_attribute, seconds):
    doc = f"<testsuite timestamp='2024-01-02T03:04:05'><testcase name='t' {time_attribute}/></testsuite>"
    result = one(doc)
    assert result.start_time == at(2024, 1, 2, 3, 4, 5)
    assert result.duration == seconds


@pytest.mark.parametrize(
    ("timestamp", "start"),
    [
        ("2024-01-02T03:04:05", at(2024, 1, 2, 3, 4, 5)),
        ("2024-01-02T03:04:05Z", at(2024, 1, 2, 3, 4, 5)),
        ("2024-01-02T03:04:05+05:30", at(2024, 1, 1, 21, 34, 5)),
        ("2024-01-02T03:04:05.123456-02:00", at(2024, 1, 2, 5, 4, 5, 123456)),
        ("2024-01-02 03:04:05", at(2024, 1, 2, 3, 4, 5)),
        (" 2024-01-02T03:04:05 ", at(2024, 1, 2, 3, 4, 5)),
    ],
)
def test_suite_timestamp_is_naive_utc_and_wins_over_run_start(timestamp, start):
    doc = f"<testsuite timestamp='{timestamp}'><testcase name='t' time='1'/></testsuite>"
    result = one(doc, run_start=RUN_START)
    assert (result.start_time, result.stop_time) == (start, start + dt.timedelta(seconds=1))


def test_durations_are_cumulative_within_a_suite():
    results, _ = parse(
        b"<testsuite timestamp='2024-01-01T00:00:00'>"
        b"<testcase name='a' time='0.25'/><testcase name='b' time='1.5'/><testcase name='c' time='2'/>"
        b"</testsuite>"
    )
    assert [(r.start_time, r.stop_time) for r in results] == [
        (at(2024, 1, 1, 0, 0, 0), at(2024, 1, 1, 0, 0, 0, 250000)),
        (at(2024, 1, 1, 0, 0, 0, 250000), at(2024, 1, 1, 0, 0, 1, 750000)),
        (at(2024, 1, 1, 0, 0, 1, 750000), at(2024, 1, 1, 0, 0, 3, 750000)),
    ]


def test_each_suite_without_timestamp_starts_at_run_start():
    results, _ = parse(
        b"<testsuites><testsuite name='x'><testcase name='a' time='5'/></testsuite>"
        b"<testsuite name='y'><testcase name='b' time='1'/></testsuite></testsuites>",
        run_start=dt.datetime(2024, 3, 1, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    )
    assert [(r.start_time, r.stop_time) for r in results] == [
        (at(2024, 3, 1, 12, 0, 0), at(2024, 3, 1, 12, 0, 5)),
        (at(2024, 3, 1, 12, 0, 0), at(2024, 3, 1, 12, 0, 1)),
    ]


def test_naive_run_start_is_taken_as_utc():
    result = one("<testsuite><testcase name='t' time='1'/></testsuite>", run_start=at(2024, 3, 1))
    assert (result.start_time, result.stop_time) == (at(2024, 3, 1), at(2024, 3, 1, 0, 0, 1))


def test_no_clock_and_no_time_leaves_times_unset():
    results, _ = parse(b"<testsuite><testcase name='a'/><testcase name='b' time=''/></testsuite>")
    assert [(r.start_time, r.stop_time, r.duration) for r in results] == [(None, None, None)] * 2


def test_no_clock_but_a_time_uses_the_current_time_once():
    before = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    results, _ = parse(
        b"<testsuite><testcase name='a'/><testcase name='b' time='2'/><testcase name='c' time='3'/>"
        b"<testcase name='d'/></testsuite>"
    )
    after = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    a, b, c, d = results
    assert (a.start_time, a.stop_time) == (None, None)
    assert before <= b.start_time <= after
    assert b.duration == 2.0 and c.start_time == b.stop_time and c.duration == 3.0
    assert (d.start_time, d.stop_time) == (c.stop_time, c.stop_time)


def test_result_has_no_tags():
    assert one("<testsuite><testcase name='t'/></testsuite>").tags == frozenset()


# --- sources -----------------------------------------------------------------------


class _Pipe(io.RawIOBase):
    """A non-seekable stream, like stdin."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self._data.read(min(len(buffer), 1000))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_non_seekable_source_gives_the_same_results():
    data = (DATA / "nested.xml").read_bytes()
    expected, _ = parse(data, run_start=RUN_START)
    results: list[Result] = []
    summary = parse_junit(_Pipe(data), results.append, source_name="-", run_start=RUN_START)
    assert results == expected and summary.tests == 5


def test_source_read_from_its_current_position():
    data = b"garbage before<testsuite><testcase name='t'/></testsuite>"
    source = io.BytesIO(data)
    source.seek(len(b"garbage before"))
    results: list[Result] = []
    parse_junit(source, results.append, source_name="x")
    assert [r.test_id for r in results] == ["t"]


# --- bad and hostile input ------------------------------------------------------


def test_billion_laughs_is_rejected_quickly():
    started = time.perf_counter()
    message = error_of((DATA / "billion_laughs.xml").read_bytes(), "billion_laughs.xml")
    assert time.perf_counter() - started < 5.0  # expanding it would take minutes and GBs
    assert message == (
        "billion_laughs.xml: line 2, column 16: DOCTYPE found, entities/DTD are not allowed in JUnit XML"
    )


def test_external_entity_is_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    doc = (
        f'<?xml version="1.0"?>\n<!DOCTYPE testsuite [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>\n'
        '<testsuite><testcase name="&xxe;"><failure>&xxe;</failure></testcase></testsuite>'
    ).encode()
    results: list[Result] = []
    with pytest.raises(IngestError) as info:
        parse_junit(io.BytesIO(doc), results.append, source_name="xxe.xml")
    assert info.value.message.startswith("xxe.xml: line 2, column ")
    assert "entities/DTD are not allowed" in info.value.message
    assert "TOP-SECRET" not in info.value.message
    assert results == []


@pytest.mark.parametrize(
    "doc",
    [
        b'<!DOCTYPE testsuite><testsuite><testcase name="t"/></testsuite>',
        b'<!DOCTYPE testsuite SYSTEM "junit.dtd"><testsuite/>',
        b'<!DOCTYPE t [<!ENTITY % p SYSTEM "p.dtd"> %p;]><testsuite/>',
        b'<!DOCTYPE t [<!ENTITY a "b">]><testsuite><testcase name="&a;"/></testsuite>',
    ],
)
def test_any_dtd_is_rejected(doc):
    assert "entities/DTD are not allowed" in error_of(doc)


def test_undeclared_entity_is_malformed():
    message = error_of(b'<testsuite>\n<testcase name="&xxe;"/></testsuite>')
    assert message == "report.xml: line 2, column 1: malformed XML: undefined entity"


def test_truncated_file_reports_line():
    assert error_of((DATA / "truncated.xml").read_bytes(), "truncated.xml") == (
        "truncated.xml: line 6, column 1: malformed XML: no element found"
    )


def test_mismatched_tag_reports_line_and_column():
    assert error_of(b"<testsuite>\n  <testcase name='a'>\n</testsuite>") == (
        "report.xml: line 3, column 3: malformed XML: mismatched tag"
    )


def test_not_xml():
    assert error_of(b"PASS tests/test_a.py") == "report.xml: line 1, column 1: malformed XML: syntax error"


@pytest.mark.parametrize("data", [b"", b" \n\t", b'<?xml version="1.0"?>\n<!-- nothing -->\n'])
def test_empty_file(data):
    assert error_of(data) == "report.xml: empty file, no XML element found"


@pytest.mark.parametrize(
    ("doc", "position", "root"),
    [
        (b"<html><body/></html>", "line 1, column 1", "html"),
        (b"\n  <testcase name='t'/>", "line 2, column 3", "testcase"),
    ],
)
def test_wrong_root(doc, position, root):
    assert error_of(doc) == (
        f"report.xml: {position}: root element is <{root}>, expected <testsuites> or <testsuite>"
    )


def test_wrong_root_is_rejected_before_reading_the_rest():
    calls: list[Result] = []
    doc = b"<html>" + b"<p>x</p>" * 10_000 + b"<testsuite><testcase name='t'/></testsuite></html>"
    with pytest.raises(IngestError):
        parse_junit(io.BytesIO(doc), calls.append, source_name="x")
    assert calls == []


@pytest.mark.parametrize("attributes", ["", 'name=""', 'name="  "', 'classname="a.B"'])
def test_testcase_without_name(attributes):
    doc = f"<testsuite>\n<testcase name='ok'/>\n  <testcase {attributes}/></testsuite>".encode()
    assert error_of(doc) == "report.xml: line 3, column 3: <testcase> without a name"


def test_nested_testcase_is_rejected():
    message = error_of(b"<testsuite><testcase name='a'><testcase name='b'/></testcase></testsuite>")
    assert message == "report.xml: line 1, column 31: <testcase> nested inside <testcase>"


def test_invalid_timestamp():
    assert error_of(b"<testsuites>\n<testsuite timestamp='yesterday\nnoon'/></testsuites>") == (
        "report.xml: line 2, column 1: invalid testsuite timestamp 'yesterday noon'"
    )


@pytest.mark.parametrize(
    ("encoding", "detail"),
    [
        ("no-such-codec", "unknown encoding: no-such-codec"),
        ("shift_jis", "multi-byte encodings are not supported"),
    ],
)
def test_unsupported_declared_encoding(encoding, detail):
    doc = f'<?xml version="1.0" encoding="{encoding}"?><testsuite/>'.encode()
    assert error_of(doc) == f"report.xml: line 1, column 31: unsupported XML encoding ({detail})"


def test_sink_exceptions_pass_through_unchanged():
    def sink(result: Result) -> None:
        raise ValueError("database went away")

    with pytest.raises(ValueError, match="database went away"):
        parse_junit(io.BytesIO(b"<testsuite><testcase name='t'/></testsuite>"), sink, source_name="x")


def test_time_out_of_range():
    message = error_of(b"<testsuite timestamp='2024-01-01'><testcase name='t' time='1e300'/></testsuite>")
    assert message.startswith("report.xml: line 1, column ") and message.endswith("is out of range")


# --- bounded memory --------------------------------------------------------------


def test_large_file_parses_in_bounded_memory(tmp_path):
    path = tmp_path / "large.xml"
    output = "captured output line\n" * 30
    cases = 50_000
    with path.open("wb") as out:
        out.write(b'<?xml version="1.0"?>\n<testsuites>\n')
        out.write(b'<testsuite name="big" timestamp="2024-01-01T00:00:00Z">\n')
        for i in range(cases):
            out.write(
                f'<testcase classname="pkg.module" name="test_{i}" time="0.001">'
                f"<system-out>{output}</system-out></testcase>\n".encode()
            )
        out.write(b"</testsuite></testsuites>\n")
    limit = 30 * 1024 * 1024
    assert path.stat().st_size > limit

    count = 0
    last: Result | None = None

    def sink(result: Result) -> None:
        nonlocal count, last
        count += 1
        last = result

    tracemalloc.start()
    try:
        with path.open("rb") as source:
            summary = parse_junit(source, sink, source_name="large.xml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < limit
    assert count == summary.tests == cases
    assert last is not None and last.test_id == f"pkg.module.test_{cases - 1}"
    assert last.stop_time == at(2024, 1, 1, 0, 0, 50)
    assert last.attachments == [("stdout", output.encode())]


# --- property-based --------------------------------------------------------------


def _outcome(data: bytes) -> list[Result] | IngestError:
    try:
        return parse(data, run_start=RUN_START)[0]
    except IngestError as exc:
        assert exc.message and "\n" not in exc.message
        return exc


_SEED = (DATA / "pytest.xml").read_bytes()


@st.composite
def _mutated_seed(draw: st.DrawFn) -> bytes:
    data = bytearray(_SEED)
    for _ in range(draw(st.integers(1, 5))):
        position = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        chunk = draw(st.binary(min_size=1, max_size=8))
        if action == "insert":
            data[position:position] = chunk
        elif action == "delete":
            del data[position : position + len(chunk)]
        else:
            data[position : position + len(chunk)] = chunk
    return bytes(data)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=2000), _mutated_seed()))
def test_arbitrary_bytes_give_results_or_ingest_error(data):
    outcome = _outcome(data)
    if not isinstance(outcome, IngestError):
        assert all(isinstance(r, Result) and r.test_id.strip() for r in outcome)


# Text that XML 1.0 can carry: no surrogates, no C0 controls except \t \n \r.
_xml_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff")
    | st.sampled_from("\t\n\r<>&\"'.[]"),
    max_size=12,
)
_name = _xml_text.filter(lambda s: s.strip())


def _attribute(key: str, value: str | None) -> str:
    return "" if value is None else f" {key}={quoteattr(value)}"


def _text(value: str) -> str:
    return escape(value).replace("\r", "&#13;")  # a literal \r would be normalized away


@st.composite
def _case(draw: st.DrawFn) -> dict:
    return {
        "classname": draw(st.none() | st.just("") | _xml_text | st.sampled_from(["pkg.Mod", "pkg.Mod.t"])),
        "name": draw(_name | st.just("t")),
        "outcome": draw(st.sampled_from(["success", "failure", "error", "skipped"])),
        "message": draw(st.none() | _xml_text),
        "body": draw(_xml_text),
        "stdout": draw(st.none() | _xml_text),
        "stderr": draw(st.none() | _xml_text),
        "millis": draw(st.none() | st.integers(0, 5_000_000)),
        "time_style": draw(st.sampled_from(["plain", "grouped", "empty"])),
    }


_timestamps = st.none() | st.datetimes(
    min_value=dt.datetime(2000, 1, 1),
    max_value=dt.datetime(2090, 1, 1),
    timezones=st.none() | st.integers(-1439, 1439).map(lambda m: dt.timezone(dt.timedelta(minutes=m))),
)


@st.composite
def _suite(draw: st.DrawFn) -> dict:
    return {
        "name": draw(st.none() | _xml_text),
        "timestamp": draw(_timestamps),
        "cases": draw(st.lists(_case(), max_size=5)),
    }


def _render(suites: list[dict], wrap: bool) -> bytes:
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    if wrap:
        out.append('<testsuites name="all">\n')
    for suite in suites:
        stamp = suite["timestamp"].isoformat() if suite["timestamp"] else None
        out.append(f"<testsuite{_attribute('name', suite['name'])}{_attribute('timestamp', stamp)}>\n")
        for case in suite["cases"]:
            time_value = None
            if case["millis"] is not None:
                seconds = case["millis"] / 1000
                time_value = f"{seconds:,.3f}" if case["time_style"] == "grouped" else f"{seconds:.3f}"
            elif case["time_style"] == "empty":
                time_value = ""
            out.append(
                f"  <testcase{_attribute('classname', case['classname'])}{_attribute('name', case['name'])}"
                f"{_attribute('time', time_value)}>"
            )
            if case["outcome"] != "success":
                tag = case["outcome"]
                message = _attribute("message", case["message"])
                out.append(f"<{tag}{message}>{_text(case['body'])}</{tag}>")
            if case["stdout"] is not None:
                out.append(f"<system-out>{_text(case['stdout'])}</system-out>")
            if case["stderr"] is not None:
                out.append(f"<system-err>{_text(case['stderr'])}</system-err>")
            out.append("</testcase>\n")
        out.append("</testsuite>\n")
    if wrap:
        out.append("</testsuites>\n")
    return "".join(out).encode("utf-8")


def _expected(suites: list[dict]) -> tuple[list[Result], JUnitSummary]:
    """An independent model of the mapping rules."""
    results = []
    summary = JUnitSummary()
    for suite in suites:
        stamp = suite["timestamp"]
        if stamp is None:
            cursor = RUN_START.replace(tzinfo=None)
        elif stamp.tzinfo is None:
            cursor = stamp
        else:
            cursor = stamp.astimezone(dt.timezone.utc).replace(tzinfo=None)
        for case in suite["cases"]:
            classname, name = case["classname"], case["name"]
            if not classname:
                test_id = name
            elif classname == name or classname.endswith("." + name):
                test_id = classname
            else:
                test_id = f"{classname}.{name}"
            start = cursor
            cursor = stop = start + dt.timedelta(milliseconds=case["millis"] or 0)

            outcome = case["outcome"]
            summary.tests += 1
            metadata = {}
            if len(suites) > 1 and suite["name"]:
                metadata["suite"] = suite["name"]
            parts = [p for p in (case["message"], case["body"]) if p and p.strip()]
            attachments = []
            if outcome in ("failure", "error"):
                status = "fail"
                if outcome == "failure":
                    summary.failures += 1
                else:
                    summary.errors += 1
                if parts:
                    attachments.append(("traceback", "\n".join(parts).encode()))
            elif outcome == "skipped":
                status = "skip"
                summary.skipped += 1
                if parts:
                    metadata["skip_reason"] = parts[0]
            else:
                status = "success"
            for label, text in (("stdout", case["stdout"]), ("stderr", case["stderr"])):
                if text and text.strip():
                    attachments.append((label, text.encode()))
            results.append(Result(test_id, status, start, stop, frozenset(), metadata, attachments))
    return results, summary


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(suites=st.lists(_suite(), min_size=1, max_size=3), wrap=st.booleans())
def test_generated_documents_round_trip(suites, wrap):
    wrap = wrap or len(suites) > 1
    results, summary = parse(_render(suites, wrap), run_start=RUN_START)
    expected_results, expected_summary = _expected(suites)
    assert results == expected_results
    assert summary == expected_summary
