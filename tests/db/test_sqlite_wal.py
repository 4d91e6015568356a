"""SQLite's WAL stays bounded: closed at exit, checkpointed after writes even
while readers keep reading, cut back after a writer was killed."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time

import sqlalchemy as sa

from health_api.db import session
from health_api.db.migrate import upgrade
from health_api.db.session import make_engine, wal_size

from streams import ingest, run_cli_process, stream

UTC = dt.timezone.utc


def _big_run(i: int, tests: int = 400) -> bytes:
    """A run whose writes fill a few hundred KB of WAL (tracebacks stored)."""
    start = dt.datetime(2026, 11, 1, tzinfo=UTC) + dt.timedelta(hours=i)
    return stream(*[(f"pkg.mod{n // 40}.Test.test_{n}", "fail" if n % 7 == 0 else "success",
                     0.5, None, b"Traceback: " + b"x" * 400 if n % 7 == 0 else None)
                    for n in range(tests)], start=start)


def _migrated(fresh_db) -> str:
    url = fresh_db("sqlite")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def test_each_ingest_process_leaves_no_wal(fresh_db, tmp_path):
    url = _migrated(fresh_db)
    path = sa.make_url(url).database
    for i in range(2):
        proc = run_cli_process("ingest", "subunit", "--db", url, "--store-attachments", "-",
                               input=_big_run(i))
        assert proc.returncode == 0, proc.stderr
        # the process closed its connections: SQLite checkpointed and removed the WAL
        assert not os.path.exists(path + "-wal") or os.path.getsize(path + "-wal") == 0


def test_wal_bounded_while_readers_read_and_after_a_killed_writer(fresh_db, monkeypatch):
    url = _migrated(fresh_db)
    # small bounds, so that a few runs cross them
    monkeypatch.setattr(session, "WAL_RESTART_BYTES", 128 * 1024)
    monkeypatch.setattr(session, "WAL_SIZE_LIMIT_BYTES", 64 * 1024)
    monkeypatch.setattr(session, "WAL_AUTOCHECKPOINT_PAGES", 1_000_000)  # only ours
    probe = make_engine(url, read_only=True)
    # A writer that died without closing its connection (killed, or os._exit)
    # leaves its WAL behind, un-checkpointed.
    path = sa.make_url(url).database
    subprocess.run([sys.executable, "-c", (
        "import os, sqlite3\n"
        f"c = sqlite3.connect({path!r}, isolation_level=None)\n"
        "c.execute('PRAGMA journal_mode=WAL'); c.execute('PRAGMA wal_autocheckpoint=0')\n"
        "c.execute('CREATE TABLE filler (x BLOB)')\n"
        "for _ in range(200): c.execute('INSERT INTO filler VALUES (zeroblob(4096))')\n"
        "os._exit(0)\n")], check=True, timeout=60)
    assert wal_size(probe) > 512 * 1024

    reads, stop = [0], threading.Event()

    def reader():
        engine = make_engine(url, read_only=True, poolclass=sa.pool.NullPool)
        while not stop.is_set():
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT COUNT(*) FROM test_runs").scalar()
            reads[0] += 1
        engine.dispose()
    thread = threading.Thread(target=reader)
    thread.start()
    sizes = []
    try:
        for i in range(4):
            ingest(url, _big_run(i), "--store-attachments")
            sizes.append(wal_size(probe))
    finally:
        stop.set()
        thread.join()
    assert reads[0] > 10
    # After every writer: checkpointed and truncated despite the readers. Without
    # the checkpoint after writes the WAL grows by ~1 MB a run (what it was).
    assert max(sizes) <= 64 * 1024, sizes
    with probe.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM runs").scalar() == 4
    probe.dispose()
