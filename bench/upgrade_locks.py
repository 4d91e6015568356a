#!/usr/bin/env python3
"""Is `ci-health db upgrade` safe on a live database? Lock times of every
migration on a populated PostgreSQL store, with the API reading and ingests
writing meanwhile (issue 16).

    python bench/upgrade_locks.py [--quick] [--days 30] [--jobs 30] [--runs-per-day 20]
                                  [--tests 1500] [--changes-per-day 400] [--from 0004]

Builds a gate store at head (bench/scale_store.py: ``--days`` of ``--jobs``
jobs x ``--runs-per-day`` runs x ``--tests`` results; defaults: a gate month,
18M results; ``--quick``: 30 days of 6 x 8 x 500, 720k results, in about a
minute) with its daily rollups and ``--changes-per-day`` Gerrit changes of CI
verdicts (``ci-health demo-data``), downgrades it to ``--from``, then upgrades
one revision at a time while

* a reader repeats the dashboard's kinds of reads (newest runs, a job's daily
  rollups, CI comments of the last day), and
* a writer repeats an ingest's kinds of writes (a new run with metadata, a
  test's counters, a daily rollup row, a CI comment's and a job result's row),

each statement in its own short transaction, and a monitor samples pg_locks
every 20 ms. Per revision it prints the migration's duration, the strongest
lock it held on each table, the longest any reader or writer statement took,
and the longest wait for a lock seen (0004 rewrites CI comment keys and cannot
be downgraded, so ``--from`` starts after it: its UPDATE takes row locks only). ``ratio`` compares the worst statement
with the same statement's median outside any migration (the baseline,
measured first in the same run). The database (bench_prod_upgrade_locks on
CI_HEALTH_TEST_PG, default 127.0.0.1:5432) is dropped at the end.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from health_api.db.migrate import upgrade  # noqa: E402
from health_api.db.session import make_engine  # noqa: E402
from health_api.ingest.expire import rebuild_rollups  # noqa: E402
from scale_store import build_store  # noqa: E402

PG = os.environ.get("CI_HEALTH_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
DB_NAME = "bench_prod_upgrade_locks"
#: strongest first (PostgreSQL's table lock modes)
LOCK_ORDER = ["AccessExclusiveLock", "ExclusiveLock", "ShareRowExclusiveLock", "ShareLock",
              "ShareUpdateExclusiveLock", "RowExclusiveLock", "RowShareLock", "AccessShareLock"]

READS = {
    "newest runs": "SELECT id, run_at FROM runs ORDER BY run_at DESC LIMIT 20",
    "job rollups": "SELECT day, SUM(passed), SUM(failed) FROM ch_job_daily "
                   "WHERE build_name = :job GROUP BY day ORDER BY day",
    "test rollups": "SELECT day, success, failure FROM ch_test_daily "
                    "WHERE build_name = :job AND test_id = :test ORDER BY day",
    "ci comments": "SELECT COUNT(*) FROM ci_comments WHERE posted_at > :since",
    "ci results": "SELECT COUNT(*) FROM ci_job_results WHERE comment_id = :comment",
}
WRITES = {
    "new run": "INSERT INTO runs (uuid, passes, fails, skips, run_time, run_at) "
               "VALUES (:uuid, 1, 0, 0, 1.0, :now)",
    "test counters": "UPDATE tests SET run_count = run_count + 1, success = success + 1 "
                     "WHERE id = :test",
    "rollup row": "UPDATE ch_test_daily SET success = success + 0 "
                  "WHERE day = :day AND build_name = :job AND test_id = :test",
    "ci comment": "UPDATE ci_comments SET parsed = parsed WHERE id = :comment",
    "ci job result": "UPDATE ci_job_results SET result = result WHERE id = :result",
}


def admin(sql: str) -> None:
    engine = make_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if "DROP" in sql:
            conn.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 f"WHERE datname = '{DB_NAME}' AND pid <> pg_backend_pid()")
        conn.exec_driver_sql(sql)
    engine.dispose()


def build(url: str, args) -> dict:
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    size = build_store(engine, days=args.days, jobs=args.jobs, runs_per_day=args.runs_per_day,
                       tests=args.tests, end=dt.datetime.now().replace(minute=0, second=0,
                                                                        microsecond=0))
    rebuild_rollups(engine)
    subprocess.run([sys.executable, "-m", "health_api.cli", "demo-data", "--db", url,
                    "--days", str(args.days), "--jobs", "1", "--runs-per-day", "1",
                    "--changes-per-day", str(args.changes_per_day), "--quiet",
                    "--truth", os.devnull], check=True, cwd=ROOT)
    with engine.connect() as conn:
        for table in ("ci_comments", "ci_job_results", "ch_test_daily", "test_runs"):
            size[table] = conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar()
    size["build_s"] = round(time.perf_counter() - started, 1)
    engine.dispose()
    return size


def sample_keys(url: str) -> dict:
    engine = make_engine(url)
    with engine.connect() as conn:
        job, day, test = conn.execute(text(
            "SELECT build_name, day, test_id FROM ch_test_daily ORDER BY day DESC LIMIT 1")).one()
        comment, result = conn.execute(text(
            "SELECT comment_id, id FROM ci_job_results ORDER BY id DESC LIMIT 1")).one()
    engine.dispose()
    return {"job": job, "day": day, "test": test, "comment": comment, "result": result,
            "since": dt.datetime.now() - dt.timedelta(days=1)}


class Load(threading.Thread):
    """Repeats its statements, one short transaction each, timing every one."""

    def __init__(self, url: str, statements: dict, keys: dict, name: str):
        super().__init__(daemon=True, name=name)
        self.engine = make_engine(url, statement_timeout=120)
        self.statements, self.keys = statements, keys
        self.stop = threading.Event()
        self.times: dict[str, list[float]] = {k: [] for k in statements}
        self.errors: list[str] = []
        self.pid = None
        self.ready = threading.Event()

    def run(self) -> None:
        n = 0
        with self.engine.connect() as conn:
            self.pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
            conn.commit()
            self.ready.set()
            while not self.stop.is_set():
                for label, sql in self.statements.items():
                    n += 1
                    params = {**self.keys, "uuid": f"{self.name}-{time.time_ns()}",
                              "now": dt.datetime.now()}
                    started = time.perf_counter()
                    try:
                        conn.execute(text(sql), params)
                        conn.commit()
                    except Exception as exc:  # noqa: BLE001 - a table a revision lacks
                        conn.rollback()
                        self.errors.append(f"{label}: {str(exc).splitlines()[0]}")
                        continue
                    self.times[label].append(time.perf_counter() - started)
                time.sleep(0.005)
        self.engine.dispose()


class Monitor(threading.Thread):
    """Samples the locks the migrating session holds, and the longest lock wait."""

    def __init__(self, url: str, load_pids: set[int]):
        super().__init__(daemon=True)
        self.engine = make_engine(url)
        self.load_pids = load_pids
        self.stop = threading.Event()
        self.held: dict[str, str] = {}  # table -> strongest mode seen
        self.longest_wait = 0.0

    def run(self) -> None:
        with self.engine.connect() as conn:
            me = conn.execute(text("SELECT pg_backend_pid()")).scalar()
            skip = sorted(self.load_pids | {me})
            while not self.stop.is_set():
                rows = conn.execute(text(
                    "SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "WHERE l.granted AND l.database = (SELECT oid FROM pg_database WHERE "
                    "datname = current_database()) AND NOT (l.pid = ANY(:skip)) "
                    "AND c.relkind IN ('r', 'p')"), {"skip": skip}).all()
                for table, mode in rows:
                    old = self.held.get(table)
                    if mode in LOCK_ORDER and (old is None
                                               or LOCK_ORDER.index(mode) < LOCK_ORDER.index(old)):
                        self.held[table] = mode
                wait = conn.execute(text(
                    "SELECT COALESCE(MAX(EXTRACT(EPOCH FROM clock_timestamp() - query_start)), 0) "
                    "FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()")).scalar()
                self.longest_wait = max(self.longest_wait, float(wait))
                conn.commit()
                time.sleep(0.02)
        self.engine.dispose()


def with_load(url: str, keys: dict, action) -> tuple[float, list[Load], Monitor]:
    loads = [Load(url, READS, keys, "reader"), Load(url, WRITES, keys, "writer")]
    for load in loads:
        load.start()
        load.ready.wait(30)
    monitor = Monitor(url, {load.pid for load in loads})
    monitor.start()
    time.sleep(0.3)
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    time.sleep(0.3)
    for worker in (*loads, monitor):
        worker.stop.set()
    for worker in (*loads, monitor):
        worker.join(180)
    return seconds, loads, monitor


def revisions_after(base: str) -> list[str]:
    from alembic.script import ScriptDirectory
    from health_api.db.migrate import alembic_config
    script = ScriptDirectory.from_config(alembic_config())
    chain = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    return chain[chain.index(base) + 1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=30)
    parser.add_argument("--runs-per-day", type=int, default=20)
    parser.add_argument("--tests", type=int, default=1000)
    parser.add_argument("--changes-per-day", type=int, default=400)
    parser.add_argument("--from", dest="base", default="0004",
                        help="downgrade to this revision, then upgrade step by step")
    args = parser.parse_args()
    if args.quick:
        args.jobs, args.runs_per_day, args.tests, args.changes_per_day = 6, 8, 500, 100
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    admin(f"DROP DATABASE IF EXISTS {DB_NAME}")
    admin(f"CREATE DATABASE {DB_NAME}")
    url = f"{PG}/{DB_NAME}"
    try:
        size = build(url, args)
        print("store: " + ", ".join(f"{k} {v}" for k, v in size.items()))
        keys = sample_keys(url)
        # the baseline: the same statements with no migration running
        _, base_loads, _ = with_load(url, keys, lambda: time.sleep(3))
        baseline = {label: statistics.median(times) for load in base_loads
                    for label, times in load.times.items() if times}
        engine = make_engine(url)
        started = time.perf_counter()
        from alembic import command
        from health_api.db.migrate import alembic_config
        cfg = alembic_config()
        with engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, args.base)
            conn.commit()
        print(f"downgraded to {args.base} in {time.perf_counter() - started:.1f} s")
        print(f"{'revision':<9} {'seconds':>8} {'worst read ms':>14} {'worst write ms':>15} "
              f"{'ratio':>7} {'lock wait s':>12}  strongest locks held (table: mode)")
        for revision in revisions_after(args.base):
            seconds, loads, monitor = with_load(url, keys, lambda r=revision: upgrade(engine, r))
            worst = {}
            for load in loads:
                for label, times in load.times.items():
                    if times:
                        worst[(load.name, label)] = max(times)
            read = max((v for (who, _), v in worst.items() if who == "reader"), default=0)
            write = max((v for (who, _), v in worst.items() if who == "writer"), default=0)
            ratio = max((v / baseline[label] for (_, label), v in worst.items()
                         if baseline.get(label)), default=0)
            strong = sorted(((t, mode) for t, mode in monitor.held.items()
                             if LOCK_ORDER.index(mode) <= LOCK_ORDER.index("ShareLock")),
                            key=lambda tm: LOCK_ORDER.index(tm[1]))
            held = ", ".join(f"{t}: {m}" for t, m in strong) or "none stronger than row locks"
            print(f"{revision:<9} {seconds:>8.2f} {read * 1000:>14.1f} {write * 1000:>15.1f} "
                  f"{ratio:>7.1f} {monitor.longest_wait:>12.2f}  {held}")
            errors = sorted({e for load in loads for e in load.errors})
            if errors:
                print(f"          load statements that failed meanwhile: {errors[:3]}")
        engine.dispose()
        print("baseline medians ms: " + ", ".join(f"{k} {v * 1000:.1f}"
                                                  for k, v in baseline.items()))
        print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    finally:
        admin(f"DROP DATABASE IF EXISTS {DB_NAME}")


if __name__ == "__main__":
    main()
