"""subunit ingest through the CLI, on SQLite, PostgreSQL and MariaDB."""
from __future__ import annotations

import collections
import datetime as dt
import io
import json

import pytest
import testtools
import subunit

from streams import (OPNFV, columns, ingest, key_values, rows, run_cli, snapshot, stream,
                     table_counts)

TEMPEST = "tempest.api.compute.servers.test_servers.ServersTest"


def expected_statuses(data: bytes) -> dict[str, str]:
    """Independent reading of a stream with testtools' own StreamToDict."""
    found = {}

    def on_test(test):
        if test["status"] in ("exists",):
            return
        found[test["id"]] = test["status"]
    result = testtools.StreamToDict(on_test)
    result.startTestRun()
    subunit.ByteStreamToStreamResult(io.BytesIO(data)).run(result)
    result.stopTestRun()
    return found


def test_real_tempest_stream_counts(db_url, engine):
    path = OPNFV / "fuel-os-odl_l2-sfc-ha-dd2d11944ced5de5.subunit"
    data = path.read_bytes()
    expected = expected_statuses(data)
    counts = collections.Counter(expected.values())
    out = ingest(db_url, data, "--run-meta", "build_name=fuel-os-odl_l2-sfc-ha",
                 "--artifacts", "https://logs.example.org/1")
    assert out["tests"] == len(expected)
    assert out["passes"] == counts["success"] + counts["xfail"]
    assert out["fails"] == counts["fail"] + counts["uxsuccess"]
    assert out["skips"] == counts["skip"]
    stored = dict(rows(engine, "SELECT t.test_id, tr.status FROM test_runs tr "
                               "JOIN tests t ON t.id = tr.test_id WHERE tr.run_id = :r",
                       r=out["run_id"]))
    assert stored == expected
    run = rows(engine, "SELECT uuid, passes, fails, skips, artifacts FROM runs")[0]
    assert run == (out["uuid"], out["passes"], out["fails"], out["skips"],
                   "https://logs.example.org/1")
    assert key_values(engine, "run_metadata") == [
        ("build_name", "fuel-os-odl_l2-sfc-ha")]
    # tests counters: one run, so success/failure are 0/1 per test
    failing = {t for t, s in expected.items() if s == "fail"}
    by_test = {r[0]: r[1:] for r in rows(engine, "SELECT test_id, run_count, success, failure "
                                                 "FROM tests")}
    for test_id, status in expected.items():
        if status == "skip":
            assert by_test[test_id] == (0, 0, 0)
        elif test_id in failing:
            assert by_test[test_id] == (1, 0, 1)
        else:
            assert by_test[test_id] == (1, 1, 0)


def test_counters_accumulate_over_runs_and_run_time_is_mean_of_passes(db_url, engine):
    ingest(db_url, stream(("a.test_one", "success", 2.0), ("a.test_two", "fail", 5.0)))
    ingest(db_url, stream(("a.test_one", "success", 4.0), ("a.test_two", "success", 3.0)))
    ingest(db_url, stream(("a.test_one", "fail", 9.0), ("a.test_two", "skip", 1.0)))
    got = {r[0]: r[1:] for r in rows(engine, "SELECT test_id, run_count, success, failure, "
                                             "run_time FROM tests")}
    assert got["a.test_one"][:3] == (3, 2, 1)
    assert got["a.test_one"][3] == pytest.approx(3.0)
    assert got["a.test_two"][:3] == (2, 1, 1)
    assert got["a.test_two"][3] == pytest.approx(3.0)
    runs = rows(engine, "SELECT passes, fails, skips, run_time FROM runs ORDER BY id")
    assert [r[:3] for r in runs] == [(1, 1, 0), (2, 0, 0), (0, 1, 1)]
    assert [r[3] for r in runs] == pytest.approx([7.0, 7.0, 10.0])


def test_attrs_are_stripped_and_kept_as_metadata(db_url, engine):
    data = stream((f"{TEMPEST}.test_list[id-1234,smoke]", "success", 1.0, {"worker-0"}))
    ingest(db_url, data, "--test-attr-prefix", "smo")
    assert rows(engine, "SELECT test_id FROM tests") == [(f"{TEMPEST}.test_list",)]
    meta = dict(key_values(engine, "test_run_metadata"))
    assert meta == {"attrs": "id-1234,smoke", "tags": "worker-0"}
    assert key_values(engine, "test_metadata") == [("attr", "smoke")]


def test_custom_attr_regex(db_url, engine):
    data = stream(("pkg.test_x<<fast>>", "success"))
    ingest(db_url, data, "--attr-regex", r"<<(.*)>>")
    assert rows(engine, "SELECT test_id FROM tests") == [("pkg.test_x",)]
    assert key_values(engine, "test_run_metadata") == [("attrs", "fast")]


def test_xfail_and_uxsuccess_on_a_known_test(db_url, engine):
    ingest(db_url, stream(("pkg.test_known", "success", 1.0)))
    out = ingest(db_url, stream(("pkg.test_known", "xfail", 1.0), ("pkg.test_other", "success")))
    assert (out["passes"], out["fails"]) == (2, 0)
    out = ingest(db_url, stream(("pkg.test_known", "uxsuccess", 1.0)))
    assert (out["passes"], out["fails"]) == (0, 1)
    assert rows(engine, "SELECT run_count, success, failure FROM tests "
                        "WHERE test_id = 'pkg.test_known'") == [(3, 2, 1)]
    assert rows(engine, "SELECT status FROM test_runs ORDER BY id") == [
        ("success",), ("xfail",), ("success",), ("uxsuccess",)]


def test_test_that_never_ends_is_an_incomplete_failure(db_url, engine):
    data = stream(("pkg.test_ok", "success"), ("pkg.test_hung", None))
    out = ingest(db_url, data)
    assert (out["tests"], out["passes"], out["fails"]) == (2, 1, 1)
    row = [r for r in columns(engine, "test_runs", "id", "status", "stop_time")
           if r[1] == "fail"]
    assert row[0][1:] == ("fail", None)
    assert key_values(engine, "test_run_metadata", test_run_id=row[0][0]) == [
        ("incomplete", "true")]


def test_retried_test_keeps_last_result_and_attempts(db_url, engine):
    data = stream(("pkg.test_flaky", "fail"), ("pkg.test_b", "success"),
                  ("pkg.test_flaky", "success"))
    out = ingest(db_url, data)
    assert (out["tests"], out["passes"], out["fails"]) == (2, 2, 0)
    assert key_values(engine, "test_run_metadata", key="attempts") == [
        ("attempts", "fail,success")]


def test_retry_across_flush_batches(db_url, engine, monkeypatch):
    from health_api.ingest import writer
    monkeypatch.setitem(writer.RunWriter.__init__.__kwdefaults__, "batch_size", 2)
    data = stream(("pkg.test_flaky", "fail"), ("pkg.b", "success"), ("pkg.c", "success"),
                  ("pkg.test_flaky", "success"))
    out = ingest(db_url, data)
    assert (out["tests"], out["passes"], out["fails"]) == (3, 3, 0)
    assert key_values(engine, "test_run_metadata", key="attempts") == [
        ("attempts", "fail,success")]
    assert rows(engine, "SELECT run_count, success, failure FROM tests "
                        "WHERE test_id = 'pkg.test_flaky'") == [(1, 1, 0)]


def test_counters_of_new_tests_retried_in_a_later_batch(db_url, engine, monkeypatch):
    # A new test gets its counters as it is inserted; a retry in a later batch
    # must take back what that insert counted, whichever way the status goes.
    from health_api.ingest import writer
    monkeypatch.setitem(writer.RunWriter.__init__.__kwdefaults__, "batch_size", 2)
    data = stream(("pkg.pass_then_fail", "success", 2.0), ("pkg.fail_then_pass", "fail"),
                  ("pkg.pass_then_fail", "fail", 1.0), ("pkg.skipped", "skip"),
                  ("pkg.fail_then_pass", "success", 3.0), ("pkg.pass_then_pass", "success"),
                  ("pkg.other", "success"), ("pkg.pass_then_pass", "success", 6.0))
    query = "SELECT test_id, run_count, success, failure, run_time FROM tests"
    ingest(db_url, data)
    got = {r[0]: r[1:] for r in rows(engine, query)}
    assert got["pkg.pass_then_fail"] == (1, 0, 1, None)
    assert got["pkg.fail_then_pass"][:3] == (1, 1, 0)
    assert got["pkg.fail_then_pass"][3] == pytest.approx(3.0)
    assert got["pkg.pass_then_pass"][:3] == (1, 1, 0)
    assert got["pkg.pass_then_pass"][3] == pytest.approx(6.0)
    assert got["pkg.skipped"] == (0, 0, 0, None)
    ingest(db_url, data)  # known tests now: counted at the end of the run instead
    got = {r[0]: r[1:] for r in rows(engine, query)}
    assert got["pkg.pass_then_fail"] == (2, 0, 2, None)
    assert got["pkg.fail_then_pass"][:3] == (2, 2, 0)
    assert got["pkg.fail_then_pass"][3] == pytest.approx(3.0)
    assert got["pkg.pass_then_pass"][3] == pytest.approx(6.0)
    assert got["pkg.skipped"] == (0, 0, 0, None)


def test_run_options(db_url, engine):
    data = stream(("pkg.a", "success", 2.0), ("pkg.b", "success", 3.0),
                  start=dt.datetime(2026, 9, 1, 8, 30, tzinfo=dt.timezone.utc))
    ingest(db_url, data, "--wall-time", "--run-id", "run-1", "--run-meta", "k=v",
           "--run-meta", "project=openstack/nova")
    ingest(db_url, data, "--run-at", "2026-09-02T10:00:00+02:00")
    got = columns(engine, "runs", "uuid", "run_time", "run_at")
    assert got[0][0] == "run-1"
    assert got[0][1] == pytest.approx(5.0)
    assert got[0][2] == dt.datetime(2026, 9, 1, 8, 30)
    assert got[1][1] == pytest.approx(5.0)
    assert got[1][2] == dt.datetime(2026, 9, 2, 8, 0)
    assert sorted(key_values(engine, "run_metadata")) == [
        ("k", "v"), ("project", "openstack/nova")]


def test_store_attachments(db_url, engine):
    big = b"Traceback (most recent call last):\n" + b"x" * 100_000
    data = stream(("pkg.test_bad", "fail", 1.0, None, big), ("pkg.test_ok", "success"))
    ingest(db_url, data)
    assert rows(engine, "SELECT COUNT(*) FROM attachments") == [(0,)]
    ingest(db_url, data, "--store-attachments")
    assert rows(engine, "SELECT label, attachment FROM attachments") == [("traceback", big)]


def test_json_output_shape(db_url):
    result = run_cli("ingest", "subunit", "--db", db_url, "--json",
                     str(OPNFV / "compass-os-ocl-nofeature-ha-10a3c1399fd88c82.subunit"),
                     str(OPNFV / "apex-os-odl_l2-nofeature-ha-67f09646a557cbb5.subunit"))
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2
    for line in lines:
        assert set(line) == {"run_id", "uuid", "passes", "fails", "skips", "tests"}
        assert line["tests"] == line["passes"] + line["fails"] + line["skips"]


@pytest.mark.parametrize("join_min_rows", [1, 1000], ids=["joined-update", "upsert"])
def test_daily_rollups_follow_ingest(db_url, engine, monkeypatch, join_min_rows):
    from health_api.ingest import rollups
    monkeypatch.setattr(rollups, "JOIN_MIN_ROWS", join_min_rows)
    ingest(db_url, stream(("pkg.a", "success", 2.0), ("pkg.b", "fail")),
           "--run-meta", "build_name=job-a")
    ingest(db_url, stream(("pkg.a", "success", 4.0), ("pkg.b", "skip")),
           "--run-meta", "build_name=job-a")
    ingest(db_url, stream(("pkg.a", "skip")), "--run-meta", "build_name=job-a")
    job = columns(engine, "ch_job_daily", "day", "build_name", "passed", "failed", "empty",
                  order_by="day")
    assert job == [(dt.date(2026, 10, 1), "job-a", 1, 1, 1)]
    tests = rows(engine, "SELECT t.test_id, d.success, d.failure, d.skip, d.timed, "
                         "d.run_time_sum FROM ch_test_daily d JOIN tests t ON t.id = d.test_id "
                         "ORDER BY t.test_id")
    assert tests == [("pkg.a", 2, 0, 1, 2, pytest.approx(6.0)), ("pkg.b", 0, 1, 1, 0, 0.0)]


def test_first_run_of_a_job_day_adds_to_a_test_rollup_row_already_there(db_url, engine):
    # The first run of a job and day inserts its test rollups plainly (on
    # PostgreSQL); a row that is there all the same must be added to instead.
    ingest(db_url, stream(("pkg.a", "success", 2.0)), "--run-meta", "build_name=job-a")
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM ch_job_daily")
    ingest(db_url, stream(("pkg.a", "fail", 1.0), ("pkg.b", "success", 3.0)),
           "--run-meta", "build_name=job-a")
    tests = rows(engine, "SELECT t.test_id, d.success, d.failure, d.timed, d.run_time_sum "
                         "FROM ch_test_daily d JOIN tests t ON t.id = d.test_id "
                         "ORDER BY t.test_id")
    assert tests == [("pkg.a", 1, 1, 1, pytest.approx(2.0)),
                     ("pkg.b", 1, 0, 1, pytest.approx(3.0))]
    assert columns(engine, "ch_job_daily", "build_name", "passed", "failed",
                   order_by="day") == [
        ("job-a", 0, 1)]
    assert rows(engine, "SELECT COUNT(*) FROM test_runs") == [(3,)]


# -- bad input --------------------------------------------------------------

def _assert_one_line_error(result, code: int, *fragments: str) -> str:
    assert result.exit_code == code, result.output
    err = result.stderr.strip()
    assert "\n" not in err
    assert err.startswith("ci-health: error: ")
    for fragment in fragments:
        assert fragment in err, err
    return err


def test_not_a_subunit_stream(db_url, engine):
    ingest(db_url, stream(("pkg.kept", "success")))
    before = snapshot(engine)
    result = run_cli("ingest", "subunit", "--db", db_url, "-", input=b"hello, not subunit")
    _assert_one_line_error(result, 2, "<stdin>", "not a subunit v2 stream", "at byte 0")
    assert snapshot(engine) == before


def test_truncated_stream_stores_nothing_of_that_run(db_url, engine, tmp_path):
    ingest(db_url, stream(("pkg.kept", "success")))
    before = snapshot(engine)
    data = stream(*[(f"pkg.t{i}", "success") for i in range(50)])
    path = tmp_path / "cut.subunit"
    path.write_bytes(data[: len(data) - 7])
    result = run_cli("ingest", "subunit", "--db", db_url, str(path))
    err = _assert_one_line_error(result, 2, str(path), "corrupt subunit stream at byte",
                                 "Short read")
    offset = int(err.split("at byte ")[1].split(":")[0])
    # the offset is where the last packet starts
    assert data[offset] == 0xB3 and 0 < offset < len(data) - 7
    assert snapshot(engine) == before


def test_corrupt_packet_after_many_good_ones_rolls_back(db_url, engine, tmp_path):
    good = stream(*[(f"pkg.t{i}", "success") for i in range(30)])
    bad = bytearray(good + stream(("pkg.last", "success")))
    bad[len(good) + 10] ^= 0xFF  # inside the next packet: its CRC no longer matches
    before = snapshot(engine)
    result = run_cli("ingest", "subunit", "--db", db_url, "-", input=bytes(bad))
    _assert_one_line_error(result, 2, f"at byte {len(good)}")
    assert snapshot(engine) == before


def test_non_utf8_test_id(db_url, engine):
    data = bytearray(stream(("pkg.test_\u00e9", "success")))
    index = data.index("\u00e9".encode())
    data[index] = 0xFF  # invalid UTF-8 (the CRC then fails first, which also must not crash)
    result = run_cli("ingest", "subunit", "--db", db_url, "-", input=bytes(data))
    _assert_one_line_error(result, 2, "corrupt subunit stream at byte 0")
    assert table_counts(engine)["runs"] == 0


def test_non_subunit_name_accepts_stray_bytes(db_url, engine):
    data = b"some console noise\n" + stream(("pkg.a", "success")) + b"trailing\n"
    out = ingest(db_url, data, "--non-subunit-name", "stdout")
    assert (out["tests"], out["passes"]) == (1, 1)


def test_duplicate_run_id(db_url, engine):
    ingest(db_url, stream(("pkg.a", "success")), "--run-id", "same")
    before = snapshot(engine)
    result = run_cli("ingest", "subunit", "--db", db_url, "--run-id", "same", "-",
                     input=stream(("pkg.b", "fail")))
    _assert_one_line_error(result, 3, "same", "already stored")
    assert snapshot(engine) == before


def test_schema_missing(fresh_db):
    url = fresh_db("sqlite")
    result = run_cli("ingest", "subunit", "--db", url, "-", input=stream(("a", "success")))
    _assert_one_line_error(result, 4, "ci-health db upgrade")


@pytest.mark.parametrize("url, fragment", [
    ("postgresql://postgres@127.0.0.1:1/nowhere", "cannot connect"),
    ("mysql://root@127.0.0.1:1/nowhere", "cannot connect"),
    ("sqlite:////nonexistent-dir/x.db", "cannot connect"),
    ("not a url", "not a database URL"),
])
def test_database_unreachable(url, fragment):
    result = run_cli("ingest", "subunit", "--db", url, "-", input=stream(("a", "success")))
    _assert_one_line_error(result, 4, fragment)


@pytest.mark.parametrize("args, fragment", [
    (("--run-meta", "novalue"), "expected KEY=VALUE"),
    (("--run-at", "yesterday"), "not an ISO 8601 time"),
    (("--attr-regex", "(["), "invalid regular expression"),
])
def test_bad_options(db_url, engine, args, fragment):
    result = run_cli("ingest", "subunit", "--db", db_url, *args, "-",
                     input=stream(("a", "success")))
    _assert_one_line_error(result, 2, fragment)
    assert table_counts(engine)["runs"] == 0


def test_missing_file(db_url):
    result = run_cli("ingest", "subunit", "--db", db_url, "/nonexistent/file.subunit")
    _assert_one_line_error(result, 2, "/nonexistent/file.subunit", "cannot read")


def test_second_file_failing_keeps_first(db_url, engine, tmp_path):
    good, bad = tmp_path / "good.subunit", tmp_path / "bad.subunit"
    good.write_bytes(stream(("pkg.a", "success")))
    bad.write_bytes(b"\xb3garbage")
    result = run_cli("ingest", "subunit", "--db", db_url, str(good), str(bad))
    _assert_one_line_error(result, 2, str(bad))
    assert table_counts(engine)["runs"] == 1


def test_errors_from_the_parser_process(db_url, engine, tmp_path):
    """Files and pipes are parsed in a child process: its errors reach the
    user exactly as in-process ones do, and nothing of the run is stored."""
    from streams import run_cli_process
    ingest(db_url, stream(("pkg.kept", "success")))
    before = snapshot(engine)
    from health_api.ingest.parallel import MIN_CHILD_BYTES
    data = stream(*[(f"pkg.t{i}", "success") for i in range(50000)])
    assert len(data) > MIN_CHILD_BYTES  # large enough to be parsed in a child
    path = tmp_path / "cut.subunit"
    path.write_bytes(data[:-5])
    result = run_cli_process("ingest", "subunit", "--db", db_url, str(path))
    assert result.returncode == 2
    err = result.stderr.decode().strip()
    assert "\n" not in err and err.startswith(f"ci-health: error: {path}: corrupt subunit stream "
                                              "at byte ")
    result = run_cli_process("ingest", "subunit", "--db", db_url, "-", input=b"\x00junk")
    assert result.returncode == 2
    assert result.stderr.decode().strip() == (
        "ci-health: error: <stdin>: not a subunit v2 stream: unexpected byte 0x00 at byte 0 "
        "(use --non-subunit-name NAME to accept mixed streams)")
    assert snapshot(engine) == before
    result = run_cli_process("ingest", "subunit", "--db", db_url, "--json", "-", input=data)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["tests"] == 50000


def test_several_files_are_several_runs_in_order(db_url, engine, tmp_path):
    """Files given together are parsed ahead in one child process; the same
    file twice is two runs."""
    first, second = tmp_path / "first.subunit", tmp_path / "second.subunit"
    first.write_bytes(stream(("pkg.a", "success"), ("pkg.b", "fail")))
    second.write_bytes(stream(("pkg.a", "success"), ("pkg.c", "skip"), ("pkg.d", "success")))
    result = run_cli("ingest", "subunit", "--db", db_url, "--json", str(first), str(second),
                     str(first))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["tests"], o["passes"], o["fails"], o["skips"]) for o in lines] == [
        (2, 1, 1, 0), (3, 2, 0, 1), (2, 1, 1, 0)]
    assert rows(engine, "SELECT test_id, run_count, success, failure FROM tests "
                        "ORDER BY test_id") == [("pkg.a", 3, 3, 0), ("pkg.b", 2, 0, 2),
                                                ("pkg.c", 0, 0, 0), ("pkg.d", 1, 1, 0)]
