"""Issue 16, defect 5: bad input to `ci-health ingest` is one line and exit 2
on every engine, with the same limits everywhere, and nothing stored."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from streams import ingest, run_cli, snapshot, stream, table_counts


def _assert_refused(result, *fragments: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ci-health: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture
def stored(db_url, engine):
    """A run stored before the bad input, and a snapshot to compare with."""
    ingest(db_url, stream(("pkg.kept", "success")))
    return snapshot(engine)


@pytest.mark.parametrize("tests, fragment", [
    ([("pkg.ok", "success"), ("pkg." + "x" * 9996, "success")], "test id of 10000 characters"),
    ([("pkg." + "y" * 253, "fail")], "test id of 257 characters (at most 256)"),
])
def test_too_long_test_id(db_url, engine, stored, tests, fragment):
    result = run_cli("ingest", "subunit", "--db", db_url, "-", input=stream(*tests))
    _assert_refused(result, fragment)
    assert snapshot(engine) == stored


def test_longest_test_id_is_stored_everywhere(db_url, engine):
    name = "pkg." + "z" * 252
    assert ingest(db_url, stream((name, "success")))["tests"] == 1


@pytest.mark.parametrize("args, fragments", [
    (("--run-id", "r" * 40), ("--run-id", "at most 36 characters, got 40")),
    (("--run-at", "0001-01-01T00:00:00+05:00"), ("--run-at", "out of range")),
    (("--run-at", "9999-12-31T00:00:00"), ("--run-at", "out of range")),
    (("--run-at", "1969-12-31T23:59:59Z"), ("--run-at", "out of range")),
])
def test_bad_run_options(db_url, engine, stored, args, fragments):
    result = run_cli("ingest", "subunit", "--db", db_url, *args, "-",
                     input=stream(("pkg.new", "success")))
    _assert_refused(result, *fragments)
    assert snapshot(engine) == stored


def test_longest_run_id_is_stored_everywhere(db_url):
    assert ingest(db_url, stream(("pkg.a", "success")), "--run-id", "r" * 36)["tests"] == 1


def test_run_meta_that_is_not_utf8(db_url, engine, stored):
    # a real process: the shell hands the bytes over as they are
    done = subprocess.run([sys.executable, "-m", "health_api.cli", "ingest", "subunit",
                           "--db", db_url, b"--run-meta", b"build_name=a\xffb", "-"],
                          input=stream(("pkg.new", "success")), capture_output=True,
                          timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ci-health: error: --run-meta: not valid "
                                                   "UTF-8"), lines
    assert snapshot(engine) == stored


@pytest.mark.parametrize("data", [b"", stream()])
def test_empty_file_is_refused_unless_allowed(db_url, engine, stored, tmp_path, data):
    path = tmp_path / "empty.subunit"
    path.write_bytes(data)
    result = run_cli("ingest", "subunit", "--db", db_url, str(path))
    _assert_refused(result, str(path), "no test results", "--allow-empty")
    assert snapshot(engine) == stored
    out = ingest(db_url, data, "--allow-empty")
    assert out["tests"] == 0
    assert table_counts(engine)["runs"] == 2


def test_stop_before_start_is_refused(db_url, engine, stored):
    # a test whose clock went backwards stored a run time of -4294967295
    result = run_cli("ingest", "subunit", "--db", db_url, "-",
                     input=stream(("pkg.ok", "success"), ("pkg.back", "success", -5.0)))
    _assert_refused(result, "'pkg.back' stops before it starts")
    assert snapshot(engine) == stored


@pytest.mark.parametrize("start", [dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc),
                                   dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2)])
def test_stream_dated_in_the_future_is_refused(db_url, engine, stored, start):
    # without --run-at the stream's first timestamp dates the run: a run dated
    # 2100 would stay the newest run; subunit cannot express year 9999
    result = run_cli("ingest", "subunit", "--db", db_url, "-",
                     input=stream(("pkg.new", "success"), start=start))
    _assert_refused(result, "out of range", "a day from now")
    assert snapshot(engine) == stored


def test_junit_dated_year_9999_or_before_1970_is_refused(db_url, engine, stored, tmp_path):
    for stamp in ("9999-12-31T00:00:00", "0001-01-01T00:00:00+05:00", "1000-01-01T00:00:00"):
        path = tmp_path / "report.xml"
        path.write_text(f'<testsuite name="s" timestamp="{stamp}">'
                        '<testcase classname="pkg.A" name="test_ok" time="1"/></testsuite>')
        result = run_cli("ingest", "junit", "--db", db_url, str(path))
        assert result.exit_code == 2, (stamp, result.output)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert snapshot(engine) == stored


def test_a_day_ahead_is_still_accepted(db_url):
    # clocks of CI nodes drift: a run up to a day ahead is stored
    soon = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=20)
    assert ingest(db_url, stream(("pkg.a", "success"), start=soon))["tests"] == 1
