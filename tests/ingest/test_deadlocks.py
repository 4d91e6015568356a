"""Runs rolled back by the server to break a deadlock: recognised, retried
from the start of a file, refused cleanly from a pipe; never half stored."""
from __future__ import annotations

import json
import os
import threading

import psycopg
import pytest
import sqlalchemy as sa
import tenacity
from sqlalchemy.exc import OperationalError

from health_api.db.session import DEADLOCK_ATTEMPTS, is_deadlock, make_engine
from health_api.ingest.records import DeadlockError
from health_api.ingest.service import ingest_run, subunit_parser
from health_api.ingest.writer import RunOptions, RunWriter

from streams import rows, run_cli, snapshot, stream, table_counts


def _deadlock(url: str) -> BaseException:
    """Two transactions that lock two rows in opposite orders; returns the
    error the server gave the one it rolled back."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE deadlock_probe (id INTEGER PRIMARY KEY, n INTEGER)")
        conn.exec_driver_sql("INSERT INTO deadlock_probe VALUES (1, 0), (2, 0)")
    first, second = engine.connect(), engine.connect()
    errors: list[BaseException] = []
    both_locked = threading.Barrier(2)

    def lock(conn, mine: int, theirs: int) -> None:
        try:
            with conn.begin():
                conn.exec_driver_sql(f"UPDATE deadlock_probe SET n = n + 1 WHERE id = {mine}")
                both_locked.wait(timeout=30)
                conn.exec_driver_sql(f"UPDATE deadlock_probe SET n = n + 1 WHERE id = {theirs}")
        except OperationalError as exc:
            errors.append(exc)
    threads = [threading.Thread(target=lock, args=(first, 1, 2)),
               threading.Thread(target=lock, args=(second, 2, 1))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    first.close()
    second.close()
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE deadlock_probe")
    engine.dispose()
    assert len(errors) == 1, errors  # one rolled back, the other committed
    return errors[0]


@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_real_server_deadlocks_are_recognised(fresh_db, kind):
    error = _deadlock(fresh_db(kind))
    assert is_deadlock(error)


def test_other_database_errors_are_not_deadlocks(engine):
    with pytest.raises(sa.exc.DBAPIError) as caught:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT * FROM no_such_table")
    assert not is_deadlock(caught.value)
    assert not is_deadlock(ValueError("deadlock"))


def _deadlocks(monkeypatch, failing) -> list[int]:
    """Runs whose finish is numbered (from 1) by ``failing`` fail at their
    very end, after every row was written inside their transaction, as a
    server deadlock would make them. Returns each finish's failure count."""
    finish = RunWriter.finish
    calls: list[int] = []

    def deadlocked_finish(self):
        summary = finish(self)
        calls.append(summary.fails)
        if failing(len(calls)):
            raise OperationalError("UPDATE tests ...", None,
                                   psycopg.errors.DeadlockDetected("deadlock detected"))
        return summary
    monkeypatch.setattr(RunWriter, "finish", deadlocked_finish)
    monkeypatch.setattr(tenacity, "wait_random_exponential", lambda **_: tenacity.wait_none())
    return calls


def _deadlock_once(monkeypatch, times: int = 1) -> list[int]:
    return _deadlocks(monkeypatch, lambda call: call <= times)


TESTS = [("pkg.test_a", "success"), ("pkg.test_b", "fail"), ("pkg.test_c", "success")]


def test_a_file_rolled_back_by_a_deadlock_is_stored_once(engine, db_url, tmp_path, monkeypatch):
    path = tmp_path / "run.subunit"
    path.write_bytes(stream(*TESTS))
    calls = _deadlock_once(monkeypatch)
    result = run_cli("ingest", "subunit", "--db", db_url, "--json", str(path))
    assert result.exit_code == 0, result.output
    assert len(calls) == 2  # rolled back once, stored at the second try
    counts = table_counts(engine)
    assert (counts["runs"], counts["test_runs"], counts["tests"]) == (1, 3, 3)
    assert rows(engine, "SELECT test_id, run_count, success, failure FROM tests "
                        "ORDER BY test_id") == [("pkg.test_a", 1, 1, 0), ("pkg.test_b", 1, 0, 1),
                                                ("pkg.test_c", 1, 1, 0)]
    assert rows(engine, "SELECT passes, fails FROM runs") == [(2, 1)]


def test_a_pipe_cannot_be_read_again_so_it_fails_with_nothing_stored(engine, db_url,
                                                                     monkeypatch):
    run_cli("ingest", "subunit", "--db", db_url, "-", input=stream(("pkg.earlier", "success")))
    before = snapshot(engine)
    calls = _deadlock_once(monkeypatch)
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "wb") as writer:
        writer.write(stream(*TESTS))  # small enough for the pipe's buffer
    with os.fdopen(read_end, "rb") as pipe:
        assert not pipe.seekable()
        with pytest.raises(DeadlockError) as caught:
            ingest_run(engine, pipe, "<stdin>", subunit_parser(), RunOptions())
    assert str(caught.value) == ("<stdin>: rolled back to break a deadlock with concurrent "
                                 "ingests; nothing of this run was stored: ingest it again")
    assert caught.value.exit_code == 5
    assert len(calls) == 1
    assert snapshot(engine) == before


def test_a_file_that_keeps_deadlocking_gives_up_with_exit_code_5(engine, db_url, tmp_path,
                                                                  monkeypatch):
    path = tmp_path / "run.subunit"
    path.write_bytes(stream(*TESTS))
    before = snapshot(engine)
    calls = _deadlock_once(monkeypatch, times=100)
    result = run_cli("ingest", "subunit", "--db", db_url, str(path))
    assert result.exit_code == 5
    assert result.stderr.strip() == (
        f"ci-health: error: {path}: rolled back 5 times to break a deadlock with concurrent "
        "ingests; nothing of this run was stored: ingest it again")
    assert len(calls) == DEADLOCK_ATTEMPTS
    assert snapshot(engine) == before


def test_files_parsed_ahead_survive_a_retry_of_one_of_them(engine, db_url, tmp_path,
                                                           monkeypatch):
    """Several files are parsed ahead in one child process: a run rolled back
    half-way is parsed again here, and the files after it still come from
    the child, each stored once."""
    paths = []
    for n in range(3):
        path = tmp_path / f"run{n}.subunit"
        path.write_bytes(stream(*[(f"pkg.test_{i}", "fail" if i == n else "success")
                                  for i in range(5)]))
        paths.append(str(path))
    calls = _deadlocks(monkeypatch, lambda call: call == 2)
    result = run_cli("ingest", "subunit", "--db", db_url, "--json", *paths)
    assert result.exit_code == 0, result.output
    assert len(calls) == 4
    assert [json.loads(line)["fails"] for line in result.stdout.splitlines()] == [1, 1, 1]
    assert table_counts(engine)["test_runs"] == 15
    assert rows(engine, "SELECT test_id, run_count, failure FROM tests ORDER BY test_id") == [
        (f"pkg.test_{i}", 3, 1 if i < 3 else 0) for i in range(5)]
