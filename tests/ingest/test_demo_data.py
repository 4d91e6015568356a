"""demo-data: what it writes, and that its bulk load into an empty SQLite store
(one transaction, indexes built at the end) leaves the schema as it found it."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from health_api.demo import gate

END = dt.datetime(2026, 10, 4)
LOADED = ("test_runs", "test_run_metadata", "attachments")


def indexes(engine: sa.Engine) -> dict[str, list]:
    inspector = sa.inspect(engine)
    return {table: sorted((ix["name"], tuple(ix["column_names"]), bool(ix["unique"]))
                          for ix in inspector.get_indexes(table))
            for table in LOADED}


def counts(engine: sa.Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar()
                     for table in ("runs", "test_runs", "attachments"))


def test_history_into_empty_then_filled_store(engine, tmp_path):
    before = indexes(engine)
    assert any(before[t] for t in LOADED)
    truth = gate.generate(engine, days=2, jobs=3, runs_per_day=2, seed=3, end=END,
                          truth_path=tmp_path / "truth.json")
    assert indexes(engine) == before
    runs, results, attachments = counts(engine)
    assert (runs, results) == (truth.runs, truth.results) == (12, truth.results)
    assert results > 1000 and attachments > 0
    with engine.connect() as conn:
        # counters and rollups agree with the rows the indexes were rebuilt over
        per_status = dict(conn.exec_driver_sql(
            "SELECT status, COUNT(*) FROM test_runs GROUP BY status").all())
        success, failure = conn.exec_driver_sql(
            "SELECT SUM(success), SUM(failure) FROM tests").one()
        daily = conn.exec_driver_sql(
            "SELECT SUM(passed + failed + empty) FROM ch_job_daily").scalar()
        by_index = conn.exec_driver_sql(
            "SELECT COUNT(*) FROM test_runs WHERE status = 'fail'").scalar()
    assert (success, failure) == (per_status.get("success", 0), per_status.get("fail", 0))
    assert daily == runs and by_index == per_status.get("fail", 0)

    # Into a store that has runs: grouped commits, indexes kept up to date.
    more = gate.generate(engine, days=1, jobs=2, runs_per_day=2, seed=4, end=END)
    assert counts(engine)[:2] == (runs + more.runs, results + more.results)
    assert indexes(engine) == before


class Boom(RuntimeError):
    pass


def test_failed_load_leaves_nothing(engine, monkeypatch):
    """Past the first group of runs: an empty SQLite store gets the whole load
    in one transaction, so nothing is left; PostgreSQL and MariaDB keep the
    groups committed so far."""
    before = indexes(engine)
    real_call = gate._GroupedWriter.__call__
    seen = []

    def failing_call(self, run):
        if len(seen) == gate.RUNS_PER_COMMIT + 5:
            raise Boom("disk on fire")
        seen.append(run)
        real_call(self, run)
    monkeypatch.setattr(gate._GroupedWriter, "__call__", failing_call)
    with pytest.raises(Boom):
        gate.generate(engine, days=2, jobs=3, runs_per_day=6, seed=3, end=END)
    runs = counts(engine)[0]
    assert runs == (0 if engine.dialect.name == "sqlite" else gate.RUNS_PER_COMMIT)
    assert indexes(engine) == before
