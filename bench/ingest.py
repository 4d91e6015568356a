#!/usr/bin/env python3
"""Ingest throughput: test results per second on SQLite, PostgreSQL and MariaDB.

    python bench/ingest.py [--engines sqlite,postgresql,mysql] [--tests 10000]
                           [--batch-runs 500] [--baseline] [--memory] [--gate-month]
                           [--no-parse-ahead]
    python bench/ingest.py --whole-process [--engines ...] [--runs 5] [--many 500]
                           [--sizes 10000,100000] [--s2s-large]

* one 10,000-test stream (tempest-like ids with attrs, 2% failures with
  tracebacks), ingested five times into a fresh database, each time with a
  new connection as a new ``ci-health ingest`` would: the first (cold)
  inserts every test, the next four (warm) find them; warm prints the
  median and the best of those four;
* a 500-run batch (500 streams of 200 tests, one process, one transaction each,
  parsed ahead in one child process as the CLI does with several files);
* --baseline: subunit2sql 1.10.0 from the compat venv (tools/compat-venv.sh)
  on a 1,000-test slice of the same stream (its rate on the whole stream is
  the same), into a fresh database and then again, and the ratios, cold to
  cold and warm to warm;
* --memory: peak RSS of `ci-health ingest` on a 200,000-test stream;
* --whole-process: whole ``ci-health ingest`` commands as users run them,
  beside subunit2sql on the same files (see bench/whole_process.py);
* --gate-month: wall time of `ci-health demo-data --days 30 --jobs 30
  --runs-per-day 20` on SQLite (~14M results; takes minutes).

Prints plain lines of figures. Servers: CI_HEALTH_TEST_PG / CI_HEALTH_TEST_MYSQL
as in the tests (defaults 127.0.0.1).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from health_api.db.migrate import upgrade  # noqa: E402
from health_api.db.session import make_engine  # noqa: E402
from health_api.demo.streams import tempest_like_ids, write_stream  # noqa: E402
from health_api.ingest.parallel import ParsedAhead  # noqa: E402
from health_api.ingest.service import (freeze_startup_heap, ingest_run,  # noqa: E402
                                        subunit_parser)
from health_api.ingest.catalog import TestIdCache  # noqa: E402
from health_api.ingest.writer import RunOptions  # noqa: E402

PG = os.environ.get("CI_HEALTH_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
MYSQL = os.environ.get("CI_HEALTH_TEST_MYSQL", "mysql://root@127.0.0.1:3306")
COMPAT = Path(os.environ.get("CI_HEALTH_COMPAT_VENV", REPO / ".compat-venv"))


#: appended to every database name (--db-suffix): benchmarks run side by side
DB_SUFFIX = ""


def fresh_url(kind: str, name: str, tmp: Path) -> str:
    name += DB_SUFFIX
    if kind == "sqlite":
        return f"sqlite:///{tmp / (name + '.db')}"
    server = PG if kind == "postgresql" else MYSQL
    admin = make_engine(f"{server}/{'postgres' if kind == 'postgresql' else ''}",
                        isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return f"{server}/{name}"


def make_stream(count: int, seed: int = 0) -> bytes:
    out = io.BytesIO()
    write_stream(out, tempest_like_ids(count, seed=seed), seed=seed, fail_every=50,
                 traceback=True)
    return out.getvalue()


def ingest_rate(url: str, streams: list[Path], tests_per_stream: int,
                meta=(("build_name", "bench"),), parse_ahead: bool = True) -> float:
    """Files, as ``ci-health ingest subunit FILE...`` ingests them: one file
    parsed in a child process if large, several parsed ahead in one child."""
    engine = make_engine(url)
    parse = subunit_parser()
    cache = TestIdCache()
    freeze_startup_heap()  # as the CLI does
    names = [str(path) for path in streams]
    start = time.perf_counter()
    ahead_wanted = parse_ahead and len(names) > 1
    with ParsedAhead(parse.here, names) if ahead_wanted else contextlib.nullcontext() as ahead:
        for name in names:
            with open(name, "rb") as handle:
                ingest_run(engine, handle, name, ahead.parse if ahead else parse,
                           RunOptions(metadata=list(meta)), cache=cache)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return tests_per_stream * len(streams) / elapsed


def parse_rates(data: bytes, tests: int) -> tuple[float, float]:
    """The ceilings in this run: python-subunit decoding into a StreamResult
    that does nothing, and our parser (records assembled), both in process."""
    import subunit
    import testtools

    from health_api.ingest.subunit import parse_subunit

    def best(fn) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return tests / min(times)
    decode = best(lambda: subunit.ByteStreamToStreamResult(io.BytesIO(data)).run(
        testtools.StreamResult()))
    ours = best(lambda: parse_subunit(io.BytesIO(data), lambda result: None, source_name="bench"))
    return decode, ours


def baseline(kind: str, url: str, data: bytes, tests: int, tmp: Path
             ) -> tuple[float, float] | None:
    """subunit2sql's rates: into the fresh database at ``url``, then again."""
    exe = COMPAT / "bin" / "subunit2sql"
    if not exe.exists():
        print("baseline: compat venv missing; run tools/compat-venv.sh")
        return None
    if kind == "postgresql":
        url = url.replace("postgresql://", "postgresql+psycopg2://")
    elif kind == "mysql":
        print("baseline: subunit2sql cannot build its schema on MariaDB 10.11; skipped")
        return None
    subprocess.run([str(COMPAT / "bin" / "subunit2sql-db-manage"), "--database-connection",
                    url, "upgrade", "head"], check=True, capture_output=True)
    path = tmp / "baseline.subunit"
    path.write_bytes(data)
    rates = []
    for _ in range(2):
        start = time.perf_counter()
        subprocess.run([str(exe), "--database-connection", url, str(path)], check=True,
                       capture_output=True)
        rates.append(tests / (time.perf_counter() - start))
    return rates[0], rates[1]


def peak_rss_mb(url: str, tests: int, tmp: Path) -> float:
    path = tmp / "huge.subunit"
    with path.open("wb") as out:
        write_stream(out, tempest_like_ids(tests, seed=7), fail_every=50, traceback=True)
    size = path.stat().st_size / 1e6
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "health_api.cli", "ingest", "subunit", "--db", url,
                    str(path)], check=True, capture_output=True)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"memory: {tests} tests ({size:.0f} MB stream) peak RSS {peak / 1024:.0f} MB "
          f"(max of children so far: {max(peak, before) / 1024:.0f} MB), "
          f"{tests / elapsed:,.0f} results/s including start-up")
    return peak / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engines", default="sqlite,postgresql,mysql")
    ap.add_argument("--tests", type=int, default=10_000)
    ap.add_argument("--batch-runs", type=int, default=500)
    ap.add_argument("--baseline", action="store_true")
    ap.add_argument("--memory", action="store_true")
    ap.add_argument("--gate-month", action="store_true")
    ap.add_argument("--no-parse-ahead", action="store_true",
                    help="batch: parse each file in turn in this process (as before "
                         "several files were parsed ahead in a child)")
    ap.add_argument("--whole-process", action="store_true",
                    help="time whole commands instead (see bench/whole_process.py)")
    ap.add_argument("--runs", type=int, default=5, help="--whole-process: runs per figure")
    ap.add_argument("--many", type=int, default=500,
                    help="--whole-process: streams of 1,500 shared tests in one command")
    ap.add_argument("--sizes", default="10000,100000",
                    help="--whole-process: large stream sizes")
    ap.add_argument("--s2s-large", action="store_true",
                    help="--whole-process: also time subunit2sql on the 10k stream")
    ap.add_argument("--s2s-engines", default=None,
                    help="--whole-process: engines to time subunit2sql on (default: all it can)")
    ap.add_argument("--db-suffix", default="",
                    help="append this to the names of the databases created (and kept), "
                         "e.g. a branch name, so that benchmarks running at the same time "
                         "do not drop each other's")
    args = ap.parse_args()
    if not args.db_suffix.replace("_", "").isalnum() and args.db_suffix:
        ap.error("--db-suffix: letters, digits and _ only")
    global DB_SUFFIX
    DB_SUFFIX = args.db_suffix
    tmp = Path(tempfile.mkdtemp(prefix="cih-bench-"))
    if args.whole_process:
        import whole_process
        whole_process.run(args.engines.split(","), fresh_url, upgrade, make_engine, tmp, COMPAT,
                          runs=args.runs, many=args.many, s2s_large=args.s2s_large,
                          sizes=tuple(int(s) for s in args.sizes.split(",") if s),
                          s2s_engines=(tuple(args.s2s_engines.split(","))
                                       if args.s2s_engines is not None else None))
        return
    big_data = make_stream(args.tests)
    big = tmp / "big.subunit"
    big.write_bytes(big_data)
    small = []
    for seed in range(args.batch_runs):
        small.append(tmp / f"small-{seed}.subunit")
        small[-1].write_bytes(make_stream(200, seed=seed))
    print(f"stream: {args.tests} tests, {len(big_data) / 1e6:.1f} MB; batch: {args.batch_runs} "
          f"runs x 200 tests")
    decode, parsed = parse_rates(big_data, args.tests)
    print(f"ceilings on this machine: python-subunit decode alone {decode:,.0f}/s, "
          f"our parser (decode + records) {parsed:,.0f}/s")
    for kind in args.engines.split(","):
        url = fresh_url(kind, "cih_bench", tmp)
        upgrade(make_engine(url))
        cold, *warm = [ingest_rate(url, [big], args.tests) for _ in range(5)]
        batch = ingest_rate(url, small, 200, parse_ahead=not args.no_parse_ahead)
        warm_median = statistics.median(warm)
        line = (f"{kind:10s} 10k-stream: cold {cold:8,.0f}/s  warm {warm_median:8,.0f}/s"
                f" (best {max(warm):,.0f}/s, {max(warm) / decode:.0%} of decode alone)"
                f"   500-run batch: {batch:8,.0f}/s")
        if args.baseline:
            slice_tests = 1000
            b_url = fresh_url(kind, "cih_bench_s2s", tmp)
            rates = baseline(kind, b_url, make_stream(slice_tests), slice_tests, tmp)
            if rates:
                line += (f"   subunit2sql: cold {rates[0]:,.0f}/s, warm {rates[1]:,.0f}/s;"
                         f" ratio x{cold / rates[0]:,.0f} cold, "
                         f"x{warm_median / rates[1]:,.0f} warm")
        print(line, flush=True)
        if args.memory and kind == "sqlite":
            peak_rss_mb(url, 200_000, tmp)
    if args.gate_month:
        url = fresh_url("sqlite", "cih_gate_month", tmp)
        upgrade(make_engine(url))
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "health_api.cli", "demo-data", "--db", url,
                              "--days", "30", "--jobs", "30", "--runs-per-day", "20",
                              "--quiet"], check=True, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        print(f"gate-month demo-data on SQLite: {elapsed / 60:.1f} min  {out.stdout.strip()}")


if __name__ == "__main__":
    main()
