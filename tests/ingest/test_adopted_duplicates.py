"""Ingest into a subunit2sql database adopted with duplicate test names.

A racy subunit2sql can store one test name twice; adoption then skips our
unique index on tests.test_id (migration 0001), and ingest must still work:
new tests are inserted without it, known ones map to their first row."""
from __future__ import annotations

import pytest

from health_api.db.migrate import upgrade
from health_api.db.session import make_engine

from streams import ingest, rows, stream

ID_COLUMN = {"sqlite": "id INTEGER NOT NULL PRIMARY KEY",
             "postgresql": "id BIGSERIAL PRIMARY KEY",
             "mysql": "id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY"}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
def test_ingest_into_adopted_database_with_duplicate_test_names(fresh_db, kind):
    url = fresh_db(kind)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL "
                             "PRIMARY KEY)")
        conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('10a2b6d4b06e')")
        conn.exec_driver_sql(f"CREATE TABLE tests ({ID_COLUMN[kind]}, test_id VARCHAR(256) "
                             "NOT NULL, run_count INTEGER, success INTEGER, failure INTEGER, "
                             "run_time FLOAT)")
        conn.exec_driver_sql("INSERT INTO tests (test_id, run_count, success, failure) "
                             "VALUES ('pkg.twice', 1, 1, 0), ('pkg.twice', 1, 0, 1)")
    upgrade(engine)
    for _ in range(2):  # the second run finds the tests the first one added
        out = ingest(url, stream(("pkg.twice", "success", 2.0), ("pkg.new", "fail"),
                                 ("pkg.newer", "success", 3.0)))
        assert (out["tests"], out["passes"], out["fails"]) == (3, 2, 1)
    got = rows(engine, "SELECT id, test_id, run_count, success, failure, run_time FROM tests "
                       "ORDER BY id")
    assert [r[1:5] for r in got] == [("pkg.twice", 3, 3, 0), ("pkg.twice", 1, 0, 1),
                                     ("pkg.new", 2, 0, 2), ("pkg.newer", 2, 2, 0)]
    assert got[3][5] == pytest.approx(3.0)
    first_twice = got[0][0]
    assert rows(engine, "SELECT COUNT(*) FROM test_runs WHERE test_id = "
                        f"{first_twice}") == [(2,)]
    assert rows(engine, "SELECT COUNT(*) FROM test_runs") == [(6,)]
    engine.dispose()
