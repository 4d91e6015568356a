"""JUnit XML parser: streams every ``testcase`` of a report into a Sink.

The document is parsed by defusedxml's expat-based ``XMLParser`` driven with a
push *target* (the event-level equivalent of ``iterparse``): no element tree is
built at all, so memory stays bounded by the largest single testcase however
long the file is. Each testcase becomes a TestResult at its end tag. A quick
first pass over the start tags counts the suites (see ``parse_junit``); a pipe
is spooled to a temporary file for it.

defusedxml rejects DTDs outright (``forbid_dtd``), which covers billion-laughs
and external-entity (XXE) documents before any entity is expanded or fetched.

Error messages are one line: ``<source>: line L, column C: <problem>``, with
1-based columns as editors show them.
"""
from __future__ import annotations

import datetime as dt
import math
import shutil
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import BinaryIO
from xml.parsers import expat

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from health_api.ingest.records import IngestError, Sink, TestResult, to_naive_utc

__all__ = ["JUnitSummary", "parse_junit"]

_CHUNK_SIZE = 64 * 1024
#: a non-seekable source is copied here for the pre-scan; spills to disk above this
_SPOOL_MAX_SIZE = 8 * 1024 * 1024
_SUITE_TAGS = ("testsuites", "testsuite")
#: testcase children whose text we keep; everything else inside a testcase is ignored
_CAPTURED_TAGS = frozenset({"failure", "error", "skipped", "system-out", "system-err"})
_NO_ELEMENTS = 3  # expat's XML_ERROR_NO_ELEMENTS: nothing, or an unclosed document


@dataclass(slots=True)
class JUnitSummary:
    """Counts as seen in the file (one per testcase with such a child)."""

    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0


def parse_junit(
    source: BinaryIO,
    sink: Sink,
    *,
    source_name: str,
    run_start: dt.datetime | None = None,
) -> JUnitSummary:
    """Parse a JUnit XML report from ``source``, calling ``sink`` once per testcase.

    Raises IngestError (naming ``source_name``) for malformed or unsafe XML, a
    root other than ``testsuites``/``testsuite``, an empty file, a nameless
    testcase or an unusable testsuite timestamp. ``sink`` may already have
    been called when that happens; the caller rolls the run back.
    """
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    with ExitStack() as stack:
        source, origin = _rewindable(source, stack)
        # Whether to record the ``suite`` metadata depends on the number of
        # suites, which a stream only reveals at its end: a cheap pre-scan
        # (start tags only, stopping at the second suite) decides it up front
        # instead of buffering results.
        counter = _SuiteCounter(source_name)
        try:
            _run(source, counter)
        except _EnoughSuites:
            pass
        source.seek(origin)

        target = _JUnitTarget(
            sink,
            source_name=source_name,
            run_start=to_naive_utc(run_start),
            now=now,
            several_suites=counter.suites >= 2,
        )
        _run(source, target)
        return target.summary


# --- driving the parser ------------------------------------------------------


class _Target:
    """What both parser targets share: the position of the current event."""

    def __init__(self, source_name: str):
        self.source_name = source_name
        self.root_seen = False
        self.sink_failed = False
        self._expat: expat.XMLParserType | None = None

    def error(self, problem: str) -> IngestError:
        assert self._expat is not None, "only called from parser callbacks"
        return IngestError(f"{self.source_name}: {_where(self._expat)}: {problem}")

    def check_root(self, tag: str) -> None:
        if not self.root_seen:
            self.root_seen = True
            if tag not in _SUITE_TAGS:
                raise self.error(
                    f"root element is <{_clip(tag)}>, expected <testsuites> or <testsuite>"
                )


def _run(source: BinaryIO, target: _Target) -> None:
    """Feed ``source`` through a defused parser, translating errors to IngestError."""
    source_name = target.source_name
    parser = DefusedXMLParser(target=target, forbid_dtd=True)
    # close() drops the parser's reference, so keep our own for error positions
    target._expat = expat_parser = parser.parser
    try:
        while chunk := source.read(_CHUNK_SIZE):
            parser.feed(chunk)
        parser.close()
    except ParseError as exc:
        if exc.code == _NO_ELEMENTS and not target.root_seen:
            raise IngestError(f"{source_name}: empty file, no XML element found") from None
        line, column = exc.position
        reason = expat.ErrorString(exc.code) if exc.code else str(exc)
        raise IngestError(
            f"{source_name}: line {line}, column {column + 1}: malformed XML: {reason}"
        ) from None
    except DefusedXmlException:
        raise IngestError(
            f"{source_name}: {_where(expat_parser)}: "
            "DOCTYPE found, entities/DTD are not allowed in JUnit XML"
        ) from None
    except (LookupError, ValueError) as exc:
        # expat asks Python's codecs about an unknown declared encoding, which
        # fails with these; the sink's own exceptions must pass through as they are
        if target.sink_failed:
            raise
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise IngestError(
            f"{source_name}: {_where(expat_parser)}: unsupported XML encoding ({detail})"
        ) from None


def _where(expat_parser: expat.XMLParserType) -> str:
    """The position of the event being handled, with a 1-based column."""
    return f"line {expat_parser.CurrentLineNumber}, column {expat_parser.CurrentColumnNumber + 1}"


def _rewindable(source: BinaryIO, stack: ExitStack) -> tuple[BinaryIO, int]:
    """``source`` and a position to seek back to, spooling pipes to a temp file."""
    try:
        if source.seekable():
            return source, source.tell()
    except (AttributeError, OSError, ValueError):
        pass
    spool = stack.enter_context(tempfile.SpooledTemporaryFile(max_size=_SPOOL_MAX_SIZE))
    shutil.copyfileobj(source, spool, _CHUNK_SIZE)
    spool.seek(0)
    return spool, 0  # type: ignore[return-value]


class _EnoughSuites(Exception):
    """Ends the pre-scan as soon as the answer is known."""


class _SuiteCounter(_Target):
    def __init__(self, source_name: str):
        super().__init__(source_name)
        self.suites = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        tag = _local_name(tag)
        self.check_root(tag)
        if tag == "testsuite":
            self.suites += 1
            if self.suites >= 2:
                raise _EnoughSuites


# --- the JUnit mapping -------------------------------------------------------


@dataclass(slots=True)
class _Suite:
    """A testsuite (or the testsuites root) being parsed."""

    depth: int
    name: str | None  # None for <testsuites>, whose name is not a suite name
    base: dt.datetime | None  # its own timestamp, else the enclosing one's
    cursor: dt.datetime | None  # stop time of its previous test


@dataclass(slots=True)
class _Case:
    depth: int
    test_id: str
    seconds: float | None
    failures: int = 0
    errors: int = 0
    skipped: bool = False
    skip_reason: str | None = None
    traceback: list[str] = field(default_factory=list)
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)


class _JUnitTarget(_Target):
    def __init__(
        self,
        sink: Sink,
        *,
        source_name: str,
        run_start: dt.datetime | None,
        now: dt.datetime,
        several_suites: bool,
    ):
        super().__init__(source_name)
        self.sink = sink
        self.run_start = run_start
        self.now = now
        self.several_suites = several_suites
        self.summary = JUnitSummary()
        self._depth = 0
        self._suites: list[_Suite] = []
        self._case: _Case | None = None
        self._child: tuple[str, dict[str, str]] | None = None  # captured testcase child
        self._text: list[str] = []

    # expat callbacks -----------------------------------------------------

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        tag = _local_name(tag)
        self._depth += 1
        self.check_root(tag)
        case = self._case
        if case is not None:
            if tag in ("testcase", "testsuite"):
                raise self.error(f"<{tag}> nested inside <testcase>")
            if self._depth == case.depth + 1 and tag in _CAPTURED_TAGS:
                self._child = (tag, attrib)
                self._text = []
        elif tag in _SUITE_TAGS:
            self._start_suite(tag, attrib)
        elif tag == "testcase":
            self._start_case(attrib)

    def data(self, text: str) -> None:
        if self._child is not None:
            self._text.append(text)

    def end(self, tag: str) -> None:
        case = self._case
        if case is not None:
            if self._depth == case.depth:
                self._case = None
                self._finish_case(case)
            elif self._depth == case.depth + 1 and self._child is not None:
                self._finish_child(case)
        elif self._suites and self._suites[-1].depth == self._depth:
            self._suites.pop()
        self._depth -= 1

    # mapping -------------------------------------------------------------

    def _start_suite(self, tag: str, attrib: dict[str, str]) -> None:
        base = self._timestamp(attrib.get("timestamp"))
        if base is None:
            base = self._suites[-1].base if self._suites else self.run_start
        name = (attrib.get("name") or None) if tag == "testsuite" else None
        self._suites.append(_Suite(self._depth, name, base, base))

    def _start_case(self, attrib: dict[str, str]) -> None:
        name = attrib.get("name", "")
        if not name.strip():
            raise self.error("<testcase> without a name")
        self._case = _Case(
            depth=self._depth,
            test_id=_test_id(attrib.get("classname", ""), name),
            seconds=_seconds(attrib.get("time")),
        )

    def _finish_child(self, case: _Case) -> None:
        assert self._child is not None
        tag, attrib = self._child
        text = "".join(self._text)
        self._child, self._text = None, []
        if tag in ("failure", "error"):
            if tag == "failure":
                case.failures += 1
            else:
                case.errors += 1
            case.traceback += [p for p in (attrib.get("message"), text) if p and p.strip()]
        elif tag == "skipped":
            case.skipped = True
            if case.skip_reason is None:
                reasons = [p for p in (attrib.get("message"), text) if p and p.strip()]
                case.skip_reason = reasons[0] if reasons else None
        elif tag == "system-out":
            case.stdout.append(text)
        else:
            case.stderr.append(text)

    def _finish_case(self, case: _Case) -> None:
        summary = self.summary
        summary.tests += 1
        summary.failures += case.failures > 0
        summary.errors += case.errors > 0
        summary.skipped += case.skipped
        if case.failures or case.errors:
            status = "fail"
        elif case.skipped:
            status = "skip"
        else:
            status = "success"

        suite = self._suites[-1]
        start = stop = None
        if suite.cursor is None and case.seconds is not None:
            suite.cursor = self.now  # a duration is worth keeping even without a clock
        if suite.cursor is not None:
            # cumulative: back-to-back tests keep their durations and order
            start = suite.cursor
            try:
                stop = start + dt.timedelta(seconds=case.seconds or 0.0)
            except OverflowError:
                raise self.error(f"testcase time {case.seconds!r} is out of range") from None
            suite.cursor = stop

        metadata: dict[str, str] = {}
        if self.several_suites and suite.name is not None:
            metadata["suite"] = suite.name
        if case.skip_reason is not None:
            metadata["skip_reason"] = case.skip_reason

        attachments: list[tuple[str, bytes]] = []
        for label, parts, separator in (
            ("traceback", case.traceback, "\n"),
            ("stdout", case.stdout, ""),
            ("stderr", case.stderr, ""),
        ):
            text = separator.join(parts)
            if text.strip():
                attachments.append((label, text.encode("utf-8")))

        result = TestResult(
            test_id=case.test_id,
            status=status,
            start_time=start,
            stop_time=stop,
            metadata=metadata,
            attachments=attachments,
        )
        try:
            self.sink(result)
        except BaseException:
            self.sink_failed = True
            raise

    def _timestamp(self, raw: str | None) -> dt.datetime | None:
        """ISO 8601 as naive UTC; a timestamp without a zone is taken as UTC."""
        if raw is None or not raw.strip():
            return None
        try:
            return to_naive_utc(dt.datetime.fromisoformat(raw.strip()))
        except (ValueError, OverflowError):
            raise self.error(f"invalid testsuite timestamp {_clip(raw)!r}") from None


def _test_id(classname: str, name: str) -> str:
    """``classname.name``, without repeating a name the classname already ends with."""
    if not classname:
        return name
    if classname == name or classname.endswith("." + name):
        return classname
    return f"{classname}.{name}"


def _seconds(raw: str | None) -> float | None:
    """The ``time`` attribute; unusable values count as missing, as Jenkins does."""
    if raw is None:
        return None
    try:
        value = float(raw.strip().replace(",", ""))  # "1,234.5": thousands separator
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def _clip(text: str, limit: int = 60) -> str:
    """Keeps quoted input short in error messages (``!r`` keeps it on one line)."""
    return text if len(text) <= limit else text[:limit] + "..."
