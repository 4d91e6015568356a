#!/usr/bin/env python3
"""What SQLite's late regime costs, and which part of the schema it comes from.

    python bench/sqlite_regimes.py [--late-runs 400] [--measure 12] [--page-size N]

Issue 20 asks for the 1,000th ingest of 600 tests to cost within 15% of the
10th (bench/scale.py measures that). docs/scaling.md ("SQLite: what still
grows") explains why it does not: four indexes of subunit2sql's ``test_runs``
lead with ``test_id``, so once each test's entries fill leaf pages of their
own, every run dirties one leaf per test per index. This script measures
that claim on three stores, one ``ci-health ingest --store-attachments``
process per run as a CI job runs it, the same streams into each, in turns
(so a change in the machine's speed falls on all three alike):

* early: a new store after 10 runs, the regime of "the 10th run";
* late: a store after ``--late-runs`` runs;
* late, lean: a copy of the late store without three of the four
  test-first indexes (``ix_test_runs_test_id``, ``ix_test_id_status``,
  ``ix_test_id_start_time``; ``uq_test_runs`` stays), which subunit2sql's
  migrations create and its schema must keep: a measurement, not a proposal.

Prints the median wall and CPU (user + system) time of ``--measure`` ingests
into each and the ratios to the early store. ``--page-size`` builds the
stores with another SQLite page size (default: SQLite's, 4096).
"""
from __future__ import annotations

import argparse
import datetime as dt
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from health_api.demo.streams import tempest_like_ids, write_stream  # noqa: E402

EXE = Path(sys.executable).with_name("ci-health")
#: the test-first indexes of test_runs that the lean copy goes without
DROPPED = ("ix_test_runs_test_id", "ix_test_id_status", "ix_test_id_start_time")
START = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _new_store(path: Path, page_size: int | None) -> str:
    if page_size:  # the page size is fixed when the first page is written
        conn = sqlite3.connect(path)
        conn.execute(f"PRAGMA page_size={int(page_size)}")
        conn.execute("CREATE TABLE _page_size (a)")
        conn.execute("DROP TABLE _page_size")
        conn.commit()
        conn.close()
    url = f"sqlite:///{path}"
    subprocess.run([str(EXE), "db", "upgrade", "--db", url], check=True, capture_output=True)
    return url


def _ingest(url: str, stream: Path, run: int) -> tuple[float, float]:
    cpu, start = _cpu(), time.perf_counter()
    subprocess.run([str(EXE), "ingest", "subunit", "--db", url, "--store-attachments",
                    "--run-meta", f"build_name=job-{run % 30}", str(stream)],
                   check=True, capture_output=True)
    return time.perf_counter() - start, _cpu() - cpu


def _stream(tmp: Path, ids: list[str], run: int) -> Path:
    path = tmp / "run.subunit"
    with path.open("wb") as out:
        write_stream(out, ids, seed=run, fail_every=50, traceback=True,
                     start=START + dt.timedelta(minutes=20 * run))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--late-runs", type=int, default=400)
    parser.add_argument("--measure", type=int, default=12)
    parser.add_argument("--page-size", type=int, default=None)
    args = parser.parse_args()
    ids = tempest_like_ids(600)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        early = _new_store(tmp / "early.db", args.page_size)
        late_path = tmp / "late.db"
        late = _new_store(late_path, args.page_size)
        for run in range(args.late_runs):
            stream = _stream(tmp, ids, run)
            _ingest(late, stream, run)
            if run < 10:
                _ingest(early, stream, run)
            if (run + 1) % 100 == 0:
                print(f"late store: {run + 1} runs written", flush=True)
        lean_path = tmp / "lean.db"
        shutil.copyfile(late_path, lean_path)  # no WAL left: every process closed cleanly
        conn = sqlite3.connect(lean_path)
        for name in DROPPED:
            conn.execute(f"DROP INDEX {name}")
        conn.commit()
        conn.close()
        stores = {"early (10 runs)": early, f"late ({args.late_runs} runs)": late,
                  "late, lean": f"sqlite:///{lean_path}"}
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in stores}
        for k in range(args.measure):
            run = args.late_runs + k
            stream = _stream(tmp, ids, run)
            order = list(stores) if k % 2 == 0 else list(stores)[::-1]
            for name in order:
                times[name].append(_ingest(stores[name], stream, run))
        page = f"page size {args.page_size}" if args.page_size else "SQLite's page size"
        print(f"{args.measure} ingests of 600 tests into each store, in turns ({page}):")
        base_wall = statistics.median(t[0] for t in times["early (10 runs)"])
        base_cpu = statistics.median(t[1] for t in times["early (10 runs)"])
        for name, got in times.items():
            wall = statistics.median(t[0] for t in got)
            cpu = statistics.median(t[1] for t in got)
            print(f"  {name:18s} median {wall:.3f} s (x{wall / base_wall:.2f}), "
                  f"CPU {cpu:.3f} s (x{cpu / base_cpu:.2f})")


if __name__ == "__main__":
    main()
