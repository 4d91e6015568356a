"""bulk helpers whose PostgreSQL paths the ingest tests reach only in part."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from health_api.db import bulk
from health_api.db import models as m
from health_api.db.session import make_engine
from health_api.ingest.rollups import TEST_COLUMNS

from streams import rows

DAY = dt.date(2026, 10, 1)
KEY = ("day", "build_name", "test_id")


@pytest.fixture
def pg_engine(migrated_urls):
    """PostgreSQL only: elsewhere the rollups take the upsert path alone."""
    engine = make_engine(migrated_urls("postgresql"))
    with engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE ch_test_daily")
    yield engine
    engine.dispose()


def _stored(engine):
    return rows(engine, "SELECT build_name, test_id, success, failure, run_time_sum "
                        "FROM ch_test_daily ORDER BY build_name, test_id")


def test_add_to_stored_rows_adds_and_returns_the_rest(pg_engine):
    with pg_engine.begin() as conn:
        bulk.insert_rows(conn, m.test_daily, TEST_COLUMNS,
                         [(DAY, "job", i, 1, 0, 0, 1, 1.0) for i in (1, 2, 3)]
                         + [(DAY, "other", 2, 5, 5, 0, 5, 5.0)])
        rest = bulk.add_to_stored_rows(conn, m.test_daily, TEST_COLUMNS, KEY, [
            (DAY, "job", 1, 1, 0, 0, 1, 2.0), (DAY, "job", 2, 0, 1, 0, 0, 0.0),
            (DAY, "job", 4, 1, 0, 0, 1, 4.0)])
    assert rest == [(DAY, "job", 4, 1, 0, 0, 1, 4.0)]
    assert _stored(pg_engine) == [("job", 1, 2, 0, 3.0), ("job", 2, 1, 1, 1.0),
                                  ("job", 3, 1, 0, 1.0), ("other", 2, 5, 5, 5.0)]


def test_add_to_stored_rows_with_one_row(pg_engine):
    # every key column is then a constant: nothing to join the rows on
    row = (DAY, "job", 7, 1, 0, 0, 1, 2.5)
    with pg_engine.begin() as conn:
        assert bulk.add_to_stored_rows(conn, m.test_daily, TEST_COLUMNS, KEY, [row]) == [row]
        bulk.insert_rows(conn, m.test_daily, TEST_COLUMNS, [row])
        assert bulk.add_to_stored_rows(conn, m.test_daily, TEST_COLUMNS, KEY, [row]) == []
    assert _stored(pg_engine) == [("job", 7, 2, 0, 5.0)]


def test_insert_new_rows_writes_nothing_if_one_is_stored(engine):
    with engine.begin() as conn:
        bulk.insert_rows(conn, m.test_daily, TEST_COLUMNS, [(DAY, "job", 2, 1, 0, 0, 1, 1.0)])
        assert not bulk.insert_new_rows(conn, m.test_daily, TEST_COLUMNS, [
            (DAY, "job", 1, 1, 0, 0, 1, 1.0), (DAY, "job", 2, 1, 0, 0, 1, 1.0)])
        assert bulk.insert_new_rows(conn, m.test_daily, TEST_COLUMNS, [
            (DAY, "job", 3, 1, 0, 0, 1, 1.0)])  # the transaction goes on
    assert _stored(engine) == [("job", 2, 1, 0, 1.0), ("job", 3, 1, 0, 1.0)]


def test_has_unique_key(engine):
    with engine.connect() as conn:
        assert bulk.has_unique_key(conn, m.tests, ("test_id",))
        assert bulk.has_unique_key(conn, m.test_runs, ("test_id", "run_id"))
        assert not bulk.has_unique_key(conn, m.test_runs, ("run_id",))
        assert not bulk.has_unique_key(conn, m.test_runs, ("run_id", "test_id"))


def test_prepare_session_reads_nothing_and_learns_the_sequences(engine):
    tables = (m.tests, m.test_runs, m.test_run_metadata, m.test_daily)
    with engine.connect() as conn:
        bulk.prepare_session(conn, tables)
        if conn.dialect.name == "postgresql":
            assert bulk._pg_sequences[conn.engine] == {
                "tests": "public.tests_id_seq", "test_runs": "public.test_runs_id_seq",
                "test_run_metadata": "public.test_run_metadata_id_seq"}
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM test_runs").scalar() == 0
    with engine.connect() as conn:  # the same session from the pool: nothing to do again
        statements = []
        sa.event.listen(conn, "before_cursor_execute",
                        lambda *args: statements.append(args[2]))
        bulk.prepare_session(conn, tables)
        assert statements == []


def test_insert_rows_ids_are_the_ids_the_rows_got(engine, monkeypatch):
    # several statements, after rows another statement wrote (ids do not start at 1)
    monkeypatch.setattr(bulk, "ID_INSERT_ROWS", 7)
    columns = ("test_id", "run_count", "success", "failure", "run_time")
    names = [f"pkg.t{i:02d}" for i in range(20)]
    with engine.begin() as conn:
        bulk.insert_rows(conn, m.tests, columns, [("pkg.first", 0, 0, 0, None)])
        ids = bulk.insert_rows_ids(conn, m.tests, columns,
                                   [(name, 0, 0, 0, None) for name in names])
    if engine.dialect.name in ("mysql", "mariadb"):
        assert ids == [r[0] for r in rows(engine, "SELECT id FROM tests WHERE test_id <> "
                                                  "'pkg.first' ORDER BY test_id")]
        assert len(set(ids)) == 20
    else:  # elsewhere: nothing written, the caller inserts as usual
        assert ids is None
        assert rows(engine, "SELECT COUNT(*) FROM tests") == [(1,)]


def test_insert_new_rows_with_ids_writes_nothing_if_one_is_stored(engine):
    columns = ("test_id", "run_count", "success", "failure", "run_time")
    with engine.begin() as conn:
        bulk.insert_rows(conn, m.tests, columns, [("pkg.b", 0, 0, 0, None)])
        ids: list = []
        assert not bulk.insert_new_rows(conn, m.tests, columns, [
            ("pkg.a", 1, 1, 0, 1.0), ("pkg.b", 1, 1, 0, 1.0)], ids=ids)
        assert ids == []
        assert bulk.insert_new_rows(conn, m.tests, columns, [("pkg.c", 1, 1, 0, 1.0)],
                                    ids=ids)
        stored_c = conn.exec_driver_sql("SELECT id FROM tests WHERE test_id = 'pkg.c'").scalar()
    assert ids == ([stored_c] if engine.dialect.name in ("mysql", "mariadb") else [])
    assert rows(engine, "SELECT test_id FROM tests ORDER BY test_id") == [("pkg.b",), ("pkg.c",)]
