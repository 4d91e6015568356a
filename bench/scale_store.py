"""Gate-traffic stores for bench/scale.py, written the way subunit2sql leaves
them: runs, run_metadata (build_name), tests and test_runs, no rollups.

The results are generated inside the database (``INSERT ... SELECT`` from a
cross join of the runs with a table of test numbers), one range of runs per
statement, so a 41M-result quarter is written at the server's speed and never
passes through Python. Run times and counters are filled from the results.

Statuses: every 50th test skips; a test fails where (7 * test + 13 * run) is
divisible by 211, so failures move from test to test and run to run (about
one run in four... fails something).
"""
from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Engine, text

from health_api.db import models as m

RANGE_RUNS = 200

_ADD_SECONDS = {
    "postgresql": "{t} + ({n}) * interval '1 second'",
    "sqlite": "datetime({t}, '+' || ({n}) || ' seconds')",
    "mysql": "DATE_ADD({t}, INTERVAL {n} SECOND)",
}


def _kind(engine: Engine) -> str:
    name = engine.dialect.name
    return "mysql" if name in ("mysql", "mariadb") else name


def build_store(engine: Engine, *, days: int, jobs: int, runs_per_day: int, tests: int,
                end: dt.datetime, progress=None) -> dict:
    """Fill an empty migrated database with ``days`` of gate traffic ending at ``end``."""
    kind = _kind(engine)
    start = end - dt.timedelta(days=days)
    step = dt.timedelta(days=1) / runs_per_day
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO tests (id, test_id, run_count, success, failure) "
                          "VALUES (:id, :name, 0, 0, 0)"),
                     [{"id": i + 1, "name": f"tempest.api.scale.test_{i // 20:04d}."
                                           f"ScaleTest.test_case_{i:05d}[id-{i:08x},smoke]"}
                      for i in range(tests)])
        runs, meta = [], []
        run_id = 0
        for day in range(days):
            for k in range(runs_per_day):
                for job in range(jobs):
                    run_id += 1
                    run_at = start + dt.timedelta(days=day) + k * step + dt.timedelta(
                        seconds=37 * job)
                    runs.append({"id": run_id, "uuid": str(uuid.UUID(int=run_id)),
                                 "run_at": run_at.replace(microsecond=0),
                                 "artifacts": f"https://logs.example.org/{run_id}"})
                    meta.append({"run_id": run_id, "key": "build_name",
                                 "value": f"gate-tempest-scale-job-{job:02d}"})
        conn.execute(text("INSERT INTO runs (id, uuid, run_at, artifacts, passes, fails, skips)"
                          " VALUES (:id, :uuid, :run_at, :artifacts, 0, 0, 0)"), runs)
        conn.execute(text("INSERT INTO run_metadata (run_id, \"key\", value) "
                          "VALUES (:run_id, :key, :value)".replace(
                              '"key"', "`key`" if kind == "mysql" else '"key"')), meta)
        conn.execute(text("CREATE TABLE bench_numbers (n INTEGER PRIMARY KEY)"))
        conn.execute(text("INSERT INTO bench_numbers (n) VALUES (:n)"),
                     [{"n": n} for n in range(tests)])
        if kind == "postgresql":
            for seq, table in (("tests_id_seq", "tests"), ("runs_id_seq", "runs")):
                conn.execute(text(f"SELECT setval('{seq}', (SELECT MAX(id) FROM {table}))"))
    status = ("CASE WHEN b.n % 50 = 49 THEN 'skip' WHEN (7 * b.n + 13 * r.id) % 211 = 0 "
              "THEN 'fail' ELSE 'success' END")
    start_t = _ADD_SECONDS[kind].format(t="r.run_at", n="b.n")
    stop_t = _ADD_SECONDS[kind].format(t="r.run_at", n="b.n + 1")
    insert = text(
        "INSERT INTO test_runs (test_id, run_id, status, start_time, stop_time,"
        " start_time_microsecond, stop_time_microsecond) "
        f"SELECT b.n + 1, r.id, {status}, {start_t}, {stop_t}, 0, (b.n * 37 % 1000) * 1000 "
        "FROM runs r CROSS JOIN bench_numbers b WHERE r.id BETWEEN :lo AND :hi "
        "ORDER BY r.id, b.n")
    totals = text(
        "UPDATE runs SET "
        "passes = (SELECT COUNT(*) FROM test_runs tr WHERE tr.run_id = runs.id"
        " AND tr.status = 'success'), "
        "fails = (SELECT COUNT(*) FROM test_runs tr WHERE tr.run_id = runs.id"
        " AND tr.status = 'fail'), "
        "skips = (SELECT COUNT(*) FROM test_runs tr WHERE tr.run_id = runs.id"
        " AND tr.status = 'skip'), "
        "run_time = (SELECT COUNT(*) FROM test_runs tr WHERE tr.run_id = runs.id"
        " AND tr.status <> 'skip') * 1.0 "
        "WHERE id BETWEEN :lo AND :hi")
    # secondary indexes built once at the end, not row by row (the run_id
    # index stays: the totals below read through it)
    later = [ix for ix in m.test_runs.indexes if ix.name != "ix_test_runs_run_id"]
    with engine.begin() as conn:
        for ix in later:
            ix.drop(conn)
    for lo in range(1, run_id + 1, RANGE_RUNS):
        with engine.begin() as conn:
            params = {"lo": lo, "hi": lo + RANGE_RUNS - 1}
            conn.execute(insert, params)
            conn.execute(totals, params)
        if progress:
            progress(min(lo + RANGE_RUNS - 1, run_id), run_id)
    with engine.begin() as conn:
        for ix in later:
            ix.create(conn)
        conn.execute(text("DROP TABLE bench_numbers"))
        if kind == "postgresql":
            conn.execute(text("ANALYZE"))
    return {"runs": run_id, "results": run_id * tests}
