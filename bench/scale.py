#!/usr/bin/env python3
"""The store at the size users reach: figures for docs/scaling.md (issue 20).

    python bench/scale.py [--jobs 30] [--runs-per-day 20]
                          [--tests 1500] [--week-days 7] [--quarter-days 90]
                          [--sqlite-runs 1000] [--skip-stores] [--skip-sqlite-ingest]
                          [--repeat 5] [--no-baseline] [--quick]

Two stores of gate traffic (``--jobs`` jobs x ``--runs-per-day`` runs a day x
``--tests`` results a run; defaults: the gate, 41M results over a quarter),
written the way subunit2sql leaves a database (bench/scale_store.py), then:

* adoption: ``ci-health db upgrade`` builds the rollups in SQL: results/s;
* ``db rebuild-rollups``: results/s, and the previous Python rebuild on the
  week store in the same run, with the ratio (``--no-baseline``: not);
* every v1 route with the same 30-day window on both stores, p50/p95 over
  ``--repeat`` calls, cold (response cache off: every call reads the
  database) and warm (cache on, after a first call), and the quarter/week
  ratio of the cold p50;
* ``db expire`` of the oldest days of the quarter: results/s, and how many
  cold v1 calls another thread got answered meanwhile (the slowest);
* SQLite (``--sqlite-runs`` runs of 600 tests, one ``ci-health ingest``
  process per run, the API answering /api/v1/jobs from another process
  meanwhile): median ingest time of runs 1-25 (around the 10th) and of the
  last 25, their ratio, the largest WAL seen.

Each figure the issue sets a target for is printed with it, met or NOT met;
``--quick`` runs all of it on smaller stores in minutes. Prints plain lines. PostgreSQL server: CI_HEALTH_TEST_PG (default
127.0.0.1:5432). The databases are dropped at the end, unless ``--keep NAME``:
then the stores are written once into the databases NAME_week and
NAME_quarter (their size in the database's comment) and kept; each run
measures a copy of them (NAME_week_run, NAME_quarter_run: ``CREATE DATABASE
... TEMPLATE``, a file copy, minutes instead of the half hour writing the
gate quarter takes) and drops the copy, as adoption, rebuild and expire
change it.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from sqlalchemy import text  # noqa: E402

from health_api.app import create_app  # noqa: E402
from health_api.config import Config  # noqa: E402
from health_api.db.migrate import _roll_up_adopted_runs as roll_up_adopted_runs  # noqa: E402
from health_api.db.migrate import upgrade  # noqa: E402
from health_api.db.session import make_engine, wal_size  # noqa: E402
from health_api.ingest.expire import expire_runs, rebuild_rollups  # noqa: E402
from health_api.ingest import rollup_sql  # noqa: E402
from scale_store import build_store  # noqa: E402

PG = os.environ.get("CI_HEALTH_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
END = dt.datetime(2026, 12, 1)
WINDOW_DAYS = 30
# the issue's figures (the code before it) and its targets, printed beside ours
ISSUE_REBUILD, TARGET_REBUILD = 75_000, 700_000      # results/s
ISSUE_EXPIRE, TARGET_EXPIRE = 19_000, 150_000        # results/s
TARGET_ROUTE_S = 0.3                                 # cold p95 on the quarter
TARGET_FLAT, TARGET_WAL = 1.15, 64e6                 # last/10th run; bytes
#: --quick: every figure at a size that runs in minutes on a quiet machine, with the
#: gate's 20 runs a day per job (the ratio of results to rollup rows a build writes)
QUICK = {"jobs": 4, "runs_per_day": 20, "tests": 500, "sqlite_runs": 100, "repeat": 5}


def pg_database(name: str) -> str:
    admin = make_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return f"{PG}/{name}"


def _comment(name: str) -> str | None:
    admin = make_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        found = conn.execute(text(
            "SELECT COALESCE(shobj_description(oid, 'pg_database'), '') FROM pg_database"
            " WHERE datname = :name"), {"name": name}).scalar()
    admin.dispose()
    return found


def kept_store(name: str, days: int, args) -> tuple[str, dict]:
    """--keep: the store of ``days`` in database ``name``, written unless it is
    there already; a copy of it to measure (adoption, rebuild and expire
    change what they run on), named ``name``_run."""
    wanted = {"days": days, "jobs": args.jobs, "runs_per_day": args.runs_per_day,
              "tests": args.tests}
    found = _comment(name)
    if found is None:
        url = pg_database(name)
        size = subunit2sql_like_store(url, days, args)
        admin = make_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(
                f"COMMENT ON DATABASE {name} IS '{json.dumps(dict(size, **wanted))}'")
        admin.dispose()
        found = _comment(name)
    try:
        size = json.loads(found)
    except ValueError:
        size = {}
    if {k: size.get(k) for k in wanted} != wanted:
        raise SystemExit(f"database {name} exists but holds no store of {wanted} "
                         f"(comment {found!r}): pick another --keep name")
    copy = f"{name}_run"
    drop_pg_database(copy)
    admin = make_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    started = time.time()
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {copy} TEMPLATE {name} STRATEGY = FILE_COPY")
    admin.dispose()
    size["copy_s"] = time.time() - started
    # as subunit2sql left it, should a measurement have been run on ``name``
    # itself (its rollups built): no rollup, no ch_rolled_runs
    engine = make_engine(f"{PG}/{copy}")
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE ch_test_daily, ch_job_daily, ch_rolled_runs"))
    engine.dispose()
    return copy, size


def drop_pg_database(name: str) -> None:
    admin = make_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
    admin.dispose()


def subunit2sql_like_store(url: str, days: int, args) -> dict:
    """Our schema, filled as subunit2sql fills it (no rollups, no ch_rolled_runs)."""
    engine = make_engine(url)
    upgrade(engine)
    started = time.time()
    size = build_store(engine, days=days, jobs=args.jobs, runs_per_day=args.runs_per_day,
                       tests=args.tests, end=END)
    size["build_s"] = time.time() - started
    with engine.begin() as conn:  # as subunit2sql would have left it
        conn.execute(text("DELETE FROM ch_rolled_runs"))
    engine.dispose()
    return size


def python_rebuild(engine, batch: int = 200) -> None:
    """The baseline: the rebuild before rollup_sql, batch by batch in Python
    (each run's test_runs read out, tallied, and added with the writer's
    rollups.apply_run)."""
    from collections import defaultdict
    from health_api.ingest import rollups
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM ch_test_daily"))
        conn.execute(text("DELETE FROM ch_job_daily"))
        conn.execute(text("DELETE FROM ch_rolled_runs"))
        ids = list(conn.execute(text("SELECT id FROM runs ORDER BY id")).scalars())
    for i in range(0, len(ids), batch):
        chunk = ids[i:i + batch]
        with engine.begin() as conn:
            names = dict(conn.execute(text(
                "SELECT run_id, MIN(value) FROM run_metadata WHERE key = 'build_name' "
                "AND run_id BETWEEN :lo AND :hi GROUP BY run_id"),
                {"lo": chunk[0], "hi": chunk[-1]}).all())
            per_run = defaultdict(list)
            for run_id, test_id, status, start, stop in conn.execute(text(
                    "SELECT run_id, test_id, status, start_time, stop_time FROM test_runs "
                    "WHERE run_id BETWEEN :lo AND :hi"), {"lo": chunk[0], "hi": chunk[-1]}):
                per_run[run_id].append(
                    (test_id, status, (stop - start).total_seconds() if start and stop else None))
            for run_id, run_at, passes, fails, run_time in conn.execute(text(
                    "SELECT id, run_at, passes, fails, run_time FROM runs "
                    "WHERE id BETWEEN :lo AND :hi"), {"lo": chunk[0], "hi": chunk[-1]}):
                rollups.apply_run(conn, run_id=run_id, day=run_at.date(),
                                  build_name=names.get(run_id) or "", passes=passes or 0,
                                  fails=fails or 0, run_time=run_time or 0.0,
                                  per_test=rollups.tally(per_run[run_id]))


def routes(engine) -> list[str]:
    with engine.connect() as conn:
        job = conn.execute(text("SELECT MIN(value) FROM run_metadata "
                                "WHERE key = 'build_name'")).scalar()
        test = conn.execute(text("SELECT test_id FROM tests ORDER BY id LIMIT 1")).scalar()
        run = conn.execute(text("SELECT uuid FROM runs ORDER BY id DESC LIMIT 1")).scalar()
    start = (END - dt.timedelta(days=WINDOW_DAYS)).strftime("%Y-%m-%dT%H:%M:%SZ")
    stop = END.strftime("%Y-%m-%dT%H:%M:%SZ")
    w = f"start={start}&stop={stop}"
    from urllib.parse import quote
    return [
        "/api/v1/status",
        f"/api/v1/runs/over_time?key=build_name&{w}",
        f"/api/v1/runs?{w}",
        f"/api/v1/runs/{run}#/api/v1/runs/<run_id>",
        f"/api/v1/failures/recent?{w}",
        "/api/v1/metadata/keys",
        "/api/v1/metadata/values?key=build_name",
        f"/api/v1/jobs?{w}",
        f"/api/v1/jobs/{quote(job, safe='')}?{w}#/api/v1/jobs/<name>",
        f"/api/v1/jobs/{quote(job, safe='')}/tests?{w}#/api/v1/jobs/<name>/tests",
        f"/api/v1/tests?{w}",
        f"/api/v1/tests/{quote(test, safe='')}?{w}#/api/v1/tests/<test_id>",
        f"/api/v1/feeds/failures/atom?key=build_name&value={quote(job, safe='')}",
        f"/api/v1/feeds/failures/rss?key=build_name&value={quote(job, safe='')}",
    ]


def _name(path: str) -> str:
    """The route's name in the printed lines: "#name" if the path has one."""
    return path.split("#", 1)[1] if "#" in path else path.split("?")[0]


class ServerCpu:
    """CPU time (user+sys) of the PostgreSQL server processes of ``engine``'s pooled
    connections (the rebuild builds openstack-health's parts in two connections
    beside the daily rollups' one), read from /proc when the server runs on this
    machine: the figure the other work of a shared machine changes least."""

    def __init__(self, engine):
        self.engine = engine

    def _pids(self) -> list[int]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND backend_type = 'client backend'")).scalars())

    def __call__(self) -> dict[int, float] | None:
        out = {}
        for pid in self._pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return None
            out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return out

    def since(self, start: dict[int, float] | None, results: int) -> str:
        now = self()
        if start is None or now is None:
            return ""
        spent = sum(cpu - start.get(pid, 0.0) for pid, cpu in now.items())
        if spent <= 0:
            return ""
        return (f"; server CPU {spent:.1f} s: "
                f"{results / spent:,.0f} results per CPU-second")


def time_routes(url: str, paths: list[str], repeat: int) -> dict[str, dict]:
    """{route name: {"cold": (p50, p95), "warm": (p50, p95)}}."""
    cold_app = create_app(db_url=url, config=Config(environ={"CI_HEALTH_CACHE_DISABLED": "1"}))
    warm_app = create_app(db_url=url, config=Config(environ={}))
    out = {}
    for path in paths:
        figures = {}
        name, path = _name(path), path.split("#")[0]
        for label, app in (("cold", cold_app), ("warm", warm_app)):
            client = app.test_client()
            if label == "warm":
                client.get(path)
            times = []
            for _ in range(repeat):
                t = time.perf_counter()
                reply = client.get(path)
                times.append(time.perf_counter() - t)
                if reply.status_code != 200:
                    raise SystemExit(f"{path}: {reply.status_code} {reply.get_data(as_text=True)}")
            times.sort()
            figures[label] = (statistics.median(times),
                              times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))])
        out[name] = figures
    return out


def _answer_meanwhile(url: str, paths: list[str], answers: list, stop) -> None:
    """Cold v1 calls in a loop until ``stop``: each one's time into ``answers``."""
    client = create_app(db_url=url, config=Config(
        environ={"CI_HEALTH_CACHE_DISABLED": "1"})).test_client()
    while not stop.is_set():
        for path in paths:
            t = time.perf_counter()
            reply = client.get(path.split("#")[0])
            if reply.status_code != 200:
                raise SystemExit(f"during expire {path}: {reply.status_code}")
            answers.append(time.perf_counter() - t)


def stores(args) -> None:
    results = {}
    for label, days in (("week", args.week_days), ("quarter", args.quarter_days)):
        if args.only and label != args.only:
            continue
        if args.keep:
            name, size = kept_store(f"{args.keep}_{label}", days, args)
            url = f"{PG}/{name}"
        else:
            name = f"ch_scale_{label}_{os.getpid()}"
            url = pg_database(name)
        try:
            if not args.keep:
                size = subunit2sql_like_store(url, days, args)
            print(f"{label}: {days} days x {args.jobs} jobs x {args.runs_per_day} runs/day x "
                  f"{args.tests} tests = {size['runs']} runs, {size['results']:,} results "
                  f"(written in {size['build_s']:.0f} s"
                  + (f"; copied from {args.keep}_{label} in {size['copy_s']:.0f} s"
                     if args.keep else "") + ")", flush=True)
            # three connections, the server processes whose CPU time is printed: the
            # rebuild's (health_api.ingest.rebuild), one of them the bench's own reads
            engine = make_engine(url, pool_size=3, max_overflow=0)
            cpu = ServerCpu(engine)
            # adoption: what `db upgrade` runs once it has adopted a database
            # whose runs nobody rolled up (subunit2sql_like_store left no rollups)
            t, c = time.time(), cpu()
            # (a kept store written before the newest migration gets it here, as
            # `db upgrade` would run it, and the build with it)
            report = upgrade(engine).rollups or roll_up_adopted_runs(engine)
            took = time.time() - t
            print(f"{label}: adoption (db upgrade) built rollups of {report['runs']} "
                  f"runs in {took:.1f} s: {size['results'] / took:,.0f} results/s"
                  f"{cpu.since(c, size['results'])}", flush=True)
            # what `db rebuild-rollups` runs, timed whole as the user waits for it: the
            # daily rollups with openstack-health's day parts right behind them
            t, c = time.time(), cpu()
            report = rebuild_rollups(engine)
            took = time.time() - t  # before reading the server's CPU, not after
            print(f"{label}: db rebuild-rollups: {report}{cpu.since(c, size['results'])}",
                  flush=True)
            rate = size["results"] / took
            print(f"{label}: db rebuild-rollups {took:.1f} s: {rate:,.0f} results/s "
                  f"({rate / ISSUE_REBUILD:.1f}x the issue's {ISSUE_REBUILD:,}/s; target "
                  f"{TARGET_REBUILD:,}: {'met' if rate >= TARGET_REBUILD else 'NOT met'})",
                  flush=True)
            if label == "week" and args.baseline:
                t = time.time()
                python_rebuild(engine)
                base = time.time() - t
                print(f"{label}: baseline rebuild in Python (the previous code) {base:.1f} s: "
                      f"{size['results'] / base:,.0f} results/s; SQL build / Python: "
                      f"{base / took:.1f}x faster", flush=True)
                rollup_sql.build_all(engine)
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
            results[label] = time_routes(url, routes(engine), args.repeat)
            for path, f in results[label].items():
                verdict = ("" if label != "quarter" else
                           "  (<= 300 ms: met)" if f["cold"][1] <= TARGET_ROUTE_S else
                           "  (<= 300 ms: NOT met)")
                print(f"{label}: {path:<32} cold p50 {f['cold'][0] * 1000:7.1f} ms "
                      f"p95 {f['cold'][1] * 1000:7.1f} ms  warm p50 {f['warm'][0] * 1000:6.1f} ms "
                      f"p95 {f['warm'][1] * 1000:6.1f} ms{verdict}", flush=True)
            if label == "quarter":
                expire_days = days - args.expire_keep_days
                with engine.connect() as conn:
                    doomed = conn.execute(text(
                        "SELECT COUNT(*) FROM test_runs tr JOIN runs r ON r.id = tr.run_id "
                        "WHERE r.run_at < :cutoff"),
                        {"cutoff": END - dt.timedelta(days=args.expire_keep_days)}).scalar()
                answers, stop = [], threading.Event()
                reader = threading.Thread(target=_answer_meanwhile,
                                          args=(url, routes(engine), answers, stop))
                reader.start()
                t, c = time.time(), cpu()
                report = expire_runs(engine, days=args.expire_keep_days, now=END)
                took = time.time() - t
                print(f"quarter: db expire{cpu.since(c, doomed)}", flush=True)
                stop.set()
                reader.join()
                rate = doomed / took
                print(f"quarter: db expire of the oldest {expire_days} days: {report['runs']} "
                      f"runs, {report['test_runs']:,} results in {took:.1f} s: "
                      f"{rate:,.0f} results/s ({rate / ISSUE_EXPIRE:.1f}x the issue's "
                      f"{ISSUE_EXPIRE:,}/s; target {TARGET_EXPIRE:,}: "
                      f"{'met' if rate >= TARGET_EXPIRE else 'NOT met'})", flush=True)
                print(f"quarter: the API answered {len(answers)} v1 calls during the expire, "
                      f"slowest {max(answers, default=0) * 1000:.0f} ms", flush=True)
            engine.dispose()
        finally:
            drop_pg_database(name)
    if "week" in results and "quarter" in results:
        for path in results["week"]:
            w, q = results["week"][path]["cold"][0], results["quarter"][path]["cold"][0]
            print(f"quarter/week cold p50 {path:<32} {q / w:5.2f}")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def sqlite_ingest(args) -> None:
    from health_api.demo.streams import tempest_like_ids, write_stream
    exe = Path(sys.executable).with_name("ci-health")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "ci-health.db"
        url = f"sqlite:///{db}"
        subprocess.run([str(exe), "db", "upgrade", "--db", url], check=True, capture_output=True)
        probe = make_engine(url, read_only=True)
        server = subprocess.Popen([str(exe), "serve", "--db", url, "--port", str(args.port),
                                   "--workers", "1"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        served, stop, wal_max = [0], threading.Event(), [0]

        def reader():
            while not stop.is_set():
                try:
                    urllib.request.urlopen(
                        f"http://127.0.0.1:{args.port}/api/v1/jobs", timeout=30).read()
                    served[0] += 1
                except OSError:
                    time.sleep(0.2)
                wal_max[0] = max(wal_max[0], wal_size(probe))
        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        ids = tempest_like_ids(600)
        stream_path = Path(tmp) / "run.subunit"
        times, cpu = [], []
        try:
            for i in range(args.sqlite_runs):
                with stream_path.open("wb") as out:
                    write_stream(out, ids, seed=i, fail_every=50, traceback=True,
                                 start=dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
                                 + dt.timedelta(minutes=20 * i))
                t, used = time.time(), _children_cpu()
                subprocess.run([str(exe), "ingest", "subunit", "--db", url,
                                "--store-attachments", "--run-meta", f"build_name=job-{i % 30}",
                                str(stream_path)], check=True, capture_output=True)
                times.append(time.time() - t)
                cpu.append(_children_cpu() - used)
                wal_max[0] = max(wal_max[0], wal_size(probe))
                if (i + 1) % 100 == 0:
                    print(f"sqlite: {i + 1} runs, median of the last 25 "
                          f"{statistics.median(times[-25:]):.3f} s (CPU "
                          f"{statistics.median(cpu[-25:]):.3f} s), WAL max "
                          f"{wal_max[0] / 1e6:.1f} MB", flush=True)
        finally:
            stop.set()
            thread.join(timeout=30)
            server.terminate()
            server.wait()
        first, last = statistics.median(times[:25]), statistics.median(times[-25:])
        flat = last / first
        print(f"sqlite: {len(times)} ingest processes of 600 tests: median runs 1-25 "
              f"{first:.3f} s, runs {len(times) - 24}-{len(times)} {last:.3f} s, ratio "
              f"{flat:.2f} (target {TARGET_FLAT}: {'met' if flat <= TARGET_FLAT else 'NOT met'})"
              f"; WAL max {wal_max[0] / 1e6:.1f} MB (target < {TARGET_WAL / 1e6:.0f} MB: "
              f"{'met' if wal_max[0] < TARGET_WAL else 'NOT met'}); database "
              f"{db.stat().st_size / 1e6:.0f} MB; API answered {served[0]} /api/v1/jobs meanwhile")
        # user+sys of the ingest processes: what the run costs, less sensitive
        # than the wall time to the other work of a shared machine
        first, last = statistics.median(cpu[:25]), statistics.median(cpu[-25:])
        print(f"sqlite: CPU (user+sys) per ingest process: median runs 1-25 {first:.3f} s, "
              f"runs {len(cpu) - 24}-{len(cpu)} {last:.3f} s, ratio {last / first:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=30)
    parser.add_argument("--runs-per-day", type=int, default=20)
    parser.add_argument("--tests", type=int, default=1500)
    parser.add_argument("--week-days", type=int, default=7)
    parser.add_argument("--quarter-days", type=int, default=90)
    parser.add_argument("--expire-keep-days", type=int, default=60)
    parser.add_argument("--sqlite-runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--skip-stores", action="store_true")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false",
                        help="skip the previous rebuild (Python, batch by batch) on the week")
    parser.add_argument("--skip-sqlite-ingest", action="store_true")
    parser.add_argument("--keep", metavar="NAME",
                        help="write the stores once into databases NAME_week and "
                             "NAME_quarter, keep them, and measure copies of them")
    parser.add_argument("--only", choices=("week", "quarter"),
                        help="measure one of the two stores")
    parser.add_argument("--build-only", action="store_true",
                        help="with --keep: write the kept stores that are missing and exit "
                             "(so a quiet window is spent measuring, not writing)")
    parser.add_argument("--quick", action="store_true",
                        help="smaller stores and 100 SQLite runs: " + ", ".join(
                            f"{k}={v}" for k, v in QUICK.items()))
    args = parser.parse_args()
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    print(f"# bench/scale.py on {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    if args.build_only:
        if not args.keep:
            parser.error("--build-only needs --keep NAME")
        for label, days in (("week", args.week_days), ("quarter", args.quarter_days)):
            if not args.only or label == args.only:
                name, size = kept_store(f"{args.keep}_{label}", days, args)
                drop_pg_database(name)  # the copy to measure; made again when measuring
                print(f"{label}: {size['runs']} runs, {size['results']:,} results kept in "
                      f"{args.keep}_{label}", flush=True)
        return
    if not args.skip_sqlite_ingest:
        sqlite_ingest(args)
    if not args.skip_stores:
        stores(args)


if __name__ == "__main__":
    main()
